//! The one typed state that crosses the state machine. Each function takes it
//! and returns it with its own part filled in; the JSON names are the ones the
//! ASL's paths use (`$.signing.status`, `$.signing.waitSeconds`, `$.error`).

use crate::request::OtaRequest;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PipelineState {
    /// The Step Functions execution that carries this state.
    pub execution_id: String,
    pub source: SourceObject,
    pub request: OtaRequest,
    /// The manifest version the request was read from (the one current at
    /// the upload), when the tags name a manifest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<S3ObjectVersion>,
    pub signing: SigningState,
    /// Filled by make-stream: what the document says about the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_file: Option<SignedFile>,
    /// Filled by make-stream when MQTT is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<StreamState>,
    /// Filled by create-job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<JobState>,
    /// A multi-file release (the upload is a release manifest): its files,
    /// each signed on its own (the state machine's Sign Files map). The
    /// single-file fields `signing` and `signed_file` stay unused then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<ReleaseState>,
    /// Put here by the ASL's Catch: `{"Error": ..., "Cause": ...}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<serde_json::Value>,
}

/// The exact uploaded object version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceObject {
    pub bucket: String,
    pub key: String,
    pub version_id: String,
    /// RFC 3339.
    pub upload_time: String,
    pub size: u64,
    pub region: String,
    pub account: String,
    pub partition: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SigningStatus {
    InProgress,
    Succeeded,
    /// Pre-signed firmware: nothing to sign.
    NotRequired,
    /// A release file whose signing job the Sign Files map has yet to
    /// start (start-signing's `signFile` mode starts it).
    Pending,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SigningState {
    pub status: SigningStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// The certificate path on the device: the profile's `certname`, or the
    /// user's for pre-signed firmware.
    pub certfile: String,
    /// How many times await-signing has asked.
    #[serde(default)]
    pub attempts: u32,
    /// The next Wait, in seconds.
    #[serde(default)]
    pub wait_seconds: u32,
    /// When signing started (RFC 3339), for the overall limit.
    pub started_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_object: Option<S3Location>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct S3Location {
    pub bucket: String,
    pub key: String,
}

/// One version of an object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct S3ObjectVersion {
    pub bucket: String,
    pub key: String,
    pub version_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedFile {
    pub size: u64,
    pub signature: String,
    pub signature_algorithm: String,
    /// The S3 version of the signer's output object make-stream read: the
    /// job is tagged with it, so `ota delete` removes that version itself
    /// (the bucket is versioned: a plain delete would only add a marker).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_version_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamState {
    pub stream_id: String,
    pub stream_arn: String,
    /// The stream's version after CreateStream (or of the existing one).
    pub stream_version: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobState {
    pub job_id: String,
    pub job_arn: String,
    /// False when an identical job already existed (a retried or duplicate run).
    pub created: bool,
    /// Scheduled times create-job moved because IoT needs them 30 minutes
    /// after CreateJob ("start moved from ... to ..."); also on the job as
    /// `ota:start-moved` / `ota:end-moved` tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schedule_moved: Vec<String>,
    /// What the device libraries that read this document would reject or
    /// misread (crate::devices), one line per finding naming the family,
    /// the rule and its source.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub device_findings: Vec<String>,
}

/// The files of a release, in the manifest's order (file id = index).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseState {
    /// The run's attempt (`ota retry`): each file's signing token has it.
    #[serde(default)]
    pub attempt: u32,
    pub files: Vec<ReleaseFileState>,
}

/// One file of a release: its pinned version, what the document says about
/// it, how it is signed and how far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseFileState {
    pub key: String,
    pub version_id: String,
    pub size: u64,
    pub file_path: String,
    pub file_type: u32,
    /// A profile, the user's signature, or none (`aws_fota`).
    pub method: crate::Signing,
    pub signing: SigningState,
    /// Filled by make-stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_file: Option<SignedFile>,
}

/// One iteration of the state machine's Sign Files map: the run, and the
/// file being signed (start-signing's `signFile` mode starts it, await-signing
/// follows it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileSigningRun {
    pub execution_id: String,
    /// The release manifest's version: the bucket, region and account, and
    /// the logs' key.
    pub source: SourceObject,
    /// The run's attempt (`ota retry`), part of the signing token.
    #[serde(default)]
    pub attempt: u32,
    pub file: ReleaseFileState,
}

/// The first wait after StartSigningJob, in seconds.
pub const FIRST_SIGNING_WAIT_SECONDS: u32 = 1;

/// What one DescribeSigningJob answer means for the pipeline. start-signing
/// (its first look, right after StartSigningJob) and await-signing (every
/// later look) read the answer the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigningVerdict {
    Succeeded(S3Location),
    InProgress,
}

/// The signer's answer in plain values (ota-core does not link the SDK):
/// `status` as the API spells it, the reason, and the signed object's
/// bucket and key when it names one.
pub fn judge_signing_job(
    job_id: &str,
    status: &str,
    reason: Option<&str>,
    signed_bucket: Option<&str>,
    signed_key: Option<&str>,
) -> Result<SigningVerdict, crate::OtaError> {
    use crate::OtaError;
    let reason = reason.unwrap_or("no reason given");
    match status {
        "Succeeded" => match (signed_bucket, signed_key) {
            (Some(bucket), Some(key)) if !bucket.is_empty() && !key.is_empty() => {
                Ok(SigningVerdict::Succeeded(S3Location {
                    bucket: bucket.to_string(),
                    key: key.to_string(),
                }))
            }
            _ => Err(OtaError::SigningFailed(format!(
                "signing job {job_id} succeeded but names no signed object (bucket and key)"
            ))),
        },
        "Failed" => Err(OtaError::SigningFailed(format!(
            "signing job {job_id} failed: {reason}"
        ))),
        "InProgress" => Ok(SigningVerdict::InProgress),
        other => Err(OtaError::Internal(format!(
            "signing job {job_id} has status '{other}' ({reason})"
        ))),
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signer_answers_become_verdicts() {
        let ok = judge_signing_job("j", "Succeeded", None, Some("fw"), Some("signed/j")).unwrap();
        assert_eq!(
            ok,
            SigningVerdict::Succeeded(S3Location {
                bucket: "fw".into(),
                key: "signed/j".into()
            })
        );
        assert_eq!(
            judge_signing_job("j", "InProgress", None, None, None).unwrap(),
            SigningVerdict::InProgress
        );
        let failed =
            judge_signing_job("j", "Failed", Some("cert expired"), None, None).unwrap_err();
        assert_eq!(failed.error_type(), "SigningFailed");
        assert!(failed.to_string().contains("cert expired"), "{failed}");
        for (b, k) in [(None, Some("k")), (Some("b"), None), (Some(""), Some("k"))] {
            let e = judge_signing_job("j", "Succeeded", None, b, k).unwrap_err();
            assert_eq!(e.error_type(), "SigningFailed", "{b:?} {k:?}");
        }
        let odd = judge_signing_job("j", "Paused", None, None, None).unwrap_err();
        assert_eq!(odd.error_type(), "InternalError");
    }
}
