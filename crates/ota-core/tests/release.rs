//! Multi-file releases in ota-core: the release manifest
//! (ota_core::manifest::parse_release_manifest), the file rules
//! (ota_core::release::resolve) and the N-file job document
//! (ota_core::job_document::build_files), judged by the device rules.

use ota_core::devices::{check_both_views, DeviceFamily};
use ota_core::job_document::{build_files, check_files_fit_any_signature, DocumentFile};
use ota_core::manifest::{parse_manifest, parse_release_manifest};
use ota_core::release::{resolve, Prefixes, ReleaseFile, ReleaseFileSpec};
use ota_core::request::{validate, RequestContext};
use ota_core::tags::parse_tags;
use ota_core::values::DocumentFormat;
use ota_core::{OtaError, OtaRequest, Signing};
use serde_json::{json, Value};

const PREFIXES: Prefixes<'static> = Prefixes {
    upload: "firmware/",
    signed: "signed/",
    manifest: "manifests/",
    release: "releases/",
};
const SIG_A: &str = "MEUCIQDkRJ1lbcw7xq2yPqDmo3jUxm8bTI9zNr8yFQjH3lG9OgIgKH2Jx0uY5nG1y8Zq3kz4JmPq7s8B0o1bC2dE3fG4hI0=";
const SIG_B: &str = "MEQCIBk1n4Xw0ZpYbq7r8s9t0u1v2w3x4y5z6A7B8C9D0E1FAiB2C3D4E5F6G7H8I9J0K1L2M3N4O5P6Q7R8S9T0U1V2Ww==";

fn fields(p: &ota_core::Problems) -> Vec<&str> {
    p.iter().map(|q| q.field.as_str()).collect()
}

fn problems(e: OtaError) -> Vec<(String, String)> {
    e.problems()
        .iter()
        .map(|q| (q.field.clone(), q.message.clone()))
        .collect()
}

#[test]
fn a_two_file_release_manifest_parses_in_order_with_each_files_own_signing() {
    let m = br#"{
      "targets": ["thinggroup/Lab"],
      "signingProfile": "AppProfile",
      "jobExecutionsRetryConfig": {"criteriaList": [{"failureType": "FAILED", "numberOfRetries": 2}]},
      "files": [
        {"key": "firmware/app-v2.bin", "filePath": "/ota/app.bin", "fileType": 0},
        {"key": "firmware/radio-v7.bin", "versionId": "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY",
         "filePath": "/ota/radio.bin", "fileType": 2,
         "customCodeSigning": {"signature": "MEUCIQ==", "signatureAlgorithm": "SHA256withECDSA", "certfile": "radio.crt"}}
      ]
    }"#;
    let (spec, files, p) = parse_release_manifest(m, "releases/r2.json");
    assert!(p.is_empty(), "{p}");
    assert_eq!(spec.profile.as_deref(), Some("AppProfile"));
    assert!(spec.retry.is_some());
    assert_eq!(files.len(), 2);
    assert_eq!(files[0].key, "firmware/app-v2.bin");
    assert_eq!(files[0].version_id, None);
    assert_eq!(files[1].file_type, Some(2));
    assert_eq!(
        files[1].version_id.as_deref(),
        Some("3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY")
    );
    assert_eq!(files[1].pre_signed.as_ref().unwrap().certfile, "radio.crt");

    let resolved = resolve(
        &files,
        DocumentFormat::AfrOta,
        spec.profile.as_deref(),
        &PREFIXES,
    )
    .unwrap();
    assert_eq!(
        resolved[0].signing,
        Signing::Profile {
            profile_name: "AppProfile".into()
        }
    );
    assert!(
        matches!(&resolved[1].signing, Signing::PreSigned { certfile, .. } if certfile == "radio.crt")
    );
    assert_eq!(resolved[1].file_path, "/ota/radio.bin");
}

#[test]
fn per_file_fields_at_the_top_and_files_in_an_ota_manifest_are_refused_with_the_reason() {
    let m = br#"{"filePath": "/a", "fileType": 1,
      "customCodeSigning": {"signature": "MEUCIQ==", "signatureAlgorithm": "SHA256withECDSA", "certfile": "c"},
      "files": [{"key": "firmware/a.bin"}]}"#;
    let (_, _, p) = parse_release_manifest(m, "releases/r.json");
    assert_eq!(
        fields(&p),
        [
            "manifest.filePath",
            "manifest.fileType",
            "manifest.customCodeSigning"
        ],
        "{p}"
    );
    assert!(p.iter().all(|q| q.message.contains("per file")), "{p}");

    let (_, p) = parse_manifest(
        br#"{"files": [{"key": "firmware/a.bin"}]}"#,
        "manifests/m.json",
    );
    assert_eq!(fields(&p), ["manifest.files"]);
    assert!(p.0[0].message.contains("ReleasePrefix"), "{p}");
}

#[test]
fn a_release_has_one_to_ten_files() {
    let (_, _, p) = parse_release_manifest(br#"{"targets": ["thing/a"]}"#, "r.json");
    assert_eq!(fields(&p), ["manifest.files"]);
    assert!(p.0[0].message.contains("is missing"), "{p}");
    let (_, _, p) = parse_release_manifest(br#"{"files": []}"#, "r.json");
    assert!(p.0[0].message.contains("lists 0 files"), "{p}");
    let entries: Vec<Value> = (0..11)
        .map(|i| json!({"key": format!("firmware/f{i}.bin")}))
        .collect();
    let text = json!({ "files": entries }).to_string();
    let (_, files, p) = parse_release_manifest(text.as_bytes(), "r.json");
    assert!(files.is_empty());
    assert!(
        p.0[0]
            .message
            .contains("lists 11 files; a release has 1 to 10"),
        "{p}"
    );
    let ten = json!({ "files": (0..10).map(|i| json!({"key": format!("firmware/f{i}.bin")})).collect::<Vec<_>>() }).to_string();
    let (_, files, p) = parse_release_manifest(ten.as_bytes(), "r.json");
    assert!(p.is_empty(), "{p}");
    assert_eq!(files.len(), 10);
}

#[test]
fn every_file_problem_is_reported_at_once_under_its_index() {
    let m = br#"{"files": [
      {"key": "firmware/ok.bin"},
      {"key": "", "versionId": "has space", "filePath": "", "fileType": 256},
      {"key": "firmware/b.bin", "signingProfile": "P1",
       "customCodeSigning": {"signature": "MEUCIQ==", "signatureAlgorithm": "SHA256withECDSA", "certfile": "c"}},
      {"key": "firmware/c.bin", "customCodeSigning": {"signature": "not base64!"}}
    ]}"#;
    let (_, files, p) = parse_release_manifest(m, "r.json");
    assert_eq!(
        fields(&p),
        [
            "manifest.files[1].key",
            "manifest.files[1].versionId",
            "manifest.files[1].filePath",
            "manifest.files[1].fileType",
            "manifest.files[2].customCodeSigning",
            "manifest.files[3].customCodeSigning.signature",
            "manifest.files[3].customCodeSigning.signatureAlgorithm",
            "manifest.files[3].customCodeSigning.certfile",
        ],
        "{p}"
    );
    assert_eq!(files.len(), 1, "only the good file is kept");
    // An unknown field in an entry is the manifest's one shape problem.
    let (_, _, p) = parse_release_manifest(
        br#"{"files": [{"key": "firmware/a", "fileName": "a"}]}"#,
        "r.json",
    );
    assert_eq!(p.len(), 1);
    assert!(p.0[0].message.contains("unknown field `fileName`"), "{p}");
}

fn spec(key: &str) -> ReleaseFileSpec {
    ReleaseFileSpec {
        key: key.into(),
        version_id: None,
        file_path: None,
        file_type: None,
        profile: None,
        pre_signed: None,
    }
}

#[test]
fn files_must_be_firmware_under_the_upload_prefix_listed_once_with_distinct_device_paths() {
    let files = [
        spec("firmware/app.bin"),
        spec("other/loader.bin"),
        spec("signed/job-1"),
        spec("manifests/m.json"),
        spec("releases/r.json"),
        spec("firmware/app.bin"),
        spec("firmware/v2/app.bin"),
        ReleaseFileSpec {
            version_id: Some("v1".into()),
            file_path: Some("/b".into()),
            ..spec("firmware/app.bin")
        },
    ];
    let e = resolve(&files, DocumentFormat::AfrOta, Some("P1"), &PREFIXES).unwrap_err();
    assert_eq!(e.error_type(), "InvalidRequest");
    let got = problems(e);
    let named: Vec<&str> = got.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        named,
        [
            "manifest.files[1].key",
            "manifest.files[2].key",
            "manifest.files[3].key",
            "manifest.files[4].key",
            "manifest.files[5].key",
            "manifest.files[5].filePath",
            "manifest.files[6].filePath",
        ],
        "{got:?}"
    );
    assert!(
        got[0].1.contains("not under the upload prefix firmware/"),
        "{got:?}"
    );
    assert!(got[1].1.contains("the signed prefix"), "{got:?}");
    assert!(got[2].1.contains("the manifest prefix"), "{got:?}");
    assert!(got[3].1.contains("the release prefix"), "{got:?}");
    assert!(
        got[4]
            .1
            .contains("same object version as manifest.files[0]"),
        "{got:?}"
    );
    assert!(
        got[6]
            .1
            .contains("'app.bin' is also the device path of manifest.files[0]"),
        "{got:?}"
    );
}

#[test]
fn signing_falls_back_to_the_release_profile_and_is_required_for_afr_ota() {
    let e = resolve(
        &[spec("firmware/a.bin")],
        DocumentFormat::AfrOta,
        None,
        &PREFIXES,
    )
    .unwrap_err();
    let got = problems(e);
    assert_eq!(got[0].0, "manifest.files[0].signingProfile");
    assert!(got[0].1.contains("DefaultSigningProfile"), "{got:?}");
    let own = ReleaseFileSpec {
        profile: Some("Own".into()),
        ..spec("firmware/b.bin")
    };
    let r = resolve(
        &[spec("firmware/a.bin"), own],
        DocumentFormat::AfrOta,
        Some("Default"),
        &PREFIXES,
    )
    .unwrap();
    let names: Vec<&Signing> = r.iter().map(|f| &f.signing).collect();
    assert_eq!(
        names,
        [
            &Signing::Profile {
                profile_name: "Default".into()
            },
            &Signing::Profile {
                profile_name: "Own".into()
            }
        ]
    );
}

#[test]
fn aws_fota_releases_have_one_unsigned_file() {
    let two = [spec("firmware/a.bin"), spec("firmware/b.bin")];
    let got = problems(resolve(&two, DocumentFormat::AwsFota, None, &PREFIXES).unwrap_err());
    assert_eq!(got[0].0, "manifest.files");
    assert!(
        got[0].1.contains("an aws_fota document carries one"),
        "{got:?}"
    );
    let signed = ReleaseFileSpec {
        profile: Some("P1".into()),
        ..spec("firmware/a.bin")
    };
    let got = problems(resolve(&[signed], DocumentFormat::AwsFota, None, &PREFIXES).unwrap_err());
    assert_eq!(got[0].0, "manifest.files[0].signingProfile");
    let one = resolve(
        &[spec("firmware/a.bin")],
        DocumentFormat::AwsFota,
        None,
        &PREFIXES,
    )
    .unwrap();
    assert_eq!(one[0].signing, Signing::Unsigned);
}

fn request(protocols: &str) -> OtaRequest {
    let tags = vec![
        ("ota:targets".to_string(), "thinggroup/Lab".to_string()),
        ("ota:profile".to_string(), "OtaProfile".to_string()),
        ("ota:protocols".to_string(), protocols.to_string()),
    ];
    let (spec, p) = parse_tags(&tags);
    assert!(p.is_empty(), "{p}");
    let ctx = RequestContext {
        partition: "aws".into(),
        region: "us-east-1".into(),
        account: "123456789012".into(),
        bucket: "fw".into(),
        key: "releases/r2.json".into(),
        version_id: "m1".into(),
        upload_time: time::macros::datetime!(2026-11-22 10:00 UTC),
    };
    validate(&spec, &ctx).unwrap()
}

fn file<'a>(r: &'a ReleaseFile, version: &'a str, size: u64, sig: &'a str) -> DocumentFile<'a> {
    DocumentFile {
        bucket: "fw",
        key: &r.key,
        version_id: version,
        region: "us-east-1",
        size,
        signature: sig,
        signature_algorithm: "SHA256withECDSA",
        certfile: "ecdsa-signer.crt",
        file_path: &r.file_path,
        file_type: r.file_type,
    }
}

fn two_files() -> Vec<ReleaseFile> {
    let radio = ReleaseFileSpec {
        file_path: Some("/ota/radio.bin".into()),
        file_type: Some(2),
        ..spec("firmware/radio-v7.bin")
    };
    resolve(
        &[spec("firmware/app-v2.bin"), radio],
        DocumentFormat::AfrOta,
        Some("P"),
        &PREFIXES,
    )
    .unwrap()
}

#[test]
fn a_two_file_document_has_one_entry_per_file_in_order_with_file_ids_0_and_1() {
    let r = two_files();
    let files = [
        file(&r[0], "va", 366_816, SIG_A),
        file(&r[1], "vb", 81_920, SIG_B),
    ];
    let (doc, text) = build_files(&request("MQTT HTTP"), Some("AFR_OTA-r2-1a2b"), &files).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), doc);
    let f = doc["afr_ota"]["files"].as_array().unwrap();
    assert_eq!(f.len(), 2);
    assert_eq!(doc["afr_ota"]["streamname"], "AFR_OTA-r2-1a2b");
    assert_eq!(
        (
            f[0]["fileid"].clone(),
            f[0]["filepath"].clone(),
            f[0]["filesize"].clone(),
            f[0]["fileType"].clone(),
            f[0]["sig-sha256-ecdsa"].clone()
        ),
        (
            json!(0),
            json!("app-v2.bin"),
            json!(366_816),
            json!(0),
            json!(SIG_A)
        )
    );
    assert_eq!(
        (
            f[1]["fileid"].clone(),
            f[1]["filepath"].clone(),
            f[1]["filesize"].clone(),
            f[1]["fileType"].clone(),
            f[1]["sig-sha256-ecdsa"].clone()
        ),
        (
            json!(1),
            json!("/ota/radio.bin"),
            json!(81_920),
            json!(2),
            json!(SIG_B)
        )
    );
    // Each file's URL is its own pinned version.
    assert!(f[0]["update_data_url"]
        .as_str()
        .unwrap()
        .ends_with("fw/firmware/app-v2.bin%3FversionId%3Dva}"));
    assert!(f[1]["update_data_url"]
        .as_str()
        .unwrap()
        .ends_with("fw/firmware/radio-v7.bin%3FversionId%3Dvb}"));

    // The AWS IoT Jobs OTA parser iterates over files (ota_job_handler.c
    // L92-106): it takes both.
    let jobs = check_both_views(DeviceFamily::AwsIotJobsParser, "AFR_OTA-r2-1a2b", &doc);
    assert!(jobs.is_empty(), "{jobs:?}");
}

#[test]
fn the_document_limits_apply_to_all_files_together() {
    let r = two_files();
    let no_files: [DocumentFile<'_>; 0] = [];
    assert_eq!(
        build_files(&request("MQTT"), Some("s"), &no_files)
            .unwrap_err()
            .error_type(),
        "InternalError"
    );
    let long_path = "p".repeat(16 * 1024);
    let mut big: Vec<DocumentFile<'_>> =
        vec![file(&r[0], "va", 1, SIG_A), file(&r[1], "vb", 1, SIG_B)];
    for f in &mut big {
        f.file_path = &long_path;
    }
    let e = build_files(&request("MQTT"), Some("s"), &big).unwrap_err();
    let got = problems(e);
    assert_eq!(got[0].0, "manifest.files");
    assert!(
        got[0]
            .1
            .contains("its 2 files' paths are 32768 bytes in all"),
        "{got:?}"
    );

    // Room for today's signatures but not for two of the largest devices take.
    let base = build_files(
        &request("MQTT"),
        Some("s"),
        &[file(&r[0], "va", 1, ""), file(&r[1], "vb", 1, "")],
    )
    .unwrap()
    .1
    .len();
    let tight = "c".repeat(32 * 1024 - base - 2 * SIG_A.len() - 200);
    let mut near: Vec<DocumentFile<'_>> =
        vec![file(&r[0], "va", 1, SIG_A), file(&r[1], "vb", 1, SIG_B)];
    near[0].certfile = &tight;
    assert!(build_files(&request("MQTT"), Some("s"), &near).is_ok());
    let e = check_files_fit_any_signature(&request("MQTT"), Some("s"), &near, "manifest.files")
        .unwrap_err();
    assert_eq!(e.problems()[0].field, "manifest.files");
    assert!(e.to_string().contains("with the largest signature"), "{e}");
}
