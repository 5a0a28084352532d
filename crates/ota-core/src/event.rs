//! The EventBridge "Object Created" event S3 sends (aws_lambda_events has no
//! type for it). Only the fields the pipeline reads are required.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectCreatedEvent {
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    pub source: String,
    pub account: String,
    pub region: String,
    /// When S3 created the object (RFC 3339).
    pub time: String,
    #[serde(default)]
    pub id: Option<String>,
    pub detail: ObjectCreatedDetail,
    /// Not S3's: a deliberate re-run of the pipeline for this version (`ota
    /// retry` starts an execution with the upload's event and this set to
    /// 1, 2, ...) signs again instead of reusing a signing job that failed.
    /// Absent (0) for every event S3 sends.
    #[serde(rename = "ota-attempt", default, skip_serializing_if = "is_zero")]
    pub attempt: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectCreatedDetail {
    pub bucket: BucketRef,
    pub object: ObjectRef,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BucketRef {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectRef {
    /// The key as written (EventBridge events carry it raw, not URL-encoded).
    pub key: String,
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub etag: Option<String>,
    /// Present for versioned buckets; absent in some emulators, in which case
    /// start-signing pins the current version with HeadObject.
    #[serde(rename = "version-id", default)]
    pub version_id: Option<String>,
}

/// What the state machine passes start-signing: the event and the execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartSigningInput {
    pub event: ObjectCreatedEvent,
    pub execution_id: String,
}

/// Everything the state machine passes start-signing: an upload's event,
/// or (from the Sign Files map) `{"signFile": ...}`, one file of a release
/// to sign.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum StartSigningRequest {
    SignFile {
        #[serde(rename = "signFile")]
        sign_file: Box<crate::state::FileSigningRun>,
    },
    Upload(Box<StartSigningInput>),
}

/// What start-signing answers: the run's state, the file it signs, or an
/// upload that starts nothing (a file of a release).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum StartSigningOutput {
    Run(Box<crate::PipelineState>),
    File(Box<crate::state::FileSigningRun>),
    Skipped(SkippedUpload),
}

/// An upload tagged `ota:release` (crate::release::RELEASE_FILE_TAG): a
/// file of the release manifest the tag names, which starts the update.
/// The state machine ends such a run as a success that says so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SkippedUpload {
    pub skipped: String,
    pub key: String,
    pub version_id: String,
    /// The release manifest the tag names.
    pub part_of: String,
}

/// An object that cannot be firmware, refused before anything is signed: a
/// folder marker (a key ending in `/`; the state machine skips those before
/// start-signing, this is the backstop) or an empty object (a failed build
/// artifact, `aws s3 cp` of an empty file). The signer and the devices need
/// bytes: the FreeRTOS OTA agent refuses `filesize` 0.
pub fn check_is_firmware(bucket: &str, key: &str, size: u64) -> Result<(), crate::OtaError> {
    if key.ends_with('/') {
        return Err(crate::error::invalid(
            "object",
            format!("s3://{bucket}/{key} is a folder marker (its key ends in '/'), not firmware; nothing was signed"),
        ));
    }
    if size == 0 {
        return Err(crate::error::invalid(
            "object",
            format!("s3://{bucket}/{key} is 0 bytes: an empty object is not firmware; nothing was signed"),
        ));
    }
    Ok(())
}

/// The partition of a region (`aws`, `aws-cn`, `aws-us-gov`).
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_objects_and_folder_markers_are_not_firmware() {
        assert!(check_is_firmware("b", "firmware/app.bin", 1).is_ok());
        let e = check_is_firmware("b", "firmware/app.bin", 0).unwrap_err();
        assert_eq!(e.error_type(), "InvalidRequest");
        assert!(
            e.to_string().contains("s3://b/firmware/app.bin is 0 bytes"),
            "{e}"
        );
        let e = check_is_firmware("b", "firmware/releases/", 0).unwrap_err();
        assert!(e.to_string().contains("folder marker"), "{e}");
    }
}
