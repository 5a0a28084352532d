//! `ota validate` and `ota tags`: no upload, nothing created.

use crate::args::{GlobalArgs, TagsArgs, ValidateArgs};
use crate::aws::{Clients, Pipeline};
use crate::error::CliError;
use crate::placement::{place, read_flags, Placement};
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
    let prefix = pipeline.map_or(DEFAULT_MANIFEST_PREFIX, |p| p.manifest_prefix());
    let (placed, tag_spec, from_manifest) =
        read_flags(tags, prefix, a.manifest_file.is_some(), &mut problems);
    let manifest_spec = match from_manifest {
        Some(spec) => spec,
        None => manifest_spec(a, &online, &bucket, &tag_spec, &mut problems).await?,
    };
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
    let warnings = match &online {
        Some((c, _)) => {
            ota_aws::check_signing(&c.signer, &req, &merged, &target.source())
                .await?
                .device_warnings
        }
        None => offline_document_check(&req, &merged, &target)?,
    };
    let mut request = preview(&req, &target)?;
    if merged.job_id.is_none() {
        // The default id hashes the version id, known only after the upload.
        request["jobId"] = json!(format!(
            "{}<hash of bucket, key and version>",
            ota_core::ids::ID_PREFIX
        ));
    }
    let mut out = json!({
        "createJobRequest": request,
        "tagging": ota_core::tags::tagging_string(&placed.tags),
        "manifest": written(&placed),
        "deviceWarnings": warnings.iter().map(ToString::to_string).collect::<Vec<_>>(),
    });
    if let Some(r) = &req.package_registration {
        // What create-job will register (ota_aws::package_catalog), before
        // the job: the attributes are known only once the firmware is signed.
        out["packageVersion"] = json!({
            "packageName": r.package_name,
            "versionName": r.version_name,
            "arn": r.arn,
            "makeDefault": r.make_default,
            "documentValues": req.document_values.as_str(),
            "attributes": ota_core::package_version::ATTRIBUTE_NAMES,
        });
    }
    Ok(out)
}

/// The document checks start-signing makes, without the pipeline: the
/// profile's certname is unknown offline, so a stand-in of the length the
/// preview shows takes its place.
fn offline_document_check(
    req: &ota_core::OtaRequest,
    merged: &RequestSpec,
    target: &Target<'_>,
) -> Result<Vec<ota_core::devices::Finding>, CliError> {
    let (certfile, field) = match &req.signing {
        ota_core::Signing::PreSigned { certfile, .. } => {
            (certfile.as_str(), merged.source_of("certfile"))
        }
        ota_core::Signing::Unsigned => ("", merged.source_of("format")),
        ota_core::Signing::Profile { .. } => (
            crate::request::CERTNAME_PLACEHOLDER,
            merged.source_of("profile"),
        ),
    };
    Ok(ota_core::document_check::check_document(
        req,
        merged,
        &target.source(),
        certfile,
        &field,
    )?)
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
    let (tags, mut p) = tags_from_flags(&a.request);
    let (placed, problems) = place(tags, &a.manifest_prefix, false);
    p.extend(problems);
    // The tag rules and each value's grammar; whether the whole request is
    // complete (targets, a profile) is `ota validate`'s job.
    let (_, problems) = ota_core::tags::parse_tags(&placed.tags);
    p.extend(problems);
    if !p.is_empty() {
        return Err(CliError::Invalid(p));
    }
    Ok(json!({
        "tags": placed.tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>(),
        "tagging": ota_core::tags::tagging_string(&placed.tags),
        "manifest": written(&placed),
    }))
}

/// The manifest the command writes for the flags, if they need one: its key
/// and content (`null` otherwise).
fn written(placed: &Placement) -> Value {
    match &placed.manifest {
        Some(m) => json!({
            "key": m.key,
            "body": serde_json::from_str::<Value>(&m.text).unwrap_or(Value::Null),
        }),
        None => Value::Null,
    }
}

/// The stack parameter ManifestPrefix's own default.
const DEFAULT_MANIFEST_PREFIX: &str = "manifests/";
