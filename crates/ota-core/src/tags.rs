//! The tag grammar: S3 object tags under the `ota:` prefix <-> a RequestSpec.
//!
//! S3 allows at most 10 tags per object, keys up to 128 and values up to 256
//! characters, and only letters, digits, spaces and `+ - = . _ : / @`. Every
//! value below is written in those characters (lists are space-separated), so
//! a cron expression cannot be a tag: the weekly window form stands in for it
//! and the manifest carries raw cron.

use crate::error::Problems;
use crate::spec::{tag_key, RequestSpec, FIELDS};
use crate::times::TimeSpec;
use crate::values::*;

/// The prefix every pipeline tag key starts with.
pub const TAG_PREFIX: &str = "ota:";
pub const MAX_TAGS: usize = 10;
pub const MAX_KEY_LEN: usize = 128;
pub const MAX_VALUE_LEN: usize = 256;

/// A valid value of every tag, so a problem (an empty value) can show what
/// the tag takes. A test checks each one parses.
pub const EXAMPLES: &[(&str, &str)] = &[
    ("ota:targets", "thinggroup/Lab thing/dev-7"),
    ("ota:selection", "SNAPSHOT"),
    ("ota:description", "Release 1.4"),
    ("ota:protocols", "MQTT HTTP"),
    ("ota:file-path", "/ota/app.bin"),
    ("ota:file-type", "0"),
    ("ota:profile", "OtaProfile"),
    (
        "ota:signature",
        "MEUCIQDkRJ1lbcw7xq2yPqDmo3jUxm8bTI9zNr8yFQjH3lG9Og==",
    ),
    ("ota:signature-algorithm", "SHA256withECDSA"),
    ("ota:certfile", "/certs/ota.pem"),
    ("ota:timeout", "10"),
    ("ota:retry", "FAILED:2 TIMED_OUT:3"),
    ("ota:start", "+2h"),
    ("ota:end", "+3d"),
    ("ota:end-behavior", "CANCEL"),
    ("ota:windows", "MON-FRI@02:00/120"),
    ("ota:abort", "FAILED:10:50"),
    ("ota:rollout", "max:100"),
    ("ota:presigned-expiry", "600"),
    ("ota:packages", "MyPkg@1.4.0"),
    ("ota:job-id", "release-1_4"),
    ("ota:manifest", "manifests/app-1.4.json"),
];

/// The example value of a tag.
pub fn example_of(tag: &str) -> &'static str {
    EXAMPLES
        .iter()
        .find(|(t, _)| *t == tag)
        .map(|(_, e)| *e)
        .unwrap_or("?")
}

/// Whether S3 accepts this character in a tag key or value.
pub fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || c == ' ' || "+-=._:/@".contains(c)
}

/// Checks S3's own tag rules: count, lengths, characters.
pub fn check_s3_tag_rules(tags: &[(String, String)]) -> Problems {
    let mut p = Problems::default();
    if tags.len() > MAX_TAGS {
        p.push(
            "tags",
            format!("{} tags; S3 allows at most {MAX_TAGS} per object (move the rest into a manifest: ota:manifest)", tags.len()),
        );
    }
    for (k, v) in tags {
        // A problem names its tag; an empty key has no name to give.
        let field = if k.is_empty() {
            "(empty tag key)".to_string()
        } else {
            k.clone()
        };
        if k.is_empty() || k.chars().count() > MAX_KEY_LEN {
            p.push(
                field.clone(),
                format!("tag key must be 1 to {MAX_KEY_LEN} characters"),
            );
        }
        if v.chars().count() > MAX_VALUE_LEN {
            p.push(
                field.clone(),
                format!(
                    "value is {} characters; S3 allows at most {MAX_VALUE_LEN}",
                    v.chars().count()
                ),
            );
        }
        if let Some(c) = k.chars().chain(v.chars()).find(|c| !is_tag_char(*c)) {
            p.push(
                field,
                format!("'{c}' is not allowed in S3 tags; use letters, digits, spaces and + - = . _ : / @"),
            );
        }
    }
    p
}

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

pub const ROLLOUT_GRAMMAR: &str = "max:N (1-1000 per minute) and/or base:N factor:F notified:N|succeeded:N (exponential: base 1-1000, factor 1.1-5.0)";

pub fn parse_rollout(v: &str) -> Result<Rollout, String> {
    let mut r = Rollout::default();
    let (mut base, mut factor, mut crit) = (None, None, None);
    for item in v.split_whitespace() {
        let (k, n) = item
            .split_once(':')
            .ok_or_else(|| format!("'{item}' is not KEY:VALUE; expected {ROLLOUT_GRAMMAR}"))?;
        let dup = |set: bool| {
            if set {
                Err(format!("'{k}' is given twice; each setting at most once"))
            } else {
                Ok(())
            }
        };
        match k {
            "max" => {
                dup(r.maximum_per_minute.is_some())?;
                r.maximum_per_minute = Some(MAX_PER_MINUTE.parse(n)?);
            }
            "base" => {
                dup(base.is_some())?;
                base = Some(BASE_RATE_PER_MINUTE.parse(n)?);
            }
            "factor" => {
                dup(factor.is_some())?;
                factor = Some(parse_increment_factor(n)?);
            }
            "notified" => {
                dup(crit.is_some())?;
                crit = Some(RateIncrease::NotifiedThings(RATE_INCREASE_THINGS.parse(n)?));
            }
            "succeeded" => {
                dup(crit.is_some())?;
                crit = Some(RateIncrease::SucceededThings(
                    RATE_INCREASE_THINGS.parse(n)?,
                ));
            }
            _ => {
                return Err(format!(
                    "'{k}' is not a rollout setting; expected {ROLLOUT_GRAMMAR}"
                ))
            }
        }
    }
    match (base, factor, crit) {
        (None, None, None) => {}
        (Some(b), Some(f), Some(c)) => {
            r.exponential_rate = Some(ExponentialRate {
                base_rate_per_minute: b,
                increment_factor_tenths: f,
                criteria: c,
            })
        }
        _ => return Err(
            "an exponential rollout needs all of base:N, factor:F and notified:N or succeeded:N"
                .into(),
        ),
    }
    if r == Rollout::default() {
        return Err(format!("is empty; expected {ROLLOUT_GRAMMAR}"));
    }
    Ok(r)
}

pub fn render_rollout(r: &Rollout) -> String {
    let mut parts = Vec::new();
    if let Some(m) = r.maximum_per_minute {
        parts.push(format!("max:{m}"));
    }
    if let Some(e) = &r.exponential_rate {
        parts.push(format!("base:{}", e.base_rate_per_minute));
        parts.push(format!(
            "factor:{}",
            render_tenths(e.increment_factor_tenths)
        ));
        parts.push(match e.criteria {
            RateIncrease::NotifiedThings(n) => format!("notified:{n}"),
            RateIncrease::SucceededThings(n) => format!("succeeded:{n}"),
        });
    }
    parts.join(" ")
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

/// Parses the object's tags. Tags without the `ota:` prefix are the user's
/// own and ignored; an unknown `ota:` key is an error (a typo must not
/// silently drop a setting).
pub fn parse_tags(tags: &[(String, String)]) -> (RequestSpec, Problems) {
    let mut p = check_s3_tag_rules(tags);
    let mut s = RequestSpec::default();
    for (key, v) in tags {
        let Some(_) = key.strip_prefix(TAG_PREFIX) else {
            continue;
        };
        let Some((field, _, _)) = FIELDS.iter().find(|(_, t, _)| t == key) else {
            let known: Vec<&str> = FIELDS.iter().map(|(_, t, _)| *t).collect();
            p.push(
                key.clone(),
                format!("unknown ota: tag; known tags are {}", known.join(", ")),
            );
            continue;
        };
        let field: &'static str = field;
        if v.trim().is_empty() {
            p.push(
                key.clone(),
                format!(
                    "is empty; remove the tag or give a value, e.g. {}",
                    example_of(key)
                ),
            );
            continue;
        }
        match field {
            "targets" => {
                s.targets =
                    list(field, v, parse_target, &mut p).filter(|t| no_duplicates(field, t, &mut p))
            }
            "target_selection" => {
                s.target_selection = one(field, v, TargetSelection::parse, &mut p)
            }
            "description" => s.description = one(field, v, parse_description, &mut p),
            "protocols" => {
                s.protocols = list(field, v, Protocol::parse, &mut p)
                    .filter(|t| no_duplicates(field, t, &mut p))
            }
            "file_path" => s.file_path = one(field, v, parse_device_path, &mut p),
            "file_type" => s.file_type = one(field, v, |x| FILE_TYPE.parse(x), &mut p),
            "profile" => s.profile = one(field, v, parse_profile_name, &mut p),
            "signature" => s.signature = one(field, v, parse_signature, &mut p),
            "signature_algorithm" => {
                s.signature_algorithm = one(field, v, parse_signature_algorithm, &mut p)
            }
            "certfile" => s.certfile = one(field, v, parse_device_path, &mut p),
            "timeout_minutes" => {
                s.timeout_minutes = one(field, v, |x| TIMEOUT_MINUTES.parse(x), &mut p)
            }
            "retry" => {
                s.retry =
                    list(field, v, parse_retry_criterion, &mut p).filter(
                        |l| match check_retry_list(l) {
                            Ok(()) => true,
                            Err(e) => {
                                p.push(key.clone(), e);
                                false
                            }
                        },
                    )
            }
            "start" => s.start = one(field, v, TimeSpec::parse, &mut p),
            "end" => s.end = one(field, v, TimeSpec::parse, &mut p),
            "end_behavior" => s.end_behavior = one(field, v, EndBehavior::parse, &mut p),
            "windows" => s.windows = list(field, v, parse_window, &mut p),
            "abort" => {
                s.abort =
                    list(field, v, parse_abort_criterion, &mut p).filter(
                        |l| match check_abort_list(l) {
                            Ok(()) => true,
                            Err(e) => {
                                p.push(key.clone(), e);
                                false
                            }
                        },
                    )
            }
            "rollout" => s.rollout = one(field, v, parse_rollout, &mut p),
            "presigned_expiry_seconds" => {
                s.presigned_expiry_seconds =
                    one(field, v, |x| PRESIGNED_EXPIRY_SECONDS.parse(x), &mut p)
            }
            "packages" => {
                s.packages = list(field, v, parse_package, &mut p)
                    .filter(|t| no_duplicates(field, t, &mut p))
            }
            "job_id" => s.job_id = one(field, v, parse_job_id, &mut p),
            "manifest" => {
                s.manifest = one(
                    field,
                    v,
                    |x| {
                        if x.is_empty() || x.len() > 1024 {
                            Err("is not an S3 key (1 to 1024 characters)".to_string())
                        } else {
                            Ok(x.to_string())
                        }
                    },
                    &mut p,
                )
            }
            _ => p.push(key.clone(), "has no parser (a bug in ota-core)"),
        }
    }
    (s.with_source(|f| tag_key(f).to_string()), p)
}

fn join<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Renders a spec as tags, in the grammar `parse_tags` reads. Fails, naming
/// the tag, for what tags cannot carry (a raw cron window, a character S3
/// does not allow, more than 10 tags): put those in a manifest.
pub fn render_tags(s: &RequestSpec) -> Result<Vec<(String, String)>, Problems> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut p = Problems::default();
    let mut put = |field: &str, v: String| out.push((tag_key(field).to_string(), v));
    if let Some(v) = &s.targets {
        put("targets", join(v));
    }
    if let Some(v) = &s.target_selection {
        put("target_selection", v.to_string());
    }
    if let Some(v) = &s.description {
        put("description", v.clone());
    }
    if let Some(v) = &s.protocols {
        put("protocols", join(v));
    }
    if let Some(v) = &s.file_path {
        put("file_path", v.clone());
    }
    if let Some(v) = &s.file_type {
        put("file_type", v.to_string());
    }
    if let Some(v) = &s.profile {
        put("profile", v.clone());
    }
    if let Some(v) = &s.signature {
        put("signature", v.clone());
    }
    if let Some(v) = &s.signature_algorithm {
        put("signature_algorithm", v.clone());
    }
    if let Some(v) = &s.certfile {
        put("certfile", v.clone());
    }
    if let Some(v) = &s.timeout_minutes {
        put("timeout_minutes", v.to_string());
    }
    if let Some(v) = &s.retry {
        put(
            "retry",
            v.iter()
                .map(|c| format!("{}:{}", c.failure_type, c.number_of_retries))
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    if let Some(v) = &s.start {
        put("start", v.render());
    }
    if let Some(v) = &s.end {
        put("end", v.render());
    }
    if let Some(v) = &s.end_behavior {
        put("end_behavior", v.to_string());
    }
    if let Some(v) = &s.windows {
        let rendered: Option<Vec<String>> = v.iter().map(render_window).collect();
        match rendered {
            Some(r) => put("windows", r.join(" ")),
            None => p.push(
                "ota:windows",
                "a raw cron window cannot be a tag value; put it in the manifest",
            ),
        }
    }
    if let Some(v) = &s.abort {
        put(
            "abort",
            v.iter()
                .map(|a| {
                    format!(
                        "{}:{}:{}",
                        a.failure_type,
                        render_percentage(a.threshold_basis_points),
                        a.min_number_of_executed_things
                    )
                })
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    if let Some(v) = &s.rollout {
        put("rollout", render_rollout(v));
    }
    if let Some(v) = &s.presigned_expiry_seconds {
        put("presigned_expiry_seconds", v.to_string());
    }
    if let Some(v) = &s.packages {
        put("packages", join(v));
    }
    if let Some(v) = &s.job_id {
        put("job_id", v.clone());
    }
    if let Some(v) = &s.manifest {
        put("manifest", v.clone());
    }
    p.extend(check_s3_tag_rules(&out));
    if p.is_empty() {
        Ok(out)
    } else {
        Err(p)
    }
}

/// The URL-encoded `k=v&k=v` form S3's PutObject `x-amz-tagging` takes.
pub fn tagging_string(tags: &[(String, String)]) -> String {
    let enc = |s: &str| percent_encode(s, b"-_.~");
    tags.iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

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

    #[test]
    fn s3_rules_are_checked() {
        let many: Vec<(String, String)> = (0..11).map(|i| (format!("k{i}"), "v".into())).collect();
        assert!(check_s3_tag_rules(&many).0[0]
            .message
            .contains("at most 10"));
        let long = t(&[("ota:description", &"a".repeat(257))]);
        assert!(!check_s3_tag_rules(&long).is_empty());
        let ok = t(&[("ota:description", &"a".repeat(256))]);
        assert!(check_s3_tag_rules(&ok).is_empty());
        assert!(!check_s3_tag_rules(&t(&[("ota:windows", "cron(0 2 ? * SUN *)")])).is_empty());
    }

    #[test]
    fn rollout_grammar() {
        let r = parse_rollout("max:100 base:10 factor:2.5 notified:50").unwrap();
        assert_eq!(r.maximum_per_minute, Some(100));
        let e = r.exponential_rate.unwrap();
        assert_eq!(e.increment_factor(), 2.5);
        assert_eq!(e.criteria, RateIncrease::NotifiedThings(50));
        assert_eq!(render_rollout(&r), "max:100 base:10 factor:2.5 notified:50");
        assert!(parse_rollout("max:0").is_err());
        assert!(parse_rollout("max:1001").is_err());
        assert!(parse_rollout("max:5 max:6").is_err());
        assert!(parse_rollout("base:10 factor:2").is_err());
        assert!(parse_rollout("base:10 factor:2 notified:1 succeeded:1").is_err());
        assert!(parse_rollout("speed:10").is_err());
    }

    #[test]
    fn raw_cron_cannot_render_as_a_tag() {
        let s = RequestSpec {
            windows: Some(vec![MaintenanceWindow {
                start: WindowStart::Cron("cron(0 2 ? * SUN *)".into()),
                duration_minutes: 60,
            }]),
            ..Default::default()
        };
        let e = render_tags(&s).unwrap_err();
        assert_eq!(e.0[0].field, "ota:windows");
    }

    #[test]
    fn tagging_string_is_url_encoded() {
        assert_eq!(
            tagging_string(&t(&[
                ("ota:targets", "thinggroup/Lab thing/x"),
                ("ota:retry", "FAILED:2")
            ])),
            "ota%3Atargets=thinggroup%2FLab%20thing%2Fx&ota%3Aretry=FAILED%3A2"
        );
    }
}
