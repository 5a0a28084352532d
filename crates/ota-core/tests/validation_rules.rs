//! Every validation rule, tag by tag: a value AWS accepts passes, one it
//! rejects fails with a problem naming that tag. The manifest shares these
//! parsers (see manifest.rs tests for its field names).

use ota_core::request::{validate, RequestContext};
use ota_core::tags::parse_tags;
use time::macros::datetime;

fn ctx() -> RequestContext {
    RequestContext {
        partition: "aws".into(),
        region: "eu-west-1".into(),
        account: "123456789012".into(),
        bucket: "fw".into(),
        key: "firmware/app.bin".into(),
        version_id: "v1".into(),
        upload_time: datetime!(2026-11-22 10:00 UTC),
    }
}

/// The problems' fields for the base request plus `extra` tags (an extra tag
/// replaces a base tag with the same key).
fn fields(extra: &[(&str, &str)]) -> Vec<String> {
    let mut tags: Vec<(String, String)> = vec![
        ("ota:targets".into(), "thinggroup/Lab".into()),
        ("ota:profile".into(), "OtaProfile".into()),
    ];
    for (k, v) in extra {
        tags.retain(|(tk, _)| tk != k);
        tags.push((k.to_string(), v.to_string()));
    }
    let (spec, mut problems) = parse_tags(&tags);
    if let Err(e) = validate(&spec, &ctx()) {
        for p in e.problems() {
            problems.push(p.field.clone(), p.message.clone());
        }
    }
    problems.iter().map(|p| p.field.clone()).collect()
}

/// (tag, accepted values, rejected values); a rejected value must produce a
/// problem naming the tag.
const RULES: &[(&str, &[&str], &[&str])] = &[
    (
        "ota:targets",
        &[
            "thinggroup/Lab",
            "thing/a thing/b",
            "arn:aws:iot:eu-west-1:123456789012:thinggroup/X",
        ],
        &[
            "Lab",
            "thing/a thing/a",
            "thinggroup/a,b",
            "arn:aws:iot:eu-west-1:123:thing/x",
        ],
    ),
    (
        "ota:selection",
        &["SNAPSHOT", "CONTINUOUS"],
        &["snapshot", "ONCE"],
    ),
    ("ota:description", &["Release 1.4"], &["\u{7}bell"]),
    (
        "ota:protocols",
        &["MQTT", "HTTP", "MQTT HTTP", "HTTP MQTT"],
        &["FTP", "MQTT MQTT", "mqtt"],
    ),
    ("ota:file-path", &["/ota/app.bin"], &["\u{1}"]),
    ("ota:file-type", &["0", "255"], &["256", "-1", "x"]),
    (
        "ota:profile",
        &["Ota_Profile1", "ab"],
        &["a", "ota-profile"],
    ),
    ("ota:timeout", &["1", "10080"], &["0", "10081", "1.5"]),
    (
        "ota:retry",
        &["FAILED:0", "FAILED:10 TIMED_OUT:1", "ALL:3"],
        &[
            "FAILED:11",
            "FAILED:1 FAILED:2",
            "ALL:1 FAILED:1",
            "FAILED:1 TIMED_OUT:1 ALL:1",
            "REJECTED:1",
            "FAILED",
        ],
    ),
    (
        "ota:start",
        &["+30m", "+1d", "2027-06-01T00:00", "2027-11-22T10:00"],
        &[
            "+29m",
            "2026-11-22T10:29",
            "2027-11-22T10:01",
            "tomorrow",
            "2026-12-01 02:00",
        ],
    ),
    (
        "ota:end",
        &["+30m", "2028-11-21T10:00"],
        &["+10m", "2028-11-22T10:01", "+1"],
    ),
    (
        "ota:windows",
        &["MON-FRI@02:00/120", "DAILY@00:00/1", "SAT+SUN@23:59/1430"],
        &[
            "MON@02:00/0",
            "MON@02:00/1431",
            "XYZ@02:00/10",
            "MON@25:00/10",
            "cron(0 2 ? * SUN *)",
        ],
    ),
    (
        "ota:abort",
        &["FAILED:10:50", "ALL:100:1 REJECTED:0.5:2"],
        &[
            "FAILED:0:5",
            "FAILED:100.5:5",
            "FAILED:10:0",
            "FAILED:10:5 FAILED:20:5",
            "CANCELED:1:1",
        ],
    ),
    (
        "ota:rollout",
        &[
            "max:1",
            "max:1000",
            "base:1 factor:1.1 notified:1",
            "max:5 base:1000 factor:5 succeeded:3",
        ],
        &[
            "max:0",
            "max:1001",
            "base:1 factor:1.0 notified:1",
            "base:1 factor:2",
            "speed:3",
        ],
    ),
    (
        "ota:packages",
        &[
            "MyPkg@1.4.0",
            "a@1 b@2",
            "arn:aws:iot:eu-west-1:123456789012:package/P/version/1",
        ],
        &["MyPkg", "a@1 a@1", "@1"],
    ),
    ("ota:job-id", &["release-1_4", "x"], &["release.1"]),
    ("ota:manifest", &[], &[""]),
];

#[test]
fn every_rule_accepts_what_aws_accepts_and_rejects_the_rest_naming_the_tag() {
    for (tag, good, bad) in RULES {
        for v in *good {
            let f = fields(&[(tag, v)]);
            assert!(f.is_empty(), "{tag}={v} should pass, got problems on {f:?}");
        }
        for v in *bad {
            let f = fields(&[(tag, v)]);
            assert!(
                f.iter().any(|x| x == tag),
                "{tag}={v:?} should be rejected naming {tag}, got {f:?}"
            );
        }
    }
}

#[test]
fn long_values_are_rejected() {
    let long_id = "j".repeat(65);
    assert!(fields(&[("ota:job-id", &long_id)]).contains(&"ota:job-id".to_string()));
    let long_desc = "d".repeat(257);
    assert!(fields(&[("ota:description", &long_desc)]).contains(&"ota:description".to_string()));
    let long_profile = "p".repeat(65);
    assert!(fields(&[("ota:profile", &long_profile)]).contains(&"ota:profile".to_string()));
}

#[test]
fn cross_field_rules_name_the_right_tag() {
    assert_eq!(
        fields(&[("ota:end-behavior", "CANCEL")]),
        ["ota:end-behavior"]
    );
    assert!(fields(&[("ota:end-behavior", "CANCEL"), ("ota:end", "+1h")]).is_empty());
    assert_eq!(
        fields(&[("ota:start", "+2h"), ("ota:end", "+2h20m")]),
        ["ota:end"]
    );
    assert_eq!(
        fields(&[("ota:presigned-expiry", "600")]),
        ["ota:presigned-expiry"]
    );
    assert!(fields(&[("ota:presigned-expiry", "60"), ("ota:protocols", "HTTP")]).is_empty());
    assert!(fields(&[("ota:presigned-expiry", "3600"), ("ota:protocols", "HTTP")]).is_empty());
    assert_eq!(
        fields(&[("ota:presigned-expiry", "59"), ("ota:protocols", "HTTP")]),
        ["ota:presigned-expiry"]
    );
    assert_eq!(
        fields(&[("ota:presigned-expiry", "3601"), ("ota:protocols", "HTTP")]),
        ["ota:presigned-expiry"]
    );
    assert_eq!(
        fields(&[("ota:signature-algorithm", "SHA256withECDSA")]),
        ["ota:signature-algorithm"]
    );
    assert_eq!(fields(&[("ota:colour", "blue")]), ["ota:colour"]);
    assert!(
        fields(&[("team", "fleet")]).is_empty(),
        "the user's own tags are ignored"
    );
}
