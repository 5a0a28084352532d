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
