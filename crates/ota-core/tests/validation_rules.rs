//! Every validation rule, tag by tag: a value AWS accepts passes, one it
//! rejects fails with a problem naming that tag. The manifest shares these
//! parsers (see manifest/mod.rs tests for its field names).

use ota_core::manifest::parse_manifest;
use ota_core::request::{validate, RequestContext};
use ota_core::tags::{parse_tags, EXAMPLES};
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

/// The problems (field, message) for the base request plus `extra` tags (an
/// extra tag replaces a base tag with the same key) and an optional
/// manifest, merged and validated as start-signing does.
fn problems(extra: &[(&str, &str)], manifest: Option<&str>) -> Vec<(String, String)> {
    let mut tags: Vec<(String, String)> = vec![
        ("ota:targets".into(), "thinggroup/Lab".into()),
        ("ota:profile".into(), "OtaProfile".into()),
    ];
    for (k, v) in extra {
        tags.retain(|(tk, _)| tk != k);
        tags.push((k.to_string(), v.to_string()));
    }
    let (mut spec, mut problems) = parse_tags(&tags);
    if let Some(m) = manifest {
        let (m, p) = parse_manifest(m.as_bytes(), "manifests/m.json");
        problems.extend(p);
        spec = spec.or(m);
    }
    if let Err(e) = validate(&spec, &ctx()) {
        for p in e.problems() {
            problems.push(p.field.clone(), p.message.clone());
        }
    }
    problems
        .iter()
        .map(|p| (p.field.clone(), p.message.clone()))
        .collect()
}

/// The problems' fields for the base request plus `extra` tags.
fn fields(extra: &[(&str, &str)]) -> Vec<String> {
    problems(extra, None).into_iter().map(|(f, _)| f).collect()
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
        "ota:devices",
        &["freertos-ota-agent", "aws-iot-jobs-parser nrf-aws-fota"],
        &["esp32", "freertos-ota-agent freertos-ota-agent", "FreeRTOS"],
    ),
    // aws_fota is accepted as a value; with the base's profile it is a
    // cross-field problem (cross_field_rules_name_the_right_tag).
    (
        "ota:format",
        &["afr_ota"],
        &["AWS_FOTA", "nordic", "afr-ota"],
    ),
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
            // Software Package Catalog's reserved versions, spelled for tags.
            "MyPkg@+default",
            "MyPkg@+null Other@2",
        ],
        &["MyPkg", "a@1 a@1", "@1", "MyPkg@1.0+build", "MyPkg@+latest"],
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
    // aws_fota is not signed: the base's profile is the one problem.
    assert_eq!(fields(&[("ota:format", "aws_fota")]), ["ota:profile"]);
    assert!(
        fields(&[("team", "fleet")]).is_empty(),
        "the user's own tags are ignored"
    );
}

/// Bad input, one case each: (tags over the base, manifest, the field the
/// problem must name, what its message must say is allowed).
type Case = (
    &'static [(&'static str, &'static str)],
    Option<&'static str>,
    &'static str,
    &'static str,
);

const T: &str = "ota:targets";

#[rustfmt::skip]
const CORPUS: &[Case] = &[
    // every tag rule
    (&[(T, "Lab")], None, T, "expected thinggroup/NAME, thing/NAME or arn:aws:iot:REGION:ACCOUNT:thing[group]/NAME"),
    (&[(T, "thing/")], None, T, "NAME of 1-128 letters, digits"),
    (&[(T, "arn:aws:iot:eu-west-1:123:thing/x")], None, T, "arn:aws:iot:REGION:ACCOUNT:thing[group]/NAME"),
    (&[(T, "thing/a thing/a")], None, T, "each value at most once"),
    (&[("ota:selection", "ONCE")], None, "ota:selection", "one of SNAPSHOT, CONTINUOUS"),
    (&[("ota:selection", "snapshot")], None, "ota:selection", "one of SNAPSHOT, CONTINUOUS"),
    (&[("ota:protocols", "FTP")], None, "ota:protocols", "one of MQTT, HTTP"),
    (&[("ota:protocols", "MQTT MQTT")], None, "ota:protocols", "each value at most once"),
    (&[("ota:file-type", "256")], None, "ota:file-type", "a whole number from 0 to 255"),
    (&[("ota:file-type", "x")], None, "ota:file-type", "a whole number from 0 to 255"),
    (&[("ota:devices", "esp32")], None, "ota:devices", "freertos-ota-agent, aws-iot-jobs-parser, nrf-aws-fota"),
    (&[("ota:format", "nordic")], None, "ota:format", "one of afr_ota, aws_fota"),
    (&[], Some(r#"{"documentFormat":"fota"}"#), "manifest.documentFormat", "one of afr_ota, aws_fota"),
    (&[], Some(r#"{"firmwareVersion":"v1\u0007"}"#), "manifest.firmwareVersion", "1 to 256 characters with no control"),
    (&[("ota:firmware-version", "v1.4")], None, "ota:firmware-version", "applies only to ota:format=aws_fota"),
    (&[("ota:format", "aws_fota")], None, "ota:profile", "nRF devices verify the image with MCUboot"),
    (&[("ota:format", "aws_fota"), ("ota:protocols", "MQTT HTTP")], None, "ota:protocols", "downloads over HTTP only"),
    (&[("ota:format", "aws_fota"), ("ota:file-path", "/a")], None, "ota:file-path", "applies only to the afr_ota format"),
    (&[], Some(r#"{"devices":["nrf"]}"#), "manifest.devices[0]", "expected freertos-ota-agent"),
    (&[("ota:profile", "ota-profile")], None, "ota:profile", "2 to 64 letters, digits or '_'"),
    (&[("ota:timeout", "10081")], None, "ota:timeout", "a whole number from 1 to 10080"),
    (&[("ota:timeout", "1.5")], None, "ota:timeout", "a whole number from 1 to 10080"),
    (&[("ota:retry", "FAILED:11")], None, "ota:retry", "a whole number from 0 to 10"),
    (&[("ota:retry", "REJECTED:1")], None, "ota:retry", "one of FAILED, TIMED_OUT, ALL"),
    (&[("ota:retry", "FAILED")], None, "ota:retry", "TYPE:RETRIES (TYPE is FAILED, TIMED_OUT or ALL)"),
    (&[("ota:retry", "FAILED:1 FAILED:2")], None, "ota:retry", "each failure type at most once"),
    (&[("ota:retry", "FAILED:1 TIMED_OUT:1 ALL:1")], None, "ota:retry", "a retry policy has 1 or 2"),
    (&[("ota:start", "+29m")], None, "ota:start", "at least 30 minutes ahead"),
    (&[("ota:start", "2027-11-22T10:01")], None, "ota:start", "at most a year ahead"),
    (&[("ota:start", "tomorrow")], None, "ota:start", "expected YYYY-MM-DDTHH:MM (UTC) or an offset from the upload"),
    (&[("ota:end", "+10m")], None, "ota:end", "the end must be at least 30 minutes after the upload"),
    (&[("ota:end", "2028-11-22T10:01")], None, "ota:end", "within two years of the upload"),
    (&[("ota:end", "+800d")], None, "ota:end", "an offset is at most two years"),
    (&[("ota:end-behavior", "STOP")], None, "ota:end-behavior", "one of STOP_ROLLOUT, CANCEL, FORCE_CANCEL"),
    (&[("ota:windows", "MON@02:00/1431")], None, "ota:windows", "a whole number from 1 to 1430"),
    (&[("ota:windows", "XYZ@02:00/10")], None, "ota:windows", "expected DAYS@HH:MM/MINUTES"),
    (&[("ota:windows", "MON@25:00/10")], None, "ota:windows", "expected DAYS@HH:MM/MINUTES"),
    (&[("ota:abort", "FAILED:100.5:5")], None, "ota:abort", "above 0 and at most 100"),
    (&[("ota:abort", "FAILED:10:0")], None, "ota:abort", "a whole number from 1 to"),
    (&[("ota:abort", "CANCELED:1:1")], None, "ota:abort", "one of FAILED, REJECTED, TIMED_OUT, ALL"),
    (&[("ota:rollout", "max:1001")], None, "ota:rollout", "a whole number from 1 to 1000"),
    (&[("ota:rollout", "base:1 factor:1.0 notified:1")], None, "ota:rollout", "from 1.1 to 5.0"),
    (&[("ota:rollout", "base:1 factor:2")], None, "ota:rollout", "needs all of base:N, factor:F and notified:N or succeeded:N"),
    (&[("ota:rollout", "speed:3")], None, "ota:rollout", "expected max:N (1-1000 per minute)"),
    (&[("ota:rollout", "max:5 max:6")], None, "ota:rollout", "each setting at most once"),
    (&[("ota:packages", "MyPkg")], None, "ota:packages", "expected NAME@VERSION"),
    (&[("ota:packages", "a@1 a@1")], None, "ota:packages", "each value at most once"),
    (&[("ota:packages", "P0@1 P1@1 P2@1 P3@1 P4@1 P5@1 P6@1 P7@1 P8@1 P9@1 P10@1 P11@1 P12@1 P13@1 P14@1 P15@1 P16@1 P17@1 P18@1 P19@1 P20@1 P21@1 P22@1 P23@1 P24@1 P25@1")], None, "ota:packages", "26 package versions; CreateJob takes at most 25"),
    (&[("ota:job-id", "release.1")], None, "ota:job-id", "1 to 64 letters, digits, '-' or '_'"),
    (&[("ota:signature-algorithm", "MD5withRSA"), ("ota:signature", "QUJD")], None, "ota:signature-algorithm", "expected SHA<bits>with<ECDSA|RSA>"),
    (&[("ota:presigned-expiry", "59"), ("ota:protocols", "HTTP")], None, "ota:presigned-expiry", "a whole number from 60 to 3600"),
    // wrong characters and oversize values (S3's own tag rules)
    (&[(T, "thinggroup/a,b")], None, T, "use letters, digits, spaces and + - = . _ : / @"),
    (&[("ota:description", "a\u{7}b")], None, "ota:description", "use letters, digits, spaces and + - = . _ : / @"),
    (&[("ota:windows", "cron(0 2 ? * SUN *)")], None, "ota:windows", "use letters, digits, spaces and + - = . _ : / @"),
    (&[("ota:signature", "!!!")], None, "ota:signature", "A-Z a-z 0-9 + / with = padding"),
    // unknown ota: keys, empty values
    (&[("ota:timeot", "10")], None, "ota:timeot", "known tags are ota:targets, ota:selection"),
    (&[("ota:Targets", "thing/x")], None, "ota:Targets", "known tags are ota:targets"),
    (&[("ota:timeout", " ")], None, "ota:timeout", "e.g. 10"),
    (&[("ota:manifest", "")], None, "ota:manifest", "e.g. manifests/app-1.4.json"),
    (&[(T, "")], None, T, "e.g. thinggroup/Lab thing/dev-7"),
    // conflicting or missing options
    (&[("ota:signature", "MEUCIQ=="), ("ota:signature-algorithm", "SHA256withECDSA"), ("ota:certfile", "/c")], None, "ota:signature", "give one or the other"),
    (&[("ota:signature", "MEUCIQ==")], None, "ota:certfile", "needs certfile: the path of the code-signing certificate"),
    (&[("ota:end-behavior", "CANCEL")], None, "ota:end-behavior", "needs an end time (ota:end)"),
    (&[("ota:start", "+2h"), ("ota:end", "+2h20m")], None, "ota:end", "at least 30 minutes after the start"),
    (&[("ota:presigned-expiry", "600")], None, "ota:presigned-expiry", "only when ota:protocols includes HTTP"),
    (&[("ota:retry", "ALL:1 FAILED:1")], None, "ota:retry", "use it alone"),
    (&[("ota:abort", "FAILED:10:5 FAILED:20:5")], None, "ota:abort", "each failure type at most once"),
    // manifests
    (&[], Some("not json"), "ota:manifest", "a JSON object of at most 65536 bytes with the fields targets, targetSelection"),
    (&[], Some("[1,2]"), "ota:manifest", "a JSON object of at most 65536 bytes"),
    (&[], Some(r#"{"colour":1}"#), "ota:manifest", "expected one of `targets`"),
    (&[], Some(r#"{"timeoutConfig":{"inProgressTimeoutInMinutes":0}}"#), "manifest.timeoutConfig.inProgressTimeoutInMinutes", "a whole number from 1 to 10080"),
    (&[], Some(r#"{"targets":["Lab"]}"#), "manifest.targets[0]", "expected thinggroup/NAME"),
    (&[], Some(r#"{"schedulingConfig":{"maintenanceWindows":[{"startTime":"cron(0 2 ? * SUN)","durationInMinutes":90}]}}"#), "manifest.schedulingConfig.maintenanceWindows[0]", "cron() takes 6: MIN HOUR DAY-OF-MONTH MONTH DAY-OF-WEEK YEAR"),
    (&[], Some(r#"{"schedulingConfig":{"maintenanceWindows":[{"startTime":"cron(0 2 ? * SUN *)","durationInMinutes":1431}]}}"#), "manifest.schedulingConfig.maintenanceWindows[0]", "a whole number from 1 to 1430"),
    (&[], Some(r#"{"abortConfig":{"criteriaList":[{"failureType":"FAILED","action":"STOP","thresholdPercentage":10,"minNumberOfExecutedThings":1}]}}"#), "manifest.abortConfig.criteriaList[0]", "CANCEL, the only abort action"),
    (&[], Some(r#"{"jobExecutionsRetryConfig":{"criteriaList":[]}}"#), "manifest.jobExecutionsRetryConfig.criteriaList", "give at least one value"),
    (&[], Some(r#"{"jobExecutionsRolloutConfig":{"maximumPerMinute":0}}"#), "manifest.jobExecutionsRolloutConfig", "a whole number from 1 to 1000"),
    (&[], Some(r#"{"presignedUrlConfig":{"expiresInSec":10},"protocols":["HTTP"]}"#), "manifest.presignedUrlConfig.expiresInSec", "a whole number from 60 to 3600"),
    (&[], Some(r#"{"targetSelection":"ALL"}"#), "manifest.targetSelection", "one of SNAPSHOT, CONTINUOUS"),
    (&[], Some(r#"{"fileType":300}"#), "manifest.fileType", "a whole number from 0 to 255"),
    (&[], Some(r#"{"jobId":"a b"}"#), "manifest.jobId", "1 to 64 letters, digits, '-' or '_'"),
    (&[], Some(r#"{"description":"\u0007"}"#), "manifest.description", "contains U+0007, a control, format, private-use or unassigned character (Unicode category C)"),
    (&[], Some(r#"{"description":"Release\u200b1.4"}"#), "manifest.description", "contains U+200B, a control, format, private-use or unassigned character (Unicode category C)"),
    (&[], Some(r#"{"destinationPackageVersions":["P0@1.0","P1@1.0","P2@1.0","P3@1.0","P4@1.0","P5@1.0","P6@1.0","P7@1.0","P8@1.0","P9@1.0","P10@1.0","P11@1.0","P12@1.0","P13@1.0","P14@1.0","P15@1.0","P16@1.0","P17@1.0","P18@1.0","P19@1.0","P20@1.0","P21@1.0","P22@1.0","P23@1.0","P24@1.0","P25@1.0"]}"#), "manifest.destinationPackageVersions", "26 package versions; CreateJob takes at most 25"),
    (&[], Some(r#"{"destinationPackageVersions":["MyPkg@1.0+build"]}"#), "manifest.destinationPackageVersions[0]", "VERSION: 1-64 of letters, digits, '-', '_', '.'"),
    (&[], Some(r#"{"protocols":["MQTT","MQTT"]}"#), "manifest.protocols", "MQTT, HTTP or both, each once"),
    (&[], Some(r#"{"destinationPackageVersions":["x"]}"#), "manifest.destinationPackageVersions[0]", "expected NAME@VERSION"),
    (&[], Some(r#"{"schedulingConfig":{"startTime":"soon"}}"#), "manifest.schedulingConfig.startTime", "expected YYYY-MM-DDTHH:MM (UTC)"),
    (&[], Some(r#"{"schedulingConfig":{"endBehavior":"NOPE"}}"#), "manifest.schedulingConfig.endBehavior", "one of STOP_ROLLOUT, CANCEL, FORCE_CANCEL"),
    (&[], Some(r#"{"customCodeSigning":{"signature":"MEUCIQ==","signatureAlgorithm":"SHA256withDSA","certfile":"/c"}}"#), "manifest.customCodeSigning.signatureAlgorithm", "expected SHA<bits>with<ECDSA|RSA>"),
];

#[test]
fn every_rejection_names_its_field_and_says_what_is_allowed() {
    let check = |tags: &[(&str, &str)], manifest: Option<&str>, field: &str, allowed: &str| {
        let got = problems(tags, manifest);
        assert!(
            got.iter().any(|(f, m)| f == field && m.contains(allowed)),
            "{tags:?} {manifest:?}: expected a problem on {field} saying {allowed:?}, got {got:#?}"
        );
    };
    for (tags, manifest, field, allowed) in CORPUS {
        check(tags, *manifest, field, allowed);
    }
    // Oversize values.
    let (desc, id, profile) = ("d".repeat(257), "j".repeat(65), "p".repeat(65));
    check(
        &[("ota:description", &desc)],
        None,
        "ota:description",
        "S3 allows at most 256",
    );
    check(
        &[("ota:job-id", &id)],
        None,
        "ota:job-id",
        "1 to 64 letters",
    );
    check(
        &[("ota:profile", &profile)],
        None,
        "ota:profile",
        "2 to 64 letters",
    );
    check(&[("ota:colour-of-the-release-notes-and-more".repeat(4).as_str(), "x")], None, "ota:colour-of-the-release-notes-and-moreota:colour-of-the-release-notes-and-moreota:colour-of-the-release-notes-and-moreota:colour-of-the-release-notes-and-more", "tag key must be 1 to 128 characters");
    // A signature too long for a tag goes in a manifest: 516 base64
    // characters decode to 387 bytes.
    let sig = format!(
        r#"{{"customCodeSigning":{{"signature":"{}","signatureAlgorithm":"SHA256withECDSA","certfile":"/c"}}}}"#,
        "A".repeat(516)
    );
    check(
        &[],
        Some(&sig),
        "manifest.customCodeSigning.signature",
        "devices accept at most 384",
    );
    let big = format!(r#"{{"description":"{}"}}"#, "x".repeat(70_000));
    check(
        &[],
        Some(&big),
        "ota:manifest",
        "a manifest is at most 65536",
    );
    let many: Vec<(String, String)> = (0..11).map(|i| (format!("team{i}"), "x".into())).collect();
    let many: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    check(&many, None, "tags", "S3 allows at most 10 per object");
    assert!(CORPUS.len() + 7 >= 40, "{} cases", CORPUS.len() + 7);
}

#[test]
fn every_tag_example_is_valid() {
    // The examples empty-value messages show must themselves pass.
    let known: Vec<&str> = ota_core::spec::FIELDS.iter().map(|(_, t, _)| *t).collect();
    let examples: Vec<&str> = EXAMPLES.iter().map(|(t, _)| *t).collect();
    assert_eq!(examples, known, "one example per tag, in FIELDS order");
    // All at once: each parses (validation would only object to combining
    // a profile with a signature).
    let all: Vec<(String, String)> = EXAMPLES
        .iter()
        .map(|(t, v)| (t.to_string(), v.to_string()))
        .collect();
    let (_, p) = parse_tags(&all[..10]);
    assert!(p.is_empty(), "{p:?}");
    let (_, p) = parse_tags(&all[10..20]);
    assert!(p.is_empty(), "{p:?}");
    let (_, p) = parse_tags(&all[20..]);
    assert!(p.is_empty(), "{p:?}");
}
