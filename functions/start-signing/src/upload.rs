//! The upload: the event checked, the exact object version pinned, its tags.

use crate::Settings;
use ota_aws::classify_not_found;
use ota_core::event::{partition_of, StartSigningInput};
use ota_core::state::SourceObject;
use ota_core::OtaError;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tracing::warn;

/// An S3 "Object Created" event for a key under the upload prefix (or the
/// release prefix: a release manifest); when the
/// object was uploaded (relative schedule times count from it).
pub fn check_event(input: &StartSigningInput, s: &Settings) -> Result<OffsetDateTime, OtaError> {
    let ev = &input.event;
    if ev.source != "aws.s3" || ev.detail_type != "Object Created" {
        return Err(ota_core::error::invalid(
            "event",
            format!(
                "expected an aws.s3 'Object Created' event, got {} '{}'",
                ev.source, ev.detail_type
            ),
        ));
    }
    let bucket = &ev.detail.bucket.name;
    let key = &ev.detail.object.key;
    // The EventBridge rule matches the upload prefix only; checking again here
    // means a misconfigured rule can never make the pipeline sign its own output.
    // A manifest under the manifest prefix is not firmware, even when that
    // prefix lies under the upload prefix (CloudFormation rules can only
    // compare the two for equality).
    if key.starts_with(&s.manifest_prefix) {
        return Err(ota_core::error::invalid(
            "event",
            format!(
                "s3://{bucket}/{key} is under the manifest prefix {}: a manifest is not firmware; keep ManifestPrefix outside UploadPrefix",
                s.manifest_prefix
            ),
        ));
    }
    let release = key.starts_with(&s.release_prefix);
    if !release && (!key.starts_with(&s.upload_prefix) || key.starts_with(&s.signed_prefix)) {
        return Err(ota_core::error::invalid(
            "event",
            format!(
                "s3://{bucket}/{key} is not under the upload prefix {} (nor the release prefix {})",
                s.upload_prefix, s.release_prefix
            ),
        ));
    }
    OffsetDateTime::parse(&ev.time, &Rfc3339).map_err(|_| {
        ota_core::error::invalid("event", format!("event time '{}' is not RFC 3339", ev.time))
    })
}

/// The exact version the event names (everything downstream uses it), or,
/// when the event has none, the current version by HeadObject.
pub async fn pin_version(
    s3: &aws_sdk_s3::Client,
    input: &StartSigningInput,
) -> Result<SourceObject, OtaError> {
    let ev = &input.event;
    let bucket = ev.detail.bucket.name.clone();
    let key = ev.detail.object.key.clone();
    let (version_id, size) = match (&ev.detail.object.version_id, ev.detail.object.size) {
        (Some(v), Some(size)) if !v.is_empty() => (v.clone(), size),
        _ => current_version(s3, &bucket, &key).await?,
    };
    ota_core::event::check_is_firmware(&bucket, &key, size)?;
    Ok(SourceObject {
        bucket,
        key,
        version_id,
        upload_time: ev.time.clone(),
        size,
        partition: partition_of(&ev.region).to_string(),
        region: ev.region.clone(),
        account: ev.account.clone(),
    })
}

/// The current version's id and size.
async fn current_version(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Result<(String, u64), OtaError> {
    warn!(bucket = %bucket, key = %key, "event has no object version id; pinning the current version with HeadObject");
    let head = s3
        .head_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| {
            classify_not_found("HeadObject", &e, || {
                OtaError::SourceNotFound(format!("s3://{bucket}/{key} no longer exists"))
            })
        })?;
    let v = head
        .version_id()
        .filter(|v| !v.is_empty() && *v != "null")
        .ok_or_else(|| {
            ota_core::error::invalid(
                "bucket",
                format!("s3://{bucket}/{key} has no version id: the bucket must have versioning enabled"),
            )
        })?;
    Ok((
        v.to_string(),
        head.content_length().unwrap_or(0).max(0) as u64,
    ))
}

/// The object version's tags.
pub async fn read_tags(
    s3: &aws_sdk_s3::Client,
    src: &SourceObject,
) -> Result<Vec<(String, String)>, OtaError> {
    let (bucket, key, version_id) = (&src.bucket, &src.key, &src.version_id);
    let tagging = s3
        .get_object_tagging()
        .bucket(bucket)
        .key(key)
        .version_id(version_id)
        .send()
        .await
        .map_err(|e| {
            classify_not_found("GetObjectTagging", &e, || {
                OtaError::SourceNotFound(format!(
                    "s3://{bucket}/{key} version {version_id} no longer exists"
                ))
            })
        })?;
    Ok(tagging
        .tag_set()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect())
}
