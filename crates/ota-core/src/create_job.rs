//! What create-job asks IoT for, in CreateJob's own JSON field names, and the
//! tags it puts on every job. `ota validate` prints this before anything is
//! uploaded; create-job's tests check that its SDK call carries the same
//! values, so the preview cannot drift from the real request.

use crate::request::OtaRequest;
use crate::values::RateIncrease;
use serde_json::{json, Map, Value};

/// Tag keys every job carries, so `ota list`, `ota status` and a user in the
/// console can find what made it.
pub const TAG_SOURCE_BUCKET: &str = "ota:source-bucket";
pub const TAG_SOURCE_KEY: &str = "ota:source-key";
pub const TAG_SOURCE_VERSION: &str = "ota:source-version";
pub const TAG_EXECUTION: &str = "ota:execution";

/// What the job's update was built from, so `ota delete` and clean-up find
/// it and can ask "does another job still use it?" as a tag lookup
/// (Resource Groups Tagging API GetResources) instead of reading every job
/// document: the IoT stream, and the AWS Signer job whose output object
/// (that S3 version) holds the signature. Set only for what this pipeline
/// made: a pre-signed upload has no signing job.
pub const TAG_STREAM: &str = "ota:stream";
pub const TAG_SIGNING_JOB: &str = "ota:signing-job";
pub const TAG_SIGNED_VERSION: &str = "ota:signed-version";

/// The stream and signing tags for a run (see [`TAG_STREAM`]).
pub fn made_by_run_tags(state: &crate::PipelineState) -> Vec<(String, String)> {
    let mut tags = Vec::new();
    if let Some(s) = &state.stream {
        tags.push((TAG_STREAM.to_string(), s.stream_id.clone()));
    }
    let signed = state.signed_file.as_ref();
    if let (Some(job), Some(version)) = (
        state.signing.job_id.as_ref(),
        signed.and_then(|f| f.signed_version_id.as_ref()),
    ) {
        tags.push((TAG_SIGNING_JOB.to_string(), job.clone()));
        tags.push((TAG_SIGNED_VERSION.to_string(), tag_value(version)));
    }
    tags
}

/// The `source` of the pipeline's EventBridge events (OTA Update Created,
/// Failed, Completed); the template's EventSource substitution and the IAM
/// condition on events:PutEvents say the same (tests/infrastructure).
pub const NOTIFICATION_SOURCE: &str = "ota.pipeline";

/// The IoT console page of a job (`ota status`, the OTA Update Completed
/// event; the state machine's Notify Created spells the same with
/// States.Format).
pub fn console_url(region: &str, job_id: &str) -> String {
    format!("https://{region}.console.aws.amazon.com/iot/home?region={region}#/jobhub/jobdetails/{job_id}")
}

/// IoT tag values are at most 256 characters; keep the end (the file name).
pub fn tag_value(v: &str) -> String {
    let n = v.chars().count();
    v.chars().skip(n.saturating_sub(256)).collect()
}

/// The four job tags for one upload and the execution that made the job.
pub fn job_tags(
    bucket: &str,
    key: &str,
    version_id: &str,
    execution: &str,
) -> Vec<(String, String)> {
    [
        (TAG_SOURCE_BUCKET, bucket),
        (TAG_SOURCE_KEY, key),
        (TAG_SOURCE_VERSION, version_id),
        (TAG_EXECUTION, execution),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), tag_value(v)))
    .collect()
}

/// The CreateJob request for `req`. `document` is shown as JSON (CreateJob
/// receives its compact text).
pub fn request_json(
    req: &OtaRequest,
    document: &Value,
    ota_role_arn: &str,
    tags: &[(String, String)],
) -> Value {
    let mut out = Map::new();
    out.insert("jobId".into(), json!(req.job_id));
    out.insert("targets".into(), json!(req.targets));
    out.insert(
        "targetSelection".into(),
        json!(req.target_selection.as_str()),
    );
    out.insert("description".into(), json!(req.description));
    out.insert("document".into(), document.clone());
    if let Some(m) = req.timeout_minutes {
        out.insert(
            "timeoutConfig".into(),
            json!({ "inProgressTimeoutInMinutes": m }),
        );
    }
    if !req.retry.is_empty() {
        let list: Vec<Value> = req
            .retry
            .iter()
            .map(|c| json!({ "failureType": c.failure_type.as_str(), "numberOfRetries": c.number_of_retries }))
            .collect();
        out.insert(
            "jobExecutionsRetryConfig".into(),
            json!({ "criteriaList": list }),
        );
    }
    if let Some(s) = &req.schedule {
        out.insert("schedulingConfig".into(), scheduling_json(s));
    }
    if !req.abort.is_empty() {
        let list: Vec<Value> = req
            .abort
            .iter()
            .map(|a| {
                json!({
                    "failureType": a.failure_type.as_str(),
                    "action": "CANCEL",
                    "thresholdPercentage": a.threshold_percentage(),
                    "minNumberOfExecutedThings": a.min_number_of_executed_things,
                })
            })
            .collect();
        out.insert("abortConfig".into(), json!({ "criteriaList": list }));
    }
    if let Some(r) = &req.rollout {
        out.insert("jobExecutionsRolloutConfig".into(), rollout_json(r));
    }
    if let Some(secs) = req.presigned_expiry_seconds {
        out.insert(
            "presignedUrlConfig".into(),
            json!({ "roleArn": ota_role_arn, "expiresInSec": secs }),
        );
    }
    if !req.package_versions.is_empty() {
        out.insert(
            "destinationPackageVersions".into(),
            json!(req.package_versions),
        );
    }
    let tags: Vec<Value> = tags
        .iter()
        .map(|(k, v)| json!({ "Key": k, "Value": v }))
        .collect();
    out.insert("tags".into(), json!(tags));
    Value::Object(out)
}

/// CreateJob's schedulingConfig.
fn scheduling_json(s: &crate::request::Schedule) -> Value {
    let mut sc = Map::new();
    if let Some(t) = &s.start_time {
        sc.insert("startTime".into(), json!(t));
    }
    if let Some(t) = &s.end_time {
        sc.insert("endTime".into(), json!(t));
    }
    if let Some(e) = s.end_behavior {
        sc.insert("endBehavior".into(), json!(e.as_str()));
    }
    if !s.maintenance_windows.is_empty() {
        let windows: Vec<Value> = s
            .maintenance_windows
            .iter()
            .map(|w| json!({ "startTime": w.start_time, "durationInMinutes": w.duration_in_minutes }))
            .collect();
        sc.insert("maintenanceWindows".into(), json!(windows));
    }
    Value::Object(sc)
}

/// CreateJob's jobExecutionsRolloutConfig.
fn rollout_json(r: &crate::values::Rollout) -> Value {
    let mut rc = Map::new();
    if let Some(m) = r.maximum_per_minute {
        rc.insert("maximumPerMinute".into(), json!(m));
    }
    if let Some(e) = &r.exponential_rate {
        let criteria = match e.criteria {
            RateIncrease::NotifiedThings(n) => json!({ "numberOfNotifiedThings": n }),
            RateIncrease::SucceededThings(n) => json!({ "numberOfSucceededThings": n }),
        };
        rc.insert(
            "exponentialRate".into(),
            json!({
                "baseRatePerMinute": e.base_rate_per_minute,
                "incrementFactor": e.increment_factor(),
                "rateIncreaseCriteria": criteria,
            }),
        );
    }
    Value::Object(rc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_tag_values_keep_their_end() {
        let key = format!("firmware/{}/app.bin", "d".repeat(300));
        let tags = job_tags("b", &key, "v", "arn:exec");
        assert_eq!(tags[1].1.chars().count(), 256);
        assert!(tags[1].1.ends_with("/app.bin"));
        assert_eq!(tags[0], (TAG_SOURCE_BUCKET.to_string(), "b".to_string()));
    }
}
