//! `ota upload`: validate, upload with the tags (atomically: the tags are part
//! of the PutObject or CreateMultipartUpload; [`put`]), then follow the
//! execution the upload started until the job exists ([`follow`]).

mod follow;
mod put;

pub use follow::{follow, follow_started};
pub use put::{put, put_manifest, MULTIPART_THRESHOLD, PART_SIZE};

use crate::args::{GlobalArgs, UploadArgs};
use crate::aws::Clients;
use crate::error::CliError;
use crate::request::{merge_defaults, resolve, tags_from_flags, Target, VERSION_PLACEHOLDER};
use crate::status::Report;
use std::time::Duration;

/// The default key for a file: the upload prefix + its name.
pub fn default_key(
    file: &std::path::Path,
    upload_prefix: Option<&str>,
) -> Result<String, CliError> {
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| CliError::Usage(format!("{}: not a file name", file.display())))?;
    // The stack parameter UploadPrefix's own default.
    Ok(format!("{}{name}", upload_prefix.unwrap_or("firmware/")))
}

pub async fn run(g: &GlobalArgs, a: &UploadArgs) -> Result<Report, CliError> {
    let path = a.file.display().to_string();
    let io = |source| CliError::Io {
        path: path.clone(),
        source,
    };
    // One open file: its size is the size checked and the size sent.
    let mut file = std::fs::File::open(&a.file).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    let c = Clients::new(g).await?;
    // The pipeline is found before anything is uploaded: no pipeline, no
    // upload. It also says where to upload, its prefixes and defaults.
    let pipeline = c.pipeline(g).await?;
    let bucket = pipeline.bucket(a.bucket.as_ref())?;
    let key = match &a.key {
        Some(k) => k.clone(),
        None => default_key(&a.file, pipeline.upload_prefix.as_deref())?,
    };
    pipeline.check_key(&key)?;
    // What start-signing refuses first: an empty file or a folder key.
    ota_core::event::check_is_firmware(&bucket, &key, size)?;

    // Everything start-signing decides before it signs, decided here before
    // anything is uploaded: the tags, the manifest they name, the stack
    // defaults, the signing profile and whether the job document can fit.
    let (tags, mut problems) = tags_from_flags(&a.request);
    let (placed, tag_spec, written) =
        crate::placement::read_flags(tags, pipeline.manifest_prefix(), false, &mut problems);
    let manifest_spec = match written {
        Some(spec) => spec,
        // The current version: the upload that follows is what the
        // pipeline will read it as of.
        None => {
            ota_aws::read_named_manifest(
                &c.s3,
                &bucket,
                tag_spec.manifest.as_deref(),
                pipeline.manifest_prefix(),
                None,
                &mut problems,
            )
            .await?
            .0
        }
    };
    let target = Target {
        bucket: &bucket,
        key: &key,
        version_id: VERSION_PLACEHOLDER,
        region: &c.region,
        size,
    };
    let defaults = merge_defaults(&a.defaults, Some(&pipeline.defaults));
    let (request, merged) = resolve(tag_spec, manifest_spec, &defaults, &target, problems)?;
    let checked = ota_aws::check_signing(&c.signer, &request, &merged, &target.source()).await?;
    // On stderr, before the upload: the pipeline logs the same warnings and
    // records them on the execution's output.
    crate::print_device_warnings(&checked.device_warnings);

    if let Some(m) = &placed.manifest {
        put_manifest(&c, &bucket, m).await?;
        eprintln!(
            "ota: the flags need more than {} tags (S3's limit per object): their settings are in the manifest s3://{bucket}/{}, which the upload names with ota:manifest",
            ota_core::tags::MAX_TAGS,
            m.key
        );
    }
    let tagging = ota_core::tags::tagging_string(&placed.tags);
    let up = put(&c, &bucket, &key, &mut file, size, &tagging).await?;
    if a.no_wait {
        return Ok(Report::uploaded(&up));
    }
    // Long enough for the slowest signer the pipeline itself waits for.
    let within = a.wait_timeout.unwrap_or(
        pipeline
            .max_signing_wait_seconds
            .unwrap_or(DEFAULT_MAX_SIGNING_WAIT_SECONDS)
            + 600,
    );
    follow(
        &c,
        &pipeline.state_machine,
        &up,
        Duration::from_secs(within),
    )
    .await
}

/// The stack parameter MaxSigningWaitSeconds' own default.
pub const DEFAULT_MAX_SIGNING_WAIT_SECONDS: u64 = 900;
