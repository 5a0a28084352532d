//! `ota validate` and `ota tags`: no upload, nothing created.

use crate::args::{GlobalArgs, TagsArgs, ValidateArgs};
use crate::aws::Clients;
use crate::error::{aws, CliError};
use crate::request::{merge_defaults, preview, tags_from_flags, validate_request, Target};
use crate::upload::default_key;
use serde_json::{json, Value};

/// The manifest a request names, read from the bucket as start-signing reads
/// it; a missing one is a problem with `ota:manifest`.
pub async fn read_manifest(
    c: &Clients,
    bucket: &str,
    key: &str,
) -> Result<(Vec<u8>, String), CliError> {
    match c.s3.get_object().bucket(bucket).key(key).send().await {
        Ok(out) => {
            let bytes = out.body.collect().await.map_err(|e| CliError::Aws {
                operation: "GetObject",
                message: e.to_string(),
            })?;
            Ok((bytes.to_vec(), key.to_string()))
        }
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => {
            let mut p = ota_core::error::Problems::default();
            p.push(
                "ota:manifest",
                format!("s3://{bucket}/{key} does not exist; upload the manifest first"),
            );
            Err(CliError::Invalid(p))
        }
        Err(e) => Err(aws("GetObject")(e)),
    }
}

pub async fn validate(g: &GlobalArgs, a: &ValidateArgs) -> Result<Value, CliError> {
    // Offline unless asked: with --state-machine (or OTA_STATE_MACHINE_ARN)
    // the deployed pipeline supplies the bucket, prefix and stack defaults.
    let pipeline = match &g.state_machine {
        Some(_) => Some(Clients::new(g).await?.pipeline(g).await?),
        None => None,
    };
    let prefix = pipeline.as_ref().and_then(|p| p.upload_prefix.as_deref());
    let key = match (&a.key, &a.file) {
        (Some(k), _) => k.clone(),
        (None, Some(f)) => default_key(f, prefix)?,
        (None, None) => default_key(std::path::Path::new("firmware.bin"), prefix)?,
    };
    let defaults = merge_defaults(&a.defaults, pipeline.as_ref().map(|p| &p.defaults));
    let given_bucket = a
        .bucket
        .clone()
        .or_else(|| pipeline.as_ref().and_then(|p| p.bucket.clone()));
    let size = match &a.file {
        Some(f) => std::fs::metadata(f)
            .map_err(|source| CliError::Io {
                path: f.display().to_string(),
                source,
            })?
            .len(),
        None => 0,
    };
    let (tags, problems) = tags_from_flags(&a.request);
    let manifest = match (&a.manifest_file, &a.request.manifest, &given_bucket) {
        (Some(path), _, _) => {
            let bytes = std::fs::read(path).map_err(|source| CliError::Io {
                path: path.display().to_string(),
                source,
            })?;
            Some((bytes, path.display().to_string()))
        }
        (None, Some(m), Some(bucket)) => {
            let c = Clients::new(g).await?;
            Some(read_manifest(&c, bucket, m).await?)
        }
        (None, Some(_), None) => {
            return Err(CliError::Usage(
                "--manifest names a manifest in the bucket: pass --bucket to read it, or --manifest-file to check a local copy".into(),
            ))
        }
        (None, None, _) => None,
    };
    // Validation needs no AWS call; the region only shapes ARNs and URLs.
    let region = g
        .region
        .clone()
        .or_else(|| std::env::var("AWS_REGION").ok())
        .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
        .unwrap_or_else(|| "us-east-1".into());
    let bucket = given_bucket.unwrap_or_else(|| "BUCKET".into());
    let target = Target {
        bucket: &bucket,
        key: &key,
        version_id: "VERSION_ID",
        region: &region,
    };
    let manifest_ref = manifest.as_ref().map(|(b, n)| (b.as_slice(), n.as_str()));
    let (req, spec) = validate_request(&tags, manifest_ref, &defaults, &target, problems)?;
    let mut request = preview(&req, &target, size)?;
    if spec.job_id.is_none() {
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
