//! The device rules (ota_core::devices) against hand-written documents: for
//! every rule, one document the real library accepts and one it rejects (or
//! misreads), with the library's behaviour quoted from its source. Then
//! every document the pipeline generates (format x protocols x algorithm x
//! optional fields) on both views, nulls kept and nulls dropped.

use ota_core::devices::{check, check_both_views, DeviceFamily, View};
use ota_core::job_document::{build, FileFacts};
use ota_core::request::{validate, RequestContext};
use ota_core::tags::parse_tags;
use serde_json::{json, Value};

use DeviceFamily::{AwsIotJobsParser as Jobs, FreertosOtaAgent as Agent, NrfAwsFota as Nordic};

const JOB: &str = "AFR_OTA-app-1a2b3c4d5e6f";
const SIG: &str = "MEUCIQDkRJ1lbcw7xq2yPqDmo3jUxm8bTI9zNr8yFQjH3lG9OgIgKH2Jx0uY5nG1y8Zq3kz4JmPq7s8B0o1bC2dE3fG4hI0=";

/// A document both AWS parsers take: CreateOTAUpdate's MQTT shape with
/// strings for every string.
fn good_mqtt() -> Value {
    json!({"afr_ota": {"protocols": ["MQTT"], "streamname": "AFR_OTA-app-1a2b3c4d5e6f", "files": [{
        "filepath": "app.bin", "filesize": 366816, "fileid": 0, "fileType": 0,
        "certfile": "ecdsa-signer.crt", "sig-sha256-ecdsa": SIG}]}})
}

fn good_http() -> Value {
    json!({"afr_ota": {"protocols": ["HTTP"], "files": [{
        "filepath": "app.bin", "filesize": 366816, "fileid": 0, "fileType": 0,
        "certfile": "ecdsa-signer.crt", "update_data_url": "https://s3.us-east-1.amazonaws.com/fw/app.bin?versionId=v1",
        "auth_scheme": "aws.s3.presigned", "sig-sha256-ecdsa": SIG}]}})
}

fn rules(family: DeviceFamily, job: &str, doc: &Value) -> Vec<&'static str> {
    check(family, job, doc)
        .into_iter()
        .map(|f| f.rule)
        .collect()
}

/// `doc` with `edit` applied to afr_ota.files[0].
fn file_edit(doc: Value, edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
    let mut d = doc;
    edit(d["afr_ota"]["files"][0].as_object_mut().unwrap());
    d
}

#[test]
fn the_good_documents_pass_both_aws_parsers() {
    for d in [good_mqtt(), good_http()] {
        assert_eq!(rules(Jobs, JOB, &d), Vec::<&str>::new(), "{d}");
    }
    assert_eq!(rules(Agent, JOB, &good_mqtt()), Vec::<&str>::new());
    // HTTP only: accepted by the agent's parser, aborted by its default
    // MQTT-only build (ota_interface.c L85-86).
    assert_eq!(rules(Agent, JOB, &good_http()), ["mqtt-in-default-build"]);
}

#[test]
fn jobs_parser_requires_filepath_certfile_and_sig_sha256_ecdsa() {
    // job_parser.c populateCommonFields: "each field must be found, in this
    // order; the first miss ends the parse" (L268-317).
    for key in ["filepath", "certfile"] {
        let d = file_edit(good_mqtt(), |f| {
            f.remove(key);
        });
        assert!(
            rules(Jobs, JOB, &d).contains(&if key == "filepath" {
                "filepath-required"
            } else {
                "certfile-required"
            }),
            "{key}"
        );
        // The agent's model has both optional (ota.c L627): it accepts.
        assert!(rules(Agent, JOB, &d).is_empty(), "{key}");
    }
    // The signature key is hard-coded (L304-317): RSA is rejected.
    let rsa = file_edit(good_mqtt(), |f| {
        let s = f.remove("sig-sha256-ecdsa").unwrap();
        f.insert("sig-sha256-rsa".into(), s);
    });
    assert_eq!(rules(Jobs, JOB, &rsa), ["signature-sha256-ecdsa"]);
    // The agent finds only its PAL's key (ota.h L70).
    assert_eq!(rules(Agent, JOB, &rsa), ["signature-key-of-the-pal"]);
}

#[test]
fn a_null_filepath_is_missing_or_the_text_null_depending_on_the_view() {
    let d = file_edit(good_mqtt(), |f| {
        f.insert("filepath".into(), Value::Null);
    });
    // Nulls dropped: missing, which the Jobs parser rejects.
    let dropped = ota_core::devices::as_received(&d, View::NullsDropped);
    assert_eq!(rules(Jobs, JOB, &dropped), ["filepath-required"]);
    // Nulls kept: coreJSON hands over the raw token `null` (core_json.c
    // L1726-1733): accepted, with the file path "null".
    assert_eq!(rules(Jobs, JOB, &d), ["string-not-null"]);
    assert_eq!(rules(Agent, JOB, &d), ["string-not-null"]);
    assert_eq!(check_both_views(Jobs, JOB, &d).len(), 2);
}

#[test]
fn file_type_is_camel_case_and_required_for_http_by_older_jobs_parsers() {
    let lower = file_edit(good_http(), |f| {
        let t = f.remove("fileType").unwrap();
        f.insert("filetype".into(), t);
    });
    // v1.5.1 job_parser.c L322-331: HTTP needs fileType.
    assert_eq!(rules(Jobs, JOB, &lower), ["fileType-for-http"]);
    // The agent reads "fileType" (ota_private.h L159) and ignores the rest.
    assert!(rules(Agent, JOB, &lower).contains(&"fileType-camel-case"));
    // MQTT without fileType: fine for both (optional in v2.0.0+, L340-351).
    let none = file_edit(good_mqtt(), |f| {
        f.remove("fileType");
    });
    assert!(rules(Jobs, JOB, &none).is_empty());
    let bad = file_edit(good_mqtt(), |f| {
        f.insert("fileType".into(), json!("one"));
    });
    assert_eq!(rules(Jobs, JOB, &bad), ["fileType-digits"]);
    assert_eq!(rules(Agent, JOB, &bad), ["fileType-number"]);
}

#[test]
fn numbers_as_the_parsers_read_them() {
    // uintFromString takes digits, also quoted (job_parser.c L480-529);
    // strtoul likewise (ota.c L1737-1746).
    let quoted = file_edit(good_mqtt(), |f| {
        f.insert("filesize".into(), json!("366816"));
    });
    assert!(rules(Jobs, JOB, &quoted).is_empty());
    assert!(rules(Agent, JOB, &quoted).is_empty());
    for bad in [json!(null), json!(-1), json!(1.5), json!(true)] {
        let d = file_edit(good_mqtt(), |f| {
            f.insert("filesize".into(), bad.clone());
        });
        assert!(rules(Jobs, JOB, &d).contains(&"number-digits"), "{bad}");
        assert!(rules(Agent, JOB, &d).contains(&"filesize-number"), "{bad}");
    }
}

#[test]
fn the_agent_refuses_an_empty_file_and_by_default_one_over_4_mib() {
    let zero = file_edit(good_mqtt(), |f| {
        f.insert("filesize".into(), json!(0));
    });
    // ota.c L2259-2262: OtaJobParseErrZeroFileSize. The Jobs parser has no
    // such check.
    assert_eq!(rules(Agent, JOB, &zero), ["filesize-nonzero"]);
    assert!(rules(Jobs, JOB, &zero).is_empty());
    let big = file_edit(good_mqtt(), |f| {
        f.insert("filesize".into(), json!(4 * 1024 * 1024 + 1));
    });
    assert_eq!(rules(Agent, JOB, &big), ["filesize-default-max"]);
    let edge = file_edit(good_mqtt(), |f| {
        f.insert("filesize".into(), json!(4 * 1024 * 1024));
    });
    assert!(rules(Agent, JOB, &edge).is_empty());
}

#[test]
fn the_agent_copies_the_raw_protocols_text_into_20_bytes() {
    // ota_private.h L117 OTA_PROTOCOL_BUFFER_SIZE 20U: ["MQTT","HTTP"] is
    // 15 bytes; pretty-printed or padded text overflows.
    let mut both = good_http();
    both["afr_ota"]["protocols"] = json!(["MQTT", "HTTP"]);
    both["afr_ota"]["streamname"] = json!("s");
    assert!(rules(Agent, JOB, &both).is_empty());
    let mut long = good_mqtt();
    long["afr_ota"]["protocols"] = json!(["MQTT", "HTTP", "MQTT"]);
    assert_eq!(rules(Agent, JOB, &long), ["protocols-buffer"]);
}

#[test]
fn stream_names_and_job_ids_within_the_libraries_buffers() {
    let mut d = good_mqtt();
    d["afr_ota"]["streamname"] = json!("s".repeat(45));
    // ota_mqtt.c L129 STREAM_NAME_MAX_LEN 44U.
    assert_eq!(rules(Agent, JOB, &d), ["streamname-length"]);
    d["afr_ota"]["streamname"] = json!("s".repeat(44));
    assert!(rules(Agent, JOB, &d).is_empty());
    // Jobs: 1-64 of [A-Za-z0-9_-] (jobs.c L149-173); agent: 72 (L111).
    let long = "j".repeat(65);
    assert_eq!(rules(Jobs, &long, &good_mqtt()), ["job-id"]);
    assert!(rules(Agent, &long, &good_mqtt()).is_empty());
    assert_eq!(
        rules(Agent, &"j".repeat(73), &good_mqtt()),
        ["job-id-length"]
    );
    assert_eq!(rules(Jobs, "a:b", &good_mqtt()), ["job-id"]);
}

#[test]
fn jobs_parser_transport_fields_follow_protocols_0() {
    let mut no_stream = good_mqtt();
    no_stream["afr_ota"]
        .as_object_mut()
        .unwrap()
        .remove("streamname");
    // v1.5.1 L284-309: MQTT needs a non-empty streamname.
    assert_eq!(rules(Jobs, JOB, &no_stream), ["streamname-for-mqtt"]);
    let no_url = file_edit(good_http(), |f| {
        f.remove("update_data_url");
    });
    assert_eq!(rules(Jobs, JOB, &no_url), ["url-for-http"]);
    let no_scheme = file_edit(good_http(), |f| {
        f.remove("auth_scheme");
    });
    assert_eq!(rules(Jobs, JOB, &no_scheme), ["auth-scheme-for-http"]);
    let mut eleven = good_mqtt();
    let file = eleven["afr_ota"]["files"][0].clone();
    eleven["afr_ota"]["files"] = json!(vec![file; 11]);
    // ota_job_handler.c L92-106: fileIndex <= 9.
    assert_eq!(rules(Jobs, JOB, &eleven), ["files-max"]);
}

#[test]
fn nordic_reads_location_and_never_afr_ota() {
    // aws_fota_json.c (2.x) L116-121: no location object -> invalid document.
    assert_eq!(rules(Nordic, JOB, &good_mqtt()), ["location-required"]);
    let url = json!({"operation": "app_fw_update", "fwversion": "v1.4", "size": 181124,
        "location": {"url": "https://fw.s3.amazonaws.com/app_update.bin"}});
    assert!(rules(Nordic, JOB, &url).is_empty());
    let host_path = json!({"location": {"protocol": "https", "host": "fw.s3.amazonaws.com", "path": "app_update.bin"}});
    assert!(rules(Nordic, JOB, &host_path).is_empty());
    assert_eq!(
        rules(Nordic, JOB, &json!({"location": {"host": "h"}})),
        ["url-or-host-path"]
    );
    // L138-143: a path over CONFIG_AWS_FOTA_FILE_PATH_MAX_LEN is URL_TOO_LONG.
    let long = json!({"location": {"url": format!("https://h/{}", "p".repeat(255))}});
    assert_eq!(rules(Nordic, JOB, &long), ["url-path-length"]);
    // A presigned URL carries its session token: over 255 once IoT
    // substitutes it, even with the shortest token assumed (the message
    // stays under 1350 bytes at that lower bound).
    let presigned = json!({"location": {"url": ota_core::job_document::presigned_url_placeholder(
        "us-east-1", "fw", "firmware/app.bin", "v1")}});
    assert_eq!(rules(Nordic, JOB, &presigned), ["url-path-length"]);
    // A long key pushes the lower bound over the message limit too.
    let long_key = json!({"location": {"url": ota_core::job_document::presigned_url_placeholder(
        "us-east-1", "fw", &format!("firmware/{}.bin", "k".repeat(200)), "v1")}});
    assert_eq!(
        rules(Nordic, JOB, &long_key),
        ["url-path-length", "message-size"]
    );
    // aws_jobs.h L57: job ids over 64 are truncated.
    assert_eq!(rules(Nordic, &"j".repeat(65), &url), ["job-id-length"]);
}

fn generated(protocols: &str, algorithm: &str, extra: &[(&str, &str)]) -> (String, Value) {
    let mut tags = vec![
        ("ota:targets".to_string(), "thinggroup/Lab".to_string()),
        ("ota:profile".to_string(), "OtaProfile".to_string()),
        ("ota:protocols".to_string(), protocols.to_string()),
    ];
    tags.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let (spec, p) = parse_tags(&tags);
    assert!(p.is_empty(), "{p}");
    let ctx = RequestContext {
        partition: "aws".into(),
        region: "us-east-1".into(),
        account: "123456789012".into(),
        bucket: "fw".into(),
        key: "firmware/app-v1.4.bin".into(),
        version_id: "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY".into(),
        upload_time: time::macros::datetime!(2026-11-22 10:00 UTC),
    };
    let req = validate(&spec, &ctx).unwrap();
    let stream = ota_core::ids::stream_id(&ctx.bucket, &ctx.key, &ctx.version_id, &req.job_id);
    let facts = FileFacts {
        bucket: &ctx.bucket,
        key: &ctx.key,
        version_id: &ctx.version_id,
        region: &ctx.region,
        size: 366_816,
        signature: SIG,
        signature_algorithm: algorithm,
        certfile: "ecdsa-signer.crt",
        stream_id: Some(&stream),
    };
    let (doc, text) = build(&req, &facts).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), doc);
    (req.job_id, doc)
}

#[test]
fn every_generated_ecdsa_document_passes_both_aws_parsers_on_both_views() {
    let optional: &[&[(&str, &str)]] = &[
        &[],
        &[("ota:file-path", "/ota/app.bin")],
        &[("ota:file-type", "1")],
        &[
            ("ota:file-path", "/ota/app.bin"),
            ("ota:file-type", "2"),
            ("ota:job-id", "release-1_4"),
        ],
    ];
    for protocols in ["MQTT", "HTTP", "MQTT HTTP", "HTTP MQTT"] {
        for extra in optional {
            let (job, doc) = generated(protocols, "SHA256withECDSA", extra);
            assert!(!doc.to_string().contains("null"), "{doc}");
            assert_eq!(
                check_both_views(Jobs, &job, &doc),
                vec![],
                "{protocols} {extra:?}: {doc}"
            );
            let agent: Vec<_> = check_both_views(Agent, &job, &doc)
                .into_iter()
                .map(|f| f.rule)
                .collect();
            let expected: &[&str] = if protocols.contains("MQTT") {
                &[]
            } else {
                &["mqtt-in-default-build"]
            };
            assert_eq!(agent, expected, "{protocols} {extra:?}: {doc}");
            // And Nordic, honestly: an afr_ota document is not its shape.
            let nordic: Vec<_> = check_both_views(Nordic, &job, &doc)
                .into_iter()
                .map(|f| f.rule)
                .collect();
            assert_eq!(nordic, ["location-required"]);
            assert_eq!(
                doc["afr_ota"]["files"][0]["filepath"],
                extra
                    .iter()
                    .find(|(k, _)| *k == "ota:file-path")
                    .map_or("app-v1.4.bin", |(_, v)| *v)
            );
        }
    }
}

#[test]
fn generated_documents_with_other_algorithms_are_what_the_jobs_parser_rejects() {
    for algorithm in ["SHA256withRSA", "SHA1withRSA", "SHA384withECDSA"] {
        let (job, doc) = generated("MQTT", algorithm, &[]);
        let rules: Vec<_> = check_both_views(Jobs, &job, &doc)
            .into_iter()
            .map(|f| f.rule)
            .collect();
        assert_eq!(rules, ["signature-sha256-ecdsa"], "{algorithm}");
        let agent: Vec<_> = check_both_views(Agent, &job, &doc)
            .into_iter()
            .map(|f| f.rule)
            .collect();
        assert_eq!(agent, ["signature-key-of-the-pal"], "{algorithm}");
    }
}

fn generated_aws_fota(extra: &[(&str, &str)]) -> (String, Value) {
    let mut tags = vec![
        ("ota:targets".to_string(), "thinggroup/Nrf".to_string()),
        ("ota:format".to_string(), "aws_fota".to_string()),
    ];
    tags.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let (spec, p) = parse_tags(&tags);
    assert!(p.is_empty(), "{p}");
    let ctx = RequestContext {
        partition: "aws".into(),
        region: "eu-west-1".into(),
        account: "123456789012".into(),
        bucket: "fw".into(),
        key: "firmware/nrf-app-v1.4.bin".into(),
        version_id: "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY".into(),
        upload_time: time::macros::datetime!(2026-11-22 10:00 UTC),
    };
    let req = validate(&spec, &ctx).unwrap();
    assert_eq!(req.signing, ota_core::Signing::Unsigned);
    let facts = FileFacts {
        bucket: &ctx.bucket,
        key: &ctx.key,
        version_id: &ctx.version_id,
        region: &ctx.region,
        size: 181_124,
        signature: "",
        signature_algorithm: "",
        certfile: "",
        stream_id: None,
    };
    let (doc, text) = build(&req, &facts).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), doc);
    (req.job_id, doc)
}

#[test]
fn every_generated_aws_fota_document_is_nordics_shape_and_only_its_buffer_sizes_are_found() {
    for extra in [
        &[][..],
        &[("ota:firmware-version", "v1.4.0")],
        &[
            ("ota:job-id", "nrf-release-1_4"),
            ("ota:presigned-expiry", "600"),
        ],
    ] {
        let (job, doc) = generated_aws_fota(extra);
        assert!(!doc.to_string().contains("null"), "{doc}");
        // The document has location.url, so the library would download; what
        // is found is the default buffers against a presigned URL with a
        // session token: the path always, the 1350-byte message at the
        // estimate's edge (README: raise CONFIG_AWS_FOTA_FILE_PATH_MAX_LEN
        // and CONFIG_AWS_FOTA_PAYLOAD_SIZE).
        let nordic: Vec<_> = check_both_views(Nordic, &job, &doc)
            .into_iter()
            .map(|f| f.rule)
            .collect();
        assert_eq!(nordic.first(), Some(&"url-path-length"), "{extra:?}: {doc}");
        assert!(
            nordic[1..].iter().all(|r| *r == "message-size"),
            "{extra:?}: {nordic:?}"
        );
        // The afr_ota families do not take it: the agent hands it to the
        // application's custom-job callback, the Jobs parser finds no afr_ota.
        let agent: Vec<_> = check_both_views(Agent, &job, &doc)
            .into_iter()
            .map(|f| f.rule)
            .collect();
        assert_eq!(agent, ["afr-ota-required"]);
        assert!(!check_both_views(Jobs, &job, &doc).is_empty());
        // With no ota:devices, the families checked are those of the format.
        let format = ota_core::values::DocumentFormat::AwsFota;
        let findings = ota_core::devices::findings_for(&[], format, &job, &doc, true);
        assert!(findings.iter().all(|f| f.family == Nordic), "{findings:?}");
    }
}

#[test]
fn a_long_key_still_gives_a_stream_name_the_agent_can_open() {
    // ota_mqtt.c L129: STREAM_NAME_MAX_LEN 44. Found by the e2e device view
    // (tests/e2e/tests/devices.rs) with a 40-character file name.
    let key = format!("firmware/{}.bin", "very-long-release-name-".repeat(4));
    let job = ota_core::ids::job_id("fw", &key, "v1");
    let stream = ota_core::ids::stream_id("fw", &key, "v1", &job);
    assert!(stream.len() <= 44, "{stream}");
    let doc = json!({"afr_ota": {"protocols": ["MQTT"], "streamname": stream, "files": [{
        "filepath": "app.bin", "filesize": 1000, "fileid": 0, "fileType": 0,
        "certfile": "c.crt", "sig-sha256-ecdsa": SIG}]}});
    assert!(rules(Agent, &job, &doc).is_empty(), "{doc}");
}
