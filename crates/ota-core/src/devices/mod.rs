//! What the device libraries accept: each family's acceptance rules for a
//! job document, encoded from the library's own parsing code (every rule
//! cites file and line), so the pipeline can judge a document the way the
//! devices will before any device sees it.
//!
//! The families:
//! - [`DeviceFamily::FreertosOtaAgent`], aws/ota-for-aws-iot-embedded-sdk,
//!   `source/ota.c` (read at main 477ee9a; the model table is the same in
//!   v2.0.0-v3.4.1). It parses the whole Jobs message with coreJSON.
//! - [`DeviceFamily::AwsIotJobsParser`], aws/Jobs-for-AWS-IoT-embedded-sdk,
//!   `source/otaJobParser/job_parser.c` and `ota_job_handler.c` (v1.4.0 to
//!   v2.0.1, f092329). It parses `execution.jobDocument` with coreJSON.
//! - [`DeviceFamily::NrfAwsFota`], nrfconnect/sdk-nrf,
//!   `subsys/net/lib/aws_fota/src/aws_fota_json.c` (cJSON generations; the
//!   `url` form only in the NCS 2.x ones, whose commits the stored copies do
//!   not name).
//!
//! A document is judged as a device receives it ([`View`]): IoT has been
//! reported to drop `null` members on the way to a device
//! (aws/aws-iot-device-sdk-python issue 163, aws-iot-device-sdk-python-v2
//! issue 597) and may keep them; a kept null is read by coreJSON as the text
//! `null` (FreeRTOS/coreJSON source/core_json.c JSON_SearchConst L1726-1733
//! strips quotes from strings only). The pipeline writes no nulls, so both
//! views must pass.

mod freertos;
mod jobs_parser;
mod nrf;

pub use jobs_parser::MAX_FILES as JOBS_PARSER_MAX_FILES;
pub use nrf::NrfLimits;

/// What Nordic's library finds with the Kconfig buffers a device was built
/// with (`limits`), instead of the defaults [`check`] assumes.
pub fn check_nrf_with(limits: &NrfLimits, job_id: &str, document: &Value) -> Vec<Finding> {
    nrf::check_with(limits, job_id, document)
}

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A device library the job document must satisfy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceFamily {
    FreertosOtaAgent,
    AwsIotJobsParser,
    NrfAwsFota,
}

impl DeviceFamily {
    pub const ALL: [DeviceFamily; 3] = [
        DeviceFamily::FreertosOtaAgent,
        DeviceFamily::AwsIotJobsParser,
        DeviceFamily::NrfAwsFota,
    ];

    /// The name users write (`ota:devices`).
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceFamily::FreertosOtaAgent => "freertos-ota-agent",
            DeviceFamily::AwsIotJobsParser => "aws-iot-jobs-parser",
            DeviceFamily::NrfAwsFota => "nrf-aws-fota",
        }
    }

    pub fn parse(s: &str) -> Result<DeviceFamily, String> {
        DeviceFamily::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "'{s}' is not a device family; expected {}",
                    DeviceFamily::ALL.map(DeviceFamily::as_str).join(", ")
                )
            })
    }

    /// Whether this family reads documents of `format`: the FreeRTOS agent
    /// and the Jobs parser read `afr_ota`, Nordic's library `aws_fota`.
    pub fn reads(self, format: crate::values::DocumentFormat) -> bool {
        use crate::values::DocumentFormat::*;
        match self {
            DeviceFamily::NrfAwsFota => format == AwsFota,
            _ => format == AfrOta,
        }
    }
}

impl std::fmt::Display for DeviceFamily {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Rules about the signature: before signing with a profile the signature
/// and its algorithm are not known yet, so only create-job can judge them.
pub fn is_signature_rule(rule: &str) -> bool {
    rule.starts_with("signature")
}

/// Why a device would not do what the document means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub family: DeviceFamily,
    /// A short stable name for the rule (`filepath-required`).
    pub rule: &'static str,
    /// Where the library does it: `file Lline`.
    pub source: &'static str,
    /// What the device would do, for a person.
    pub message: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}, {}): {}",
            self.family.as_str(),
            self.rule,
            self.source,
            self.message
        )
    }
}

/// How the document reaches the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Every member as stored, `null`s included.
    NullsKept,
    /// Members whose value is `null` left out (at every depth).
    NullsDropped,
}

/// The document as a device receives it in `view`.
pub fn as_received(document: &Value, view: View) -> Value {
    match view {
        View::NullsKept => document.clone(),
        View::NullsDropped => drop_nulls(document),
    }
}

fn drop_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, x)| !x.is_null())
                .map(|(k, x)| (k.clone(), drop_nulls(x)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(drop_nulls).collect()),
        other => other.clone(),
    }
}

/// What `family` finds wrong with the job `job_id` whose document is
/// `document` (the `jobDocument` object), as received.
pub fn check(family: DeviceFamily, job_id: &str, document: &Value) -> Vec<Finding> {
    match family {
        DeviceFamily::FreertosOtaAgent => freertos::check(job_id, document),
        DeviceFamily::AwsIotJobsParser => jobs_parser::check(job_id, document),
        DeviceFamily::NrfAwsFota => nrf::check(job_id, document),
    }
}

/// [`check`] on both views, each finding once.
pub fn check_both_views(family: DeviceFamily, job_id: &str, document: &Value) -> Vec<Finding> {
    let mut out = Vec::new();
    for view in [View::NullsKept, View::NullsDropped] {
        for f in check(family, job_id, &as_received(document, view)) {
            if !out.contains(&f) {
                out.push(f);
            }
        }
    }
    out
}

/// The findings that decide for a request: those of the families it names
/// (`ota:devices`), or with none named those of the families that read the
/// document's `format` (then only warnings). Before signing with a profile
/// (`signature_known` false) the signature rules are left out: create-job
/// judges them on the signer's answer.
pub fn findings_for(
    devices: &[DeviceFamily],
    format: crate::values::DocumentFormat,
    job_id: &str,
    document: &Value,
    signature_known: bool,
) -> Vec<Finding> {
    let families: Vec<DeviceFamily> = if devices.is_empty() {
        DeviceFamily::ALL
            .into_iter()
            .filter(|f| f.reads(format))
            .collect()
    } else {
        devices.to_vec()
    };
    families
        .into_iter()
        .flat_map(|f| check_both_views(f, job_id, document))
        .filter(|f| signature_known || !is_signature_rule(f.rule))
        .collect()
}

/// The InvalidRequest for findings of the families a request names, one
/// problem per finding under `field` (where `devices` came from).
pub fn refusal(findings: &[Finding], field: &str) -> crate::OtaError {
    let mut p = crate::Problems::default();
    for f in findings {
        p.push(
            field.to_string(),
            format!(
                "{f}; leave this family out of {field} if none of its devices take this update"
            ),
        );
    }
    crate::OtaError::InvalidRequest(p)
}

/// A finding for `family`.
pub(crate) fn finding(
    family: DeviceFamily,
    rule: &'static str,
    source: &'static str,
    message: impl Into<String>,
) -> Finding {
    Finding {
        family,
        rule,
        source,
        message: message.into(),
    }
}

/// A member as coreJSON hands it over: a JSON string without its quotes, or
/// the raw text of any other value (`null` -> "null"); the libraries read
/// numbers digit by digit from this text too.
pub(crate) fn core_json_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nulls_are_dropped_at_every_depth_and_kept_otherwise() {
        let d = json!({"a": null, "b": [{"c": null, "d": 1}], "e": {"f": null}});
        assert_eq!(
            as_received(&d, View::NullsDropped),
            json!({"b": [{"d": 1}], "e": {}})
        );
        assert_eq!(as_received(&d, View::NullsKept), d);
    }

    #[test]
    fn family_names_round_trip() {
        for f in DeviceFamily::ALL {
            assert_eq!(DeviceFamily::parse(f.as_str()), Ok(f));
        }
        assert!(DeviceFamily::parse("esp32")
            .unwrap_err()
            .contains("freertos-ota-agent, aws-iot-jobs-parser, nrf-aws-fota"));
    }
}
