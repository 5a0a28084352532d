//! The optional manifest: a JSON object in the bucket, named by the
//! `ota:manifest` tag, that can say everything CreateJob and CreateOTAUpdate
//! offer, raw cron included. Field names follow CreateJob's.

use crate::error::Problems;
use crate::spec::{manifest_path, RequestSpec};
use crate::times::TimeSpec;
use crate::values::*;
use serde::Deserialize;

/// The largest manifest read (a job document itself is at most 32 KB).
pub const MAX_MANIFEST_BYTES: usize = 64 * 1024;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Manifest {
    targets: Option<Vec<String>>,
    target_selection: Option<String>,
    description: Option<String>,
    protocols: Option<Vec<String>>,
    file_path: Option<String>,
    file_type: Option<i64>,
    signing_profile: Option<String>,
    custom_code_signing: Option<CustomCodeSigning>,
    timeout_config: Option<TimeoutConfig>,
    job_executions_retry_config: Option<CriteriaList<RetryEntry>>,
    scheduling_config: Option<SchedulingConfig>,
    abort_config: Option<CriteriaList<AbortEntry>>,
    job_executions_rollout_config: Option<RolloutConfig>,
    presigned_url_config: Option<PresignedUrlConfig>,
    destination_package_versions: Option<Vec<String>>,
    job_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CustomCodeSigning {
    signature: Option<String>,
    signature_algorithm: Option<String>,
    certfile: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TimeoutConfig {
    in_progress_timeout_in_minutes: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CriteriaList<T> {
    criteria_list: Vec<T>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RetryEntry {
    failure_type: String,
    number_of_retries: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AbortEntry {
    failure_type: String,
    action: String,
    threshold_percentage: f64,
    min_number_of_executed_things: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SchedulingConfig {
    start_time: Option<String>,
    end_time: Option<String>,
    end_behavior: Option<String>,
    maintenance_windows: Option<Vec<WindowEntry>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct WindowEntry {
    start_time: String,
    duration_in_minutes: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RolloutConfig {
    maximum_per_minute: Option<i64>,
    exponential_rate: Option<ExponentialEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ExponentialEntry {
    base_rate_per_minute: i64,
    increment_factor: f64,
    rate_increase_criteria: RateIncreaseEntry,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RateIncreaseEntry {
    number_of_notified_things: Option<i64>,
    number_of_succeeded_things: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PresignedUrlConfig {
    expires_in_sec: i64,
}

struct Collector {
    p: Problems,
}

impl Collector {
    fn take<T>(&mut self, field: &str, r: Result<T, String>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.p.push(manifest_path(field), e);
                None
            }
        }
    }
    fn all<T, U>(
        &mut self,
        field: &str,
        items: Vec<T>,
        f: impl Fn(T) -> Result<U, String>,
    ) -> Option<Vec<U>> {
        let mut out = Vec::new();
        let mut ok = true;
        for (i, item) in items.into_iter().enumerate() {
            match f(item) {
                Ok(v) => out.push(v),
                Err(e) => {
                    ok = false;
                    self.p.push(format!("{}[{i}]", manifest_path(field)), e);
                }
            }
        }
        if ok && out.is_empty() {
            self.p.push(
                manifest_path(field),
                "is empty; give at least one value or leave it out",
            );
            return None;
        }
        ok.then_some(out)
    }
}

/// Parses a manifest. A JSON or shape error (unknown field, wrong type) is
/// one problem with its line and column; value errors are all collected.
pub fn parse_manifest(bytes: &[u8], name: &str) -> (RequestSpec, Problems) {
    let mut c = Collector {
        p: Problems::default(),
    };
    if bytes.len() > MAX_MANIFEST_BYTES {
        c.p.push(
            "ota:manifest",
            format!(
                "{name} is {} bytes; a manifest is at most {MAX_MANIFEST_BYTES}",
                bytes.len()
            ),
        );
        return (RequestSpec::default(), c.p);
    }
    let m: Manifest = match serde_json::from_slice(bytes) {
        Ok(m) => m,
        Err(e) => {
            let mut fields: Vec<&str> = crate::spec::FIELDS
                .iter()
                .filter_map(|(_, _, m)| m.split('.').next().filter(|f| *f != "-"))
                .collect();
            fields.dedup();
            c.p.push(
                "ota:manifest",
                format!(
                    "{name} is not a valid manifest: {e}; a manifest is a JSON object of at most {MAX_MANIFEST_BYTES} bytes with the fields {}",
                    fields.join(", ")
                ),
            );
            return (RequestSpec::default(), c.p);
        }
    };
    let mut s = RequestSpec::default();
    if let Some(v) = m.targets {
        s.targets = c.all("targets", v, |x| parse_target(&x));
    }
    if let Some(v) = m.target_selection {
        s.target_selection = c.take("target_selection", TargetSelection::parse(&v));
    }
    if let Some(v) = m.description {
        s.description = c.take("description", parse_description(&v));
    }
    if let Some(v) = m.protocols {
        s.protocols = c.all("protocols", v, |x| Protocol::parse(&x));
        if let Some(ps) = &s.protocols {
            if ps.len() == 2 && ps[0] == ps[1] {
                c.p.push(
                    manifest_path("protocols"),
                    "lists a protocol twice; MQTT, HTTP or both, each once",
                );
                s.protocols = None;
            }
        }
    }
    if let Some(v) = m.file_path {
        s.file_path = c.take("file_path", parse_device_path(&v));
    }
    if let Some(v) = m.file_type {
        s.file_type = c.take("file_type", FILE_TYPE.check(v));
    }
    if let Some(v) = m.signing_profile {
        s.profile = c.take("profile", parse_profile_name(&v));
    }
    if let Some(cs) = m.custom_code_signing {
        if let Some(v) = cs.signature {
            s.signature = c.take("signature", parse_signature(&v));
        }
        if let Some(v) = cs.signature_algorithm {
            s.signature_algorithm = c.take("signature_algorithm", parse_signature_algorithm(&v));
        }
        if let Some(v) = cs.certfile {
            s.certfile = c.take("certfile", parse_device_path(&v));
        }
    }
    if let Some(v) = m.timeout_config {
        s.timeout_minutes = c.take(
            "timeout_minutes",
            TIMEOUT_MINUTES.check(v.in_progress_timeout_in_minutes),
        );
    }
    if let Some(v) = m.job_executions_retry_config {
        let list = c.all("retry", v.criteria_list, |e| {
            Ok(RetryCriterion {
                failure_type: RetryFailureType::parse(&e.failure_type)?,
                number_of_retries: RETRIES.check(e.number_of_retries)?,
            })
        });
        s.retry = list.and_then(|l| {
            let checked = check_retry_list(&l).map(|_| l);
            c.take("retry", checked)
        });
    }
    if let Some(sc) = m.scheduling_config {
        if let Some(v) = sc.start_time {
            s.start = c.take("start", TimeSpec::parse(&v));
        }
        if let Some(v) = sc.end_time {
            s.end = c.take("end", TimeSpec::parse(&v));
        }
        if let Some(v) = sc.end_behavior {
            s.end_behavior = c.take("end_behavior", EndBehavior::parse(&v));
        }
        if let Some(v) = sc.maintenance_windows {
            s.windows = c.all("windows", v, |w| {
                Ok(MaintenanceWindow {
                    start: WindowStart::Cron(parse_cron(&w.start_time)?),
                    duration_minutes: WINDOW_MINUTES.check(w.duration_in_minutes)?,
                })
            });
        }
    }
    if let Some(v) = m.abort_config {
        let list = c.all("abort", v.criteria_list, |e| {
            if e.action != "CANCEL" {
                return Err(format!(
                    "action '{}' is not CANCEL, the only abort action",
                    e.action
                ));
            }
            let bp = e.threshold_percentage * 100.0;
            if !(bp.is_finite() && (1.0..=10_000.0).contains(&bp) && (bp - bp.round()).abs() < 1e-6)
            {
                return Err(format!(
                    "thresholdPercentage {} is not above 0 and at most 100 with up to 2 decimals",
                    e.threshold_percentage
                ));
            }
            Ok(AbortCriterion {
                failure_type: AbortFailureType::parse(&e.failure_type)?,
                threshold_basis_points: bp.round() as u32,
                min_number_of_executed_things: MIN_EXECUTED_THINGS
                    .check(e.min_number_of_executed_things)?,
            })
        });
        s.abort = list.and_then(|l| {
            let checked = check_abort_list(&l).map(|_| l);
            c.take("abort", checked)
        });
    }
    if let Some(v) = m.job_executions_rollout_config {
        let r = (|| -> Result<Rollout, String> {
            let maximum_per_minute = v
                .maximum_per_minute
                .map(|n| MAX_PER_MINUTE.check(n))
                .transpose()?;
            let exponential_rate = match v.exponential_rate {
                None => None,
                Some(e) => {
                    let tenths = e.increment_factor * 10.0;
                    if !(tenths.is_finite()
                        && (tenths - tenths.round()).abs() < 1e-6
                        && (11.0..=50.0).contains(&tenths.round()))
                    {
                        return Err(format!(
                            "incrementFactor {} is not from 1.1 to 5.0 with one decimal",
                            e.increment_factor
                        ));
                    }
                    let criteria = match (
                        e.rate_increase_criteria.number_of_notified_things,
                        e.rate_increase_criteria.number_of_succeeded_things,
                    ) {
                        (Some(n), None) => RateIncrease::NotifiedThings(RATE_INCREASE_THINGS.check(n)?),
                        (None, Some(n)) => RateIncrease::SucceededThings(RATE_INCREASE_THINGS.check(n)?),
                        _ => {
                            return Err(
                                "rateIncreaseCriteria needs exactly one of numberOfNotifiedThings and numberOfSucceededThings"
                                    .into(),
                            )
                        }
                    };
                    Some(ExponentialRate {
                        base_rate_per_minute: BASE_RATE_PER_MINUTE.check(e.base_rate_per_minute)?,
                        increment_factor_tenths: tenths.round() as u32,
                        criteria,
                    })
                }
            };
            if maximum_per_minute.is_none() && exponential_rate.is_none() {
                return Err("is empty; give maximumPerMinute and/or exponentialRate".into());
            }
            Ok(Rollout {
                maximum_per_minute,
                exponential_rate,
            })
        })();
        s.rollout = c.take("rollout", r);
    }
    if let Some(v) = m.presigned_url_config {
        s.presigned_expiry_seconds = c.take(
            "presigned_expiry_seconds",
            PRESIGNED_EXPIRY_SECONDS.check(v.expires_in_sec),
        );
    }
    if let Some(v) = m.destination_package_versions {
        s.packages = c.all("packages", v, |x| parse_package(&x));
    }
    if let Some(v) = m.job_id {
        s.job_id = c.take("job_id", parse_job_id(&v));
    }
    (s.with_source(manifest_path), c.p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_manifest_parses() {
        let m = br#"{
          "targets": ["thinggroup/Lab", "arn:aws:iot:us-east-1:123456789012:thing/dev-1"],
          "targetSelection": "CONTINUOUS",
          "description": "Nightly build, with commas, and (parens)",
          "protocols": ["HTTP"],
          "filePath": "/ota/app.bin",
          "fileType": 1,
          "timeoutConfig": {"inProgressTimeoutInMinutes": 30},
          "jobExecutionsRetryConfig": {"criteriaList": [{"failureType": "ALL", "numberOfRetries": 3}]},
          "schedulingConfig": {"startTime": "+1d", "endBehavior": "STOP_ROLLOUT", "endTime": "+3d",
             "maintenanceWindows": [{"startTime": "cron(0 2 ? * SUN *)", "durationInMinutes": 90}]},
          "abortConfig": {"criteriaList": [{"failureType": "REJECTED", "action": "CANCEL", "thresholdPercentage": 12.5, "minNumberOfExecutedThings": 10}]},
          "jobExecutionsRolloutConfig": {"maximumPerMinute": 50, "exponentialRate": {"baseRatePerMinute": 5, "incrementFactor": 1.5, "rateIncreaseCriteria": {"numberOfSucceededThings": 20}}},
          "presignedUrlConfig": {"expiresInSec": 600},
          "destinationPackageVersions": ["Pkg@2.0.0"],
          "jobId": "nightly-42"
        }"#;
        let (s, p) = parse_manifest(m, "manifests/a.json");
        assert!(p.is_empty(), "{p}");
        assert_eq!(s.target_selection, Some(TargetSelection::Continuous));
        assert_eq!(s.abort.as_ref().unwrap()[0].threshold_basis_points, 1250);
        assert_eq!(
            s.rollout
                .unwrap()
                .exponential_rate
                .unwrap()
                .increment_factor_tenths,
            15
        );
        assert_eq!(s.windows.as_ref().unwrap()[0].cron(), "cron(0 2 ? * SUN *)");
        assert_eq!(
            s.source_of("retry"),
            "manifest.jobExecutionsRetryConfig.criteriaList"
        );
    }

    #[test]
    fn unknown_fields_and_bad_json_are_one_clear_problem() {
        let (_, p) = parse_manifest(br#"{"jobid": "x"}"#, "m.json");
        assert_eq!(p.len(), 1);
        assert!(p.0[0].message.contains("unknown field `jobid`"), "{p}");
        let (_, p) = parse_manifest(b"{", "m.json");
        assert_eq!(p.0[0].field, "ota:manifest");
        let (_, p) = parse_manifest(&vec![b' '; MAX_MANIFEST_BYTES + 1], "m.json");
        assert!(p.0[0].message.contains("at most"));
    }

    #[test]
    fn value_problems_are_all_collected() {
        let m = br#"{
          "targets": ["Lab", "thing/ok", "thing/"],
          "timeoutConfig": {"inProgressTimeoutInMinutes": 0},
          "schedulingConfig": {"maintenanceWindows": [{"startTime": "cron(0 2 * * SUN *)", "durationInMinutes": 2000}]},
          "abortConfig": {"criteriaList": [{"failureType": "FAILED", "action": "STOP", "thresholdPercentage": 10, "minNumberOfExecutedThings": 1}]},
          "jobExecutionsRolloutConfig": {"exponentialRate": {"baseRatePerMinute": 5, "incrementFactor": 7, "rateIncreaseCriteria": {}}},
          "presignedUrlConfig": {"expiresInSec": 10}
        }"#;
        let (_, p) = parse_manifest(m, "m.json");
        let fields: Vec<&str> = p.iter().map(|x| x.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "manifest.targets[0]",
                "manifest.targets[2]",
                "manifest.timeoutConfig.inProgressTimeoutInMinutes",
                "manifest.schedulingConfig.maintenanceWindows[0]",
                "manifest.abortConfig.criteriaList[0]",
                "manifest.jobExecutionsRolloutConfig",
                "manifest.presignedUrlConfig.expiresInSec",
            ],
            "{p}"
        );
    }
}
