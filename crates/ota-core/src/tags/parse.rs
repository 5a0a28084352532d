//! Reading tags into a RequestSpec: which `ota:` key a tag is, then its value
//! parsed with its field's parser. A problem names the tag it comes from.

use super::examples::example_of;
use super::rollout::parse_rollout;
use super::s3_rules::check_s3_tag_rules;
use super::TAG_PREFIX;
use crate::error::Problems;
use crate::spec::{tag_key, RequestSpec, FIELDS};
use crate::times::TimeSpec;
use crate::values::*;

fn list<T>(
    field: &str,
    v: &str,
    parse: impl Fn(&str) -> Result<T, String>,
    p: &mut Problems,
) -> Option<Vec<T>> {
    let mut out = Vec::new();
    let mut ok = true;
    for item in v.split_whitespace() {
        match parse(item) {
            Ok(x) => out.push(x),
            Err(e) => {
                p.push(tag_key(field), e);
                ok = false;
            }
        }
    }
    if out.is_empty() && ok {
        p.push(tag_key(field), "is empty; give at least one value");
        return None;
    }
    ok.then_some(out)
}

fn one<T>(
    field: &str,
    v: &str,
    parse: impl Fn(&str) -> Result<T, String>,
    p: &mut Problems,
) -> Option<T> {
    match parse(v.trim()) {
        Ok(x) => Some(x),
        Err(e) => {
            p.push(tag_key(field), e);
            None
        }
    }
}

fn no_duplicates<T: PartialEq + std::fmt::Display>(
    field: &str,
    items: &[T],
    p: &mut Problems,
) -> bool {
    for (i, x) in items.iter().enumerate() {
        if items[..i].contains(x) {
            p.push(
                tag_key(field),
                format!("lists '{x}' twice; each value at most once"),
            );
            return false;
        }
    }
    true
}

/// A rule over a whole list (retry, abort) as a filter: false, with its
/// problem under `key`, when the list breaks it.
fn passes(key: &str, rule: Result<(), String>, p: &mut Problems) -> bool {
    match rule {
        Ok(()) => true,
        Err(e) => {
            p.push(key.to_string(), e);
            false
        }
    }
}

/// An S3 key, as the manifest tag names one.
fn parse_s3_key(x: &str) -> Result<String, String> {
    if x.is_empty() || x.len() > 1024 {
        Err("is not an S3 key (1 to 1024 characters)".to_string())
    } else {
        Ok(x.to_string())
    }
}

/// Parses the object's tags. Tags without the `ota:` prefix are the user's
/// own and ignored; an unknown `ota:` key is an error (a typo must not
/// silently drop a setting).
pub fn parse_tags(tags: &[(String, String)]) -> (RequestSpec, Problems) {
    let mut p = check_s3_tag_rules(tags);
    let mut s = RequestSpec::default();
    for (key, v) in tags {
        if let Some(field) = field_of(key, v, &mut p) {
            parse_value(&mut s, field, key, v, &mut p);
        }
    }
    (s.with_source(|f| tag_key(f).to_string()), p)
}

/// The field an `ota:` tag sets. None for the user's own tags, and None with
/// a problem for an unknown `ota:` key or an empty value.
fn field_of(key: &str, v: &str, p: &mut Problems) -> Option<&'static str> {
    key.strip_prefix(TAG_PREFIX)?;
    let Some((field, _, _)) = FIELDS.iter().find(|(_, t, _)| *t == key) else {
        let known: Vec<&str> = FIELDS.iter().map(|(_, t, _)| *t).collect();
        p.push(
            key.to_string(),
            format!("unknown ota: tag; known tags are {}", known.join(", ")),
        );
        return None;
    };
    if v.trim().is_empty() {
        p.push(
            key.to_string(),
            format!(
                "is empty; remove the tag or give a value, e.g. {}",
                example_of(key)
            ),
        );
        return None;
    }
    Some(*field)
}

/// Parses one tag's value into its field of `s`.
fn parse_value(s: &mut RequestSpec, field: &'static str, key: &str, v: &str, p: &mut Problems) {
    let parsed = parse_delivery(s, field, v, p)
        || parse_signing(s, field, v, p)
        || parse_schedule(s, field, v, p)
        || parse_job_rules(s, field, key, v, p)
        || parse_references(s, field, v, p);
    if !parsed {
        p.push(key.to_string(), "has no parser (a bug in ota-core)");
    }
}

/// What is sent to whom, and how: targets, selection, description,
/// protocols, file path and type. False for any other field.
fn parse_delivery(s: &mut RequestSpec, field: &'static str, v: &str, p: &mut Problems) -> bool {
    match field {
        "targets" => {
            s.targets = list(field, v, parse_target, p).filter(|t| no_duplicates(field, t, p))
        }
        "target_selection" => s.target_selection = one(field, v, TargetSelection::parse, p),
        "description" => s.description = one(field, v, parse_description, p),
        "protocols" => {
            s.protocols = list(field, v, Protocol::parse, p).filter(|t| no_duplicates(field, t, p))
        }
        "file_path" => s.file_path = one(field, v, parse_device_path, p),
        "file_type" => s.file_type = one(field, v, |x| FILE_TYPE.parse(x), p),
        "devices" => {
            s.devices = list(field, v, crate::devices::DeviceFamily::parse, p)
                .filter(|t| no_duplicates(field, t, p))
        }
        "format" => s.format = one(field, v, DocumentFormat::parse, p),
        "firmware_version" => s.firmware_version = one(field, v, parse_firmware_version, p),
        _ => return false,
    }
    true
}

/// The signing profile, or pre-signed firmware's signature, algorithm and
/// certificate path. False for any other field.
fn parse_signing(s: &mut RequestSpec, field: &'static str, v: &str, p: &mut Problems) -> bool {
    match field {
        "profile" => s.profile = one(field, v, parse_profile_name, p),
        "signature" => s.signature = one(field, v, parse_signature, p),
        "signature_algorithm" => {
            s.signature_algorithm = one(field, v, parse_signature_algorithm, p)
        }
        "certfile" => s.certfile = one(field, v, parse_device_path, p),
        _ => return false,
    }
    true
}

/// Start, end, end behavior and maintenance windows. False for any other
/// field.
fn parse_schedule(s: &mut RequestSpec, field: &'static str, v: &str, p: &mut Problems) -> bool {
    match field {
        "start" => s.start = one(field, v, TimeSpec::parse, p),
        "end" => s.end = one(field, v, TimeSpec::parse, p),
        "end_behavior" => s.end_behavior = one(field, v, EndBehavior::parse, p),
        "windows" => s.windows = list(field, v, parse_window, p),
        _ => return false,
    }
    true
}

/// How executions run: timeout, retry, abort, rollout and the presigned URL
/// lifetime. False for any other field.
fn parse_job_rules(
    s: &mut RequestSpec,
    field: &'static str,
    key: &str,
    v: &str,
    p: &mut Problems,
) -> bool {
    match field {
        "timeout_minutes" => s.timeout_minutes = one(field, v, |x| TIMEOUT_MINUTES.parse(x), p),
        "retry" => {
            s.retry = list(field, v, parse_retry_criterion, p)
                .filter(|l| passes(key, check_retry_list(l), p))
        }
        "abort" => {
            s.abort = list(field, v, parse_abort_criterion, p)
                .filter(|l| passes(key, check_abort_list(l), p))
        }
        "rollout" => s.rollout = one(field, v, parse_rollout, p),
        "presigned_expiry_seconds" => {
            s.presigned_expiry_seconds = one(field, v, |x| PRESIGNED_EXPIRY_SECONDS.parse(x), p)
        }
        _ => return false,
    }
    true
}

/// What the job refers to: package versions (and the one this upload
/// becomes), its own id, the manifest. False
/// for any other field.
fn parse_references(s: &mut RequestSpec, field: &'static str, v: &str, p: &mut Problems) -> bool {
    match field {
        "packages" => {
            s.packages = list(field, v, parse_package, p).filter(|t| no_duplicates(field, t, p))
        }
        "register_package" => s.register_package = one(field, v, parse_package_registration, p),
        "register_default" => s.register_default = one(field, v, parse_switch, p),
        "document_values" => s.document_values = one(field, v, DocumentValues::parse, p),
        "job_id" => s.job_id = one(field, v, parse_job_id, p),
        "manifest" => s.manifest = one(field, v, parse_s3_key, p),
        _ => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tags::test_support::t;

    #[test]
    fn the_design_example_parses() {
        let (s, p) = parse_tags(&t(&[
            ("ota:targets", "thinggroup/Lab thing/dev-7"),
            ("ota:start", "2026-12-01T02:00"),
            ("ota:end-behavior", "CANCEL"),
            ("ota:windows", "MON-FRI@02:00/120 SAT@01:00/60"),
            ("ota:retry", "FAILED:2 TIMED_OUT:3"),
            ("ota:timeout", "10"),
            ("ota:packages", "MyPkg@1.4.0"),
            ("ota:protocols", "MQTT HTTP"),
            ("ota:profile", "OtaProfile"),
            ("team", "firmware, not ours"),
        ]));
        // The user's own tag has a comma: S3 would refuse it, and so do we.
        assert_eq!(p.len(), 1, "{p}");
        assert_eq!(p.0[0].field, "team");
        assert_eq!(s.targets.as_ref().map(Vec::len), Some(2));
        assert_eq!(s.windows.as_ref().map(Vec::len), Some(2));
        assert_eq!(s.protocols, Some(vec![Protocol::Mqtt, Protocol::Http]));
        assert_eq!(s.source_of("retry"), "ota:retry");
    }

    #[test]
    fn every_problem_is_reported_with_its_tag() {
        let (_, p) = parse_tags(&t(&[
            ("ota:targets", "Lab"),
            ("ota:retry", "FAILED:11"),
            ("ota:timeot", "10"),
            ("ota:start", ""),
            ("ota:protocols", "MQTT MQTT"),
            ("ota:rollout", "base:10"),
        ]));
        let fields: Vec<&str> = p.iter().map(|x| x.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "ota:targets",
                "ota:retry",
                "ota:timeot",
                "ota:start",
                "ota:protocols",
                "ota:rollout"
            ],
            "{p}"
        );
        assert!(
            p.0[2].message.contains("ota:timeout"),
            "unknown key lists known keys"
        );
    }
}
