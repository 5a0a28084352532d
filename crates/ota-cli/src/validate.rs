//! `ota validate` and `ota tags`: no upload, nothing created.

use crate::args::{GlobalArgs, TagsArgs, ValidateArgs};
use crate::aws::{Clients, Pipeline};
use crate::error::CliError;
use crate::request::{
    merge_defaults, preview, resolve, tags_from_flags, Target, VERSION_PLACEHOLDER,
};
use crate::upload::default_key;
use ota_core::{Problems, RequestSpec};
use serde_json::{json, Value};

/// The deployed pipeline and clients for it, when `ota validate` runs online.
type Online = Option<(Clients, Pipeline)>;

pub async fn validate(g: &GlobalArgs, a: &ValidateArgs) -> Result<Value, CliError> {
    // Offline unless asked: with --state-machine (or OTA_STATE_MACHINE_ARN)
    // the deployed pipeline supplies the bucket, prefixes and stack defaults,
    // and the signing profile is checked as start-signing checks it.
    let online: Online = match &g.state_machine {
        Some(_) => {
            let c = Clients::new(g).await?;
            let p = c.pipeline(g).await?;
            Some((c, p))
        }
        None => None,
    };
    let pipeline = online.as_ref().map(|(_, p)| p);
    let (bucket, key) = bucket_and_key(a, pipeline)?;
    let size = file_size(a)?;
    let (tags, mut problems) = tags_from_flags(&a.request);
    let (tag_spec, p) = ota_core::tags::parse_tags(&tags);
    problems.extend(p);
    let manifest_spec = manifest_spec(a, &online, &bucket, &tag_spec, &mut problems).await?;
    let region = region(g, &online);
    let target = Target {
        bucket: &bucket,
        key: &key,
        version_id: VERSION_PLACEHOLDER,
        region: &region,
        size,
    };
    let defaults = merge_defaults(&a.defaults, pipeline.map(|p| &p.defaults));
    let (req, merged) = resolve(tag_spec, manifest_spec, &defaults, &target, problems)?;
    if let Some((c, _)) = &online {
        ota_aws::check_signing(&c.signer, &req, &merged, &target.source()).await?;
    }
    let mut request = preview(&req, &target)?;
    if merged.job_id.is_none() {
        // The default id hashes the version id, known only after the upload.
        request["jobId"] = json!(format!(
            "{}<hash of bucket, key and version>",
            ota_core::ids::ID_PREFIX
        ));
    }
    Ok(json!({
        "createJobRequest": request,
        "tagging": ota_core::tags::tagging_string(&tags),
    }))
}

/// The bucket and key the upload would go to: given, or the pipeline's.
fn bucket_and_key(
    a: &ValidateArgs,
    pipeline: Option<&Pipeline>,
) -> Result<(String, String), CliError> {
    let prefix = pipeline.and_then(|p| p.upload_prefix.as_deref());
    let key = match (&a.key, &a.file) {
        (Some(k), _) => k.clone(),
        (None, Some(f)) => default_key(f, prefix)?,
        (None, None) => default_key(std::path::Path::new("firmware.bin"), prefix)?,
    };
    if let Some(p) = pipeline {
        p.check_key(&key)?;
    }
    let bucket = match pipeline {
        Some(p) => p.bucket(a.bucket.as_ref())?,
        None => a.bucket.clone().unwrap_or_else(|| "BUCKET".into()),
    };
    Ok((bucket, key))
}

/// The firmware's size, 0 without a file.
fn file_size(a: &ValidateArgs) -> Result<u64, CliError> {
    match &a.file {
        Some(f) => Ok(std::fs::metadata(f)
            .map_err(|source| CliError::Io {
                path: f.display().to_string(),
                source,
            })?
            .len()),
        None => Ok(0),
    }
}

/// The manifest: a local file (`--manifest-file`), or the one the tags name,
/// read from the deployed pipeline's bucket.
async fn manifest_spec(
    a: &ValidateArgs,
    online: &Online,
    bucket: &str,
    tag_spec: &RequestSpec,
    problems: &mut Problems,
) -> Result<RequestSpec, CliError> {
    match (&a.manifest_file, online) {
        (Some(path), _) => {
            let bytes = std::fs::read(path).map_err(|source| CliError::Io {
                path: path.display().to_string(),
                source,
            })?;
            let (spec, p) = ota_core::manifest::parse_manifest(&bytes, &path.display().to_string());
            problems.extend(p);
            Ok(spec)
        }
        (None, Some((c, pipeline))) => Ok(ota_aws::read_named_manifest(
            &c.s3,
            bucket,
            tag_spec.manifest.as_deref(),
            pipeline.manifest_prefix(),
            None,
            problems,
        )
        .await?
        .0),
        (None, None) if tag_spec.manifest.is_some() => Err(CliError::Usage(
            "--manifest names a manifest in the bucket: pass --state-machine to read it from the deployed pipeline, or --manifest-file to check a local copy".into(),
        )),
        (None, None) => Ok(RequestSpec::default()),
    }
}

/// The region. Offline, no AWS call: it only shapes ARNs and URLs.
fn region(g: &GlobalArgs, online: &Online) -> String {
    match online {
        Some((c, _)) => c.region.clone(),
        None => g
            .region
            .clone()
            .or_else(|| std::env::var("AWS_REGION").ok())
            .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
            .unwrap_or_else(|| "us-east-1".into()),
    }
}

pub fn tags(a: &TagsArgs) -> Result<Value, CliError> {
    let (tags, problems) = tags_from_flags(&a.request);
    // The tag rules and each value's grammar; whether the whole request is
    // complete (targets, a profile) is `ota validate`'s job.
    let (_, mut p) = ota_core::tags::parse_tags(&tags);
    p.extend(problems);
    if !p.is_empty() {
        return Err(CliError::Invalid(p));
    }
    Ok(json!({
        "tags": tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>(),
        "tagging": ota_core::tags::tagging_string(&tags),
    }))
}
