//! Fuzzing, proptest-driven: arbitrary and near-valid input to the three
//! parsers that read what users and AWS hand the pipeline (the tag parser
//! with validation, the manifest parser, the streaming signed-object reader)
//! never panics, and every rejection is a typed error with a message.
//!
//! cargo-fuzz needs a nightly toolchain, which this project's machines do not
//! have, so the fuzzer is proptest: random input plus mutations of valid
//! input. CI runs the default case count; a longer run on demand:
//!
//!     PROPTEST_CASES=200000 cargo test --release -p ota-core --test fuzz_parsers
//!
//! Memory: the reader's own bound is checked in `signed_object_memory.rs`.

use ota_core::manifest::parse_manifest;
use ota_core::request::{validate, RequestContext};
use ota_core::signed_object::SignedObjectReader;
use ota_core::tags::parse_tags;
use proptest::prelude::*;
use proptest::sample::select;
use time::macros::datetime;

fn ctx() -> RequestContext {
    RequestContext {
        partition: "aws".into(),
        region: "us-east-1".into(),
        account: "123456789012".into(),
        bucket: "fw".into(),
        key: "firmware/app.bin".into(),
        version_id: "v1".into(),
        upload_time: datetime!(2026-11-22 10:00 UTC),
    }
}

const TAG_KEYS: &[&str] = &[
    "ota:targets",
    "ota:selection",
    "ota:description",
    "ota:protocols",
    "ota:file-path",
    "ota:file-type",
    "ota:profile",
    "ota:signature",
    "ota:signature-algorithm",
    "ota:certfile",
    "ota:timeout",
    "ota:retry",
    "ota:start",
    "ota:end",
    "ota:end-behavior",
    "ota:windows",
    "ota:abort",
    "ota:rollout",
    "ota:packages",
    "ota:job-id",
    "ota:manifest",
    "ota:presigned-expiry",
    "ota:colour",
    "owner",
    "",
];

/// Values near the grammar: its own tokens glued in random orders, so the
/// parsers get past their first character more often than random text does.
fn near_valid_value() -> impl Strategy<Value = String> {
    let token = select(vec![
        "thinggroup/",
        "thing/",
        "Lab",
        "arn:aws:iot:us-east-1:123456789012:",
        "MQTT",
        "HTTP",
        "FAILED:",
        "TIMED_OUT:",
        "ALL:",
        "+",
        "2h",
        "30m",
        "2027-06-01T00:00",
        "MON-FRI@",
        "02:00/",
        "120",
        "max:",
        "base:",
        "factor:",
        "1.1",
        "@1.4.0",
        "CANCEL",
        " ",
        ":",
        "/",
        "-",
        "0",
        "99999999999999999999",
        "\u{0}",
        "é",
        "%",
        "=",
        "&",
    ]);
    prop::collection::vec(token, 0..12).prop_map(|t| t.concat())
}

fn tag_value() -> impl Strategy<Value = String> {
    prop_oneof![near_valid_value(), any::<String>(), "[ -~]{0,300}"]
}

fn tag_set() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(
        (
            prop_oneof![select(TAG_KEYS).prop_map(String::from), any::<String>()],
            tag_value(),
        ),
        0..12,
    )
}

proptest! {
    #[test]
    fn tags_never_panic_and_every_problem_names_a_field(tags in tag_set()) {
        let (spec, problems) = parse_tags(&tags);
        for p in problems.iter() {
            prop_assert!(!p.field.is_empty() && !p.message.is_empty(), "{p:?}");
        }
        if let Err(e) = validate(&spec, &ctx()) {
            prop_assert!(!e.to_string().is_empty());
            for p in e.problems() {
                prop_assert!(!p.field.is_empty() && !p.message.is_empty(), "{p:?}");
            }
        }
    }

    #[test]
    fn manifests_never_panic(bytes in prop_oneof![
        prop::collection::vec(any::<u8>(), 0..2048),
        // JSON-shaped: the manifest's own keys with random values.
        prop::collection::vec(
            (select(vec!["targets", "protocols", "retry", "schedule", "abort", "rollout", "files",
                         "jobId", "timeoutMinutes", "packages", "x"]), tag_value()),
            0..8,
        ).prop_map(|kv| {
            let body: Vec<String> = kv.iter()
                .map(|(k, v)| format!("{}:{}", serde_json::to_string(k).unwrap(), serde_json::to_string(v).unwrap()))
                .collect();
            format!("{{{}}}", body.join(",")).into_bytes()
        }),
    ]) {
        let (spec, problems) = parse_manifest(&bytes, "manifests/m.json");
        for p in problems.iter() {
            prop_assert!(!p.field.is_empty() && !p.message.is_empty(), "{p:?}");
        }
        let _ = validate(&spec, &ctx());
    }

    #[test]
    fn the_signed_object_reader_never_panics_whatever_the_chunking(
        doc in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..4096),
            // A valid embedded document, then mutated: bytes flipped, cut short.
            (prop::collection::vec(any::<u8>(), 0..512),
             prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
             any::<prop::sample::Index>(), any::<bool>())
                .prop_map(|(fw, flips, cut, truncate)| {
                    use base64::Engine;
                    let mut d = format!(
                        r#"{{"rawPayloadSize":{},"signature":"MEUCIQ==","signatureAlgorithm":"SHA256withECDSA","payload":"{}"}}"#,
                        fw.len(),
                        base64::engine::general_purpose::STANDARD.encode(&fw)
                    ).into_bytes();
                    for (at, b) in flips {
                        let i = at.index(d.len());
                        d[i] = b;
                    }
                    if truncate {
                        d.truncate(cut.index(d.len() + 1));
                    }
                    d
                }),
        ],
        chunk in 1usize..64,
    ) {
        let mut reader = SignedObjectReader::new();
        let mut failed = false;
        for c in doc.chunks(chunk) {
            if let Err(e) = reader.feed(c) {
                prop_assert_eq!(e.error_type(), "SignedObjectInvalid");
                failed = true;
                break;
            }
        }
        if !failed {
            if let Err(e) = reader.finish() {
                prop_assert_eq!(e.error_type(), "SignedObjectInvalid");
            }
        }
    }
}
