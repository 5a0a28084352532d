//! Reading the manifest an upload's `ota:manifest` tag names, from the
//! firmware bucket: start-signing reads it before signing, and the `ota`
//! command before it uploads, with this one function.

use crate::sdk_error::{classify, is_not_found};
use ota_core::manifest::{parse_manifest, MAX_MANIFEST_BYTES};
use ota_core::{OtaError, Problems, RequestSpec};

/// The manifest the tags name (`manifest`), read from the bucket and parsed;
/// its problems (outside the manifest prefix, missing, too large, invalid)
/// go into `problems`. An AWS failure other than "not found" is an error.
pub async fn read_named_manifest(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    manifest: Option<&str>,
    manifest_prefix: &str,
    problems: &mut Problems,
) -> Result<RequestSpec, OtaError> {
    let Some(m) = manifest else {
        return Ok(RequestSpec::default());
    };
    if !m.starts_with(manifest_prefix) {
        problems.push(
            "ota:manifest",
            format!("'{m}' is not under the manifest prefix {manifest_prefix}"),
        );
        return Ok(RequestSpec::default());
    }
    match read_manifest(s3, bucket, m).await? {
        Ok(bytes) => {
            let (spec, p) = parse_manifest(&bytes, m);
            problems.extend(p);
            Ok(spec)
        }
        Err(problem) => {
            problems.push("ota:manifest", problem);
            Ok(RequestSpec::default())
        }
    }
}

/// The manifest's bytes, `Ok(Err(problem))` when the user named a manifest
/// that cannot be used, `Err` for a failure worth retrying or reporting as is.
/// "Does not exist" covers a missing key and a missing bucket alike, which
/// GetObject's model does not both name: S3's codes decide (`is_not_found`).
async fn read_manifest(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Result<Result<Vec<u8>, String>, OtaError> {
    let out = match s3.get_object().bucket(bucket).key(key).send().await {
        Ok(o) => o,
        Err(e) if is_not_found(&e) => {
            return Ok(Err(format!("s3://{bucket}/{key} does not exist")))
        }
        Err(e) => return Err(classify("GetObject (manifest)", &e)),
    };
    if out.content_length().unwrap_or(0) > MAX_MANIFEST_BYTES as i64 {
        return Ok(Err(format!(
            "s3://{bucket}/{key} is {} bytes; a manifest is at most {MAX_MANIFEST_BYTES}",
            out.content_length().unwrap_or(0)
        )));
    }
    let mut body = out.body;
    let mut bytes = Vec::new();
    while let Some(chunk) = body.try_next().await.map_err(|e| {
        OtaError::ServiceUnavailable(format!("reading manifest s3://{bucket}/{key}: {e}"))
    })? {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > MAX_MANIFEST_BYTES {
            return Ok(Err(format!(
                "s3://{bucket}/{key} is larger than {MAX_MANIFEST_BYTES} bytes"
            )));
        }
    }
    Ok(Ok(bytes))
}
