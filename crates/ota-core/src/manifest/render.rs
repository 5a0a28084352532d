//! Writing a RequestSpec as a manifest, in the shape `parse_manifest` reads
//! (CreateJob's field names): what `ota upload` writes for the user when the
//! flags need more tags than S3 allows on one object. Windows become the
//! cron expressions they stand for (a manifest takes raw cron only).

use crate::spec::RequestSpec;
use crate::values::{AbortCriterion, RateIncrease, RetryCriterion, Rollout};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// Where a written manifest goes: under the manifest prefix, named by its
/// content's hash, so the same request always names the same manifest and
/// a manifest is never overwritten by a different one.
pub fn written_manifest_key(manifest_prefix: &str, text: &str) -> String {
    let hash: String = Sha256::digest(text.as_bytes())
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{manifest_prefix}ota-{hash}.json")
}

fn texts<T: std::fmt::Display>(items: &[T]) -> Value {
    json!(items.iter().map(ToString::to_string).collect::<Vec<_>>())
}

/// The manifest for every field of `s` that is set (`manifest` itself has
/// no manifest field and is left out).
pub fn render_manifest(s: &RequestSpec) -> Value {
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    if let Some(v) = &s.targets {
        put("targets", texts(v));
    }
    if let Some(v) = &s.target_selection {
        put("targetSelection", json!(v.as_str()));
    }
    if let Some(v) = &s.description {
        put("description", json!(v));
    }
    if let Some(v) = &s.protocols {
        put("protocols", texts(v));
    }
    if let Some(v) = &s.file_path {
        put("filePath", json!(v));
    }
    if let Some(v) = s.file_type {
        put("fileType", json!(v));
    }
    if let Some(v) = &s.devices {
        put("devices", texts(v));
    }
    if let Some(v) = &s.format {
        put("documentFormat", json!(v.as_str()));
    }
    if let Some(v) = &s.firmware_version {
        put("firmwareVersion", json!(v));
    }
    if let Some(v) = &s.profile {
        put("signingProfile", json!(v));
    }
    let mut code_signing = Map::new();
    for (k, v) in [
        ("signature", &s.signature),
        ("signatureAlgorithm", &s.signature_algorithm),
        ("certfile", &s.certfile),
    ] {
        if let Some(v) = v {
            code_signing.insert(k.into(), json!(v));
        }
    }
    if !code_signing.is_empty() {
        put("customCodeSigning", Value::Object(code_signing));
    }
    if let Some(v) = s.timeout_minutes {
        put("timeoutConfig", json!({ "inProgressTimeoutInMinutes": v }));
    }
    if let Some(v) = &s.retry {
        put("jobExecutionsRetryConfig", retry(v));
    }
    if let Some(v) = scheduling(s) {
        put("schedulingConfig", v);
    }
    if let Some(v) = &s.abort {
        put("abortConfig", abort(v));
    }
    if let Some(v) = &s.rollout {
        put("jobExecutionsRolloutConfig", rollout(v));
    }
    if let Some(v) = s.presigned_expiry_seconds {
        put("presignedUrlConfig", json!({ "expiresInSec": v }));
    }
    if let Some(v) = &s.packages {
        put("destinationPackageVersions", texts(v));
    }
    if let Some(v) = &s.register_package {
        put("registerPackage", json!(v.to_string()));
    }
    if let Some(v) = s.register_default {
        put("registerDefault", json!(v));
    }
    if let Some(v) = s.document_values {
        put("documentValues", json!(v.as_str()));
    }
    if let Some(v) = &s.job_id {
        put("jobId", json!(v));
    }
    Value::Object(m)
}

fn retry(v: &[RetryCriterion]) -> Value {
    let list: Vec<Value> = v
        .iter()
        .map(|c| json!({"failureType": c.failure_type.as_str(), "numberOfRetries": c.number_of_retries}))
        .collect();
    json!({ "criteriaList": list })
}

fn scheduling(s: &RequestSpec) -> Option<Value> {
    let mut m = Map::new();
    if let Some(v) = &s.start {
        m.insert("startTime".into(), json!(v.render()));
    }
    if let Some(v) = &s.end {
        m.insert("endTime".into(), json!(v.render()));
    }
    if let Some(v) = &s.end_behavior {
        m.insert("endBehavior".into(), json!(v.as_str()));
    }
    if let Some(v) = &s.windows {
        let windows: Vec<Value> = v
            .iter()
            .map(|w| json!({"startTime": w.cron(), "durationInMinutes": w.duration_minutes}))
            .collect();
        m.insert("maintenanceWindows".into(), json!(windows));
    }
    (!m.is_empty()).then_some(Value::Object(m))
}

fn abort(v: &[AbortCriterion]) -> Value {
    let list: Vec<Value> = v
        .iter()
        .map(|a| {
            json!({
                "failureType": a.failure_type.as_str(),
                "action": "CANCEL",
                "thresholdPercentage": f64::from(a.threshold_basis_points) / 100.0,
                "minNumberOfExecutedThings": a.min_number_of_executed_things,
            })
        })
        .collect();
    json!({ "criteriaList": list })
}

fn rollout(r: &Rollout) -> Value {
    let mut m = Map::new();
    if let Some(n) = r.maximum_per_minute {
        m.insert("maximumPerMinute".into(), json!(n));
    }
    if let Some(e) = &r.exponential_rate {
        let criteria = match e.criteria {
            RateIncrease::NotifiedThings(n) => json!({ "numberOfNotifiedThings": n }),
            RateIncrease::SucceededThings(n) => json!({ "numberOfSucceededThings": n }),
        };
        m.insert(
            "exponentialRate".into(),
            json!({
                "baseRatePerMinute": e.base_rate_per_minute,
                "incrementFactor": f64::from(e.increment_factor_tenths) / 10.0,
                "rateIncreaseCriteria": criteria,
            }),
        );
    }
    Value::Object(m)
}
