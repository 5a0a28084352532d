//! Reading the manifest an upload's `ota:manifest` tag names, from the
//! firmware bucket: start-signing reads it before signing, and the `ota`
//! command before it uploads, with this one function.
//!
//! The pipeline reads the manifest as it was when the firmware was uploaded
//! (`as_of`), not as it is when the run gets to it: two runs of one upload
//! (a duplicate event, a retried step) then read the same version whatever
//! was written to the manifest in between, and the run records which version
//! that was. S3 lists versions with their LastModified and EventBridge gives
//! the upload's time, both to the second, so a manifest written in the same
//! second as the firmware counts as written before it.

use crate::sdk_error::{classify, is_not_found};
use ota_core::manifest::{parse_manifest, MAX_MANIFEST_BYTES};
use ota_core::{OtaError, Problems, RequestSpec};
use time::OffsetDateTime;

/// The manifest version a run read.
pub type ManifestVersion = ota_core::state::S3ObjectVersion;

/// The manifest the tags name (`manifest`), read from the bucket and parsed:
/// its current version (the `ota` command, before an upload), or with
/// `as_of` the version that was current then (the pipeline, at the upload's
/// time). Its problems (outside the manifest prefix, missing, too large,
/// invalid) go into `problems`; an AWS failure other than "not found" is an
/// error. Returns the spec and the version read.
pub async fn read_named_manifest(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    manifest: Option<&str>,
    manifest_prefix: &str,
    as_of: Option<OffsetDateTime>,
    problems: &mut Problems,
) -> Result<(RequestSpec, Option<ManifestVersion>), OtaError> {
    let Some(m) = manifest else {
        return Ok((RequestSpec::default(), None));
    };
    if !m.starts_with(manifest_prefix) {
        problems.push(
            "ota:manifest",
            format!("'{m}' is not under the manifest prefix {manifest_prefix}"),
        );
        return Ok((RequestSpec::default(), None));
    }
    let version = match as_of {
        None => None,
        Some(t) => match version_at(s3, bucket, m, t).await? {
            Ok(v) => Some(v),
            Err(problem) => {
                problems.push("ota:manifest", problem);
                return Ok((RequestSpec::default(), None));
            }
        },
    };
    match read_manifest(s3, bucket, m, version.as_deref()).await? {
        Ok((bytes, read)) => {
            let (spec, p) = parse_manifest(&bytes, m);
            problems.extend(p);
            let read = read.map(|version_id| ManifestVersion {
                bucket: bucket.to_string(),
                key: m.to_string(),
                version_id,
            });
            Ok((spec, read))
        }
        Err(problem) => {
            problems.push("ota:manifest", problem);
            Ok((RequestSpec::default(), None))
        }
    }
}

/// Pages of ListObjectVersions read at most: 50,000 versions of keys that
/// start with the manifest's key, far beyond any release history.
const MAX_VERSION_PAGES: usize = 50;

/// The version id of `key` that was current at `t` (to the second), or the
/// problem to report: none existed yet, or the newest was a delete marker.
async fn version_at(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    t: OffsetDateTime,
) -> Result<Result<String, String>, OtaError> {
    let at = t.unix_timestamp();
    // (seconds, is a version, version id): the newest entry not after `t`.
    let mut newest: Option<(i64, bool, String)> = None;
    let mut consider = |k: Option<&str>,
                        when: Option<&aws_sdk_s3::primitives::DateTime>,
                        is_version: bool,
                        id: Option<&str>| {
        let (Some(k), Some(when)) = (k, when) else {
            return;
        };
        let secs = when.secs();
        if k != key || secs > at {
            return;
        }
        // A version wins a tie with a delete marker in the same second.
        let better = newest
            .as_ref()
            .is_none_or(|(s, v, _)| secs > *s || (secs == *s && is_version && !v));
        if better {
            newest = Some((secs, is_version, id.unwrap_or("null").to_string()));
        }
    };
    let (mut key_marker, mut version_marker) = (None::<String>, None::<String>);
    for _ in 0..MAX_VERSION_PAGES {
        let out = match s3
            .list_object_versions()
            .bucket(bucket)
            .prefix(key)
            .set_key_marker(key_marker.take())
            .set_version_id_marker(version_marker.take())
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) if is_not_found(&e) => {
                return Ok(Err(format!("s3://{bucket}/{key} does not exist")))
            }
            Err(e) => return Err(classify("ListObjectVersions (manifest)", &e)),
        };
        for v in out.versions() {
            consider(v.key(), v.last_modified(), true, v.version_id());
        }
        for d in out.delete_markers() {
            consider(d.key(), d.last_modified(), false, d.version_id());
        }
        if out.is_truncated() != Some(true) {
            break;
        }
        key_marker = out.next_key_marker().map(str::to_string);
        version_marker = out.next_version_id_marker().map(str::to_string);
    }
    let when = t
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    Ok(match newest {
        Some((_, true, id)) => Ok(id),
        Some((_, false, _)) => Err(format!(
            "s3://{bucket}/{key} had been deleted when the firmware was uploaded ({when})"
        )),
        None => Err(format!(
            "s3://{bucket}/{key} did not exist yet when the firmware was uploaded ({when}): upload the manifest before the firmware that names it"
        )),
    })
}

/// The manifest's bytes, `Ok(Err(problem))` when the user named a manifest
/// that cannot be used, `Err` for a failure worth retrying or reporting as is.
/// "Does not exist" covers a missing key and a missing bucket alike, which
/// GetObject's model does not both name: S3's codes decide (`is_not_found`).
/// With a version id, exactly that version; the version read comes back
/// with the bytes.
async fn read_manifest(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    version: Option<&str>,
) -> Result<Result<(Vec<u8>, Option<String>), String>, OtaError> {
    let got = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .set_version_id(version.map(str::to_string))
        .send()
        .await;
    let out = match got {
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
    let read = out.version_id().map(str::to_string);
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
    Ok(Ok((bytes, read)))
}

/// The release manifest that started a run, exactly the version uploaded:
/// its request and files, every problem pushed to `problems` (under
/// `manifest.…`; an unreadable manifest under `release`).
pub async fn read_release_manifest(
    s3: &aws_sdk_s3::Client,
    source: &ota_core::state::SourceObject,
    problems: &mut Problems,
) -> Result<(RequestSpec, Vec<ota_core::release::ReleaseFileSpec>), OtaError> {
    let (bucket, key) = (&source.bucket, &source.key);
    match read_manifest(s3, bucket, key, Some(&source.version_id)).await? {
        Ok((bytes, _)) => {
            let (spec, files, p) = ota_core::manifest::parse_release_manifest(&bytes, key);
            problems.extend(p);
            Ok((spec, files))
        }
        Err(problem) => {
            problems.push("release", problem);
            Ok((RequestSpec::default(), Vec::new()))
        }
    }
}

/// A release file's version (the given one, or the current one) and size:
/// the problem to report when it does not exist, is empty, or the bucket
/// keeps no versions.
pub async fn pin_release_file(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
) -> Result<Result<(String, u64), String>, OtaError> {
    let got = s3
        .head_object()
        .bucket(bucket)
        .key(key)
        .set_version_id(version_id.map(str::to_string))
        .send()
        .await;
    let head = match got {
        Ok(h) => h,
        Err(e) if is_not_found(&e) => {
            return Ok(Err(match version_id {
                Some(v) => format!("s3://{bucket}/{key} version {v} does not exist"),
                None => format!("s3://{bucket}/{key} does not exist"),
            }))
        }
        Err(e) => return Err(classify("HeadObject (release file)", &e)),
    };
    let Some(version) = head.version_id().filter(|v| !v.is_empty() && *v != "null") else {
        return Ok(Err(format!(
            "s3://{bucket}/{key} has no version id: the bucket must have versioning enabled"
        )));
    };
    let size = head.content_length().unwrap_or(0).max(0) as u64;
    if size == 0 {
        return Ok(Err(format!(
            "s3://{bucket}/{key} version {version} is empty: a release file is firmware and needs bytes"
        )));
    }
    Ok(Ok((version.to_string(), size)))
}
