//! The optional manifest: a JSON object in the bucket, named by the
//! `ota:manifest` tag, that can say everything CreateJob and CreateOTAUpdate
//! offer, raw cron included. Field names follow CreateJob's.
//!
//! `shape` is the JSON shape serde reads (unknown fields are refused there);
//! `fields` checks each group of values with the parsers the tags use;
//! `render` writes a request as a manifest (what `ota upload` does when the
//! flags need more than S3's 10 tags).

mod fields;
mod release;
mod render;
mod shape;

pub use release::parse_release_manifest;
pub use render::{render_manifest, written_manifest_key};

use crate::error::Problems;
use crate::spec::{manifest_path, RequestSpec};
use shape::Manifest;

/// The largest manifest read (a job document itself is at most 32 KB).
pub const MAX_MANIFEST_BYTES: usize = 64 * 1024;

/// Collects every value problem, each under its manifest path.
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
    let Some(mut m) = read_shape(bytes, name, &mut c.p) else {
        return (RequestSpec::default(), c.p);
    };
    if m.files.take().is_some() {
        c.p.push(
            crate::release::FILES_FIELD,
            "only a release manifest (uploaded under the stack's ReleasePrefix) lists files; an ota:manifest describes the one upload that names it",
        );
    }
    let mut s = RequestSpec::default();
    fields::delivery(&mut c, &mut s, &mut m);
    fields::signing(&mut c, &mut s, &mut m);
    fields::job_rules(&mut c, &mut s, &mut m);
    fields::references(&mut c, &mut s, &mut m);
    (s.with_source(manifest_path), c.p)
}

/// The manifest as its JSON shape: None, with the one problem, when it is
/// too large, not JSON, or not the shape (an unknown field, a wrong type).
fn read_shape(bytes: &[u8], name: &str, p: &mut Problems) -> Option<Manifest> {
    if bytes.len() > MAX_MANIFEST_BYTES {
        p.push(
            "ota:manifest",
            format!(
                "{name} is {} bytes; a manifest is at most {MAX_MANIFEST_BYTES}",
                bytes.len()
            ),
        );
        return None;
    }
    match serde_json::from_slice(bytes) {
        Ok(m) => Some(m),
        Err(e) => {
            let mut fields: Vec<&str> = crate::spec::FIELDS
                .iter()
                .filter_map(|(_, _, m)| m.split('.').next().filter(|f| *f != "-"))
                .collect();
            fields.dedup();
            p.push(
                "ota:manifest",
                format!(
                    "{name} is not a valid manifest: {e}; a manifest is a JSON object of at most {MAX_MANIFEST_BYTES} bytes with the fields {}",
                    fields.join(", ")
                ),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::TargetSelection;

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
