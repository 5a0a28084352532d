//! Device findings (ota_core::devices) as log lines, the same from
//! start-signing's preflight and from create-job. No AWS call here.

/// A warning line per finding, with the family, the rule and its source.
pub fn warn_findings(findings: &[ota_core::devices::Finding]) {
    for f in findings {
        tracing::warn!(device_family = f.family.as_str(), rule = f.rule, source = f.source, message = %f.message, "a device library would not take this document as meant");
    }
}
