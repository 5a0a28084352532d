//! start-signing on a release manifest (a multi-file update) against mocked
//! S3 and Signer: everything is checked before anything is signed, every
//! problem of every file at once, and the Sign Files map's `signFile` mode
//! signs one file with a token of its own.

use aws_sdk_s3::operation::get_object::GetObjectOutput;
use aws_sdk_s3::operation::get_object_tagging::GetObjectTaggingOutput;
use aws_sdk_s3::operation::head_object::HeadObjectOutput;
use aws_sdk_signer::operation::describe_signing_job::DescribeSigningJobOutput;
use aws_sdk_signer::operation::get_signing_profile::GetSigningProfileOutput;
use aws_sdk_signer::operation::start_signing_job::StartSigningJobOutput;
use aws_sdk_signer::types::{SigningProfileStatus, SigningStatus as SignerStatus};
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use aws_smithy_types::byte_stream::ByteStream;
use ota_aws::test_support::{event, xml_error};
use ota_core::event::{StartSigningInput, StartSigningOutput, StartSigningRequest};
use ota_core::state::{FileSigningRun, SigningStatus};
use ota_core::{ids, OtaError, PipelineState, Signing};
use start_signing::{handle, handle_request, Deps, Settings};

const BUCKET: &str = "ota-pipeline-firmwarebucket-1a2b3c4d5e6f";
const RELEASE: &str = "releases/gateway-r2.json";
const RELEASE_VERSION: &str = "Q8m2rZ.Rel3aseManifestVersion0001";

/// An upload's run: start-signing's state, or the error.
async fn run(
    input: StartSigningInput,
    deps: &Deps,
) -> Result<ota_core::PipelineState, ota_core::OtaError> {
    match handle(input, deps).await? {
        StartSigningOutput::Run(state) => Ok(*state),
        other => panic!("expected the run's state, got {other:?}"),
    }
}

fn input() -> StartSigningInput {
    serde_json::from_str(&event("start-signing-release.json"))
        .expect("events/start-signing-release.json is a StartSigningInput")
}

fn settings() -> Settings {
    Settings {
        upload_prefix: "firmware/".into(),
        signed_prefix: "signed/".into(),
        manifest_prefix: "manifests/".into(),
        release_prefix: "releases/".into(),
        defaults: ota_core::request::StackDefaults {
            protocols: "MQTT".into(),
            ..Default::default()
        },
    }
}

fn deps(s3: &[&Rule], signer: &[&Rule]) -> Deps {
    Deps::new(
        mock_client!(aws_sdk_s3, RuleMode::MatchAny, s3, |c| c
            .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())),
        mock_client!(aws_sdk_signer, RuleMode::MatchAny, signer, |c| c
            .retry_config(aws_sdk_signer::config::retry::RetryConfig::disabled())),
        settings(),
    )
}

/// The release manifest's own tags: exactly its uploaded version.
fn release_tags(pairs: &'static [(&'static str, &'static str)]) -> Rule {
    mock!(aws_sdk_s3::Client::get_object_tagging)
        .match_requests(|r| r.key() == Some(RELEASE) && r.version_id() == Some(RELEASE_VERSION))
        .then_output(move || {
            let tags = pairs
                .iter()
                .map(|(k, v)| {
                    aws_sdk_s3::types::Tag::builder()
                        .key(*k)
                        .value(*v)
                        .build()
                        .unwrap()
                })
                .collect();
            GetObjectTaggingOutput::builder()
                .set_tag_set(Some(tags))
                .build()
                .unwrap()
        })
}

/// The release manifest's body, read at exactly the uploaded version.
fn release_body(json: &'static str) -> Rule {
    mock!(aws_sdk_s3::Client::get_object)
        .match_requests(|r| r.key() == Some(RELEASE) && r.version_id() == Some(RELEASE_VERSION))
        .then_output(move || {
            GetObjectOutput::builder()
                .content_length(json.len() as i64)
                .version_id(RELEASE_VERSION)
                .body(ByteStream::from_static(json.as_bytes()))
                .build()
        })
}

/// HeadObject of a release file: `version` None means the current one.
fn file_head(
    key: &'static str,
    version: Option<&'static str>,
    pinned: &'static str,
    size: i64,
) -> Rule {
    mock!(aws_sdk_s3::Client::head_object)
        .match_requests(move |r| r.key() == Some(key) && r.version_id() == version)
        .then_output(move || {
            HeadObjectOutput::builder()
                .version_id(pinned)
                .content_length(size)
                .build()
        })
}

fn file_missing(key: &'static str) -> Rule {
    mock!(aws_sdk_s3::Client::head_object)
        .match_requests(move |r| r.key() == Some(key))
        .then_http_response(|| xml_error(404, "NotFound", "Not Found"))
}

fn profile(name: &'static str, platform: &'static str, certname: &'static str) -> Rule {
    mock!(aws_sdk_signer::Client::get_signing_profile)
        .match_requests(move |r| r.profile_name() == Some(name))
        .then_output(move || {
            GetSigningProfileOutput::builder()
                .profile_name(name)
                .platform_id(platform)
                .status(SigningProfileStatus::Active)
                .signing_parameters("certname", certname)
                .build()
        })
}

fn no_signing() -> Rule {
    mock!(aws_sdk_signer::Client::start_signing_job).then_output(|| {
        StartSigningJobOutput::builder()
            .job_id("must-not-start")
            .build()
    })
}

const TWO_FILES: &str = r#"{
  "targets": ["thinggroup/Gateways"],
  "signingProfile": "AppProfile",
  "files": [
    {"key": "firmware/app-v2.bin", "filePath": "/ota/app.bin"},
    {"key": "firmware/radio-v7.bin", "versionId": "radio-v7-version", "filePath": "/ota/radio.bin", "fileType": 2,
     "signingProfile": "RadioProfile"}
  ]
}"#;

fn release_state(out: Result<PipelineState, OtaError>) -> PipelineState {
    out.unwrap_or_else(|e| panic!("{} {e}", e.error_type()))
}

#[tokio::test]
async fn a_two_file_release_is_validated_and_pinned_before_anything_is_signed() {
    let (tags, body) = (release_tags(&[]), release_body(TWO_FILES));
    let app = file_head("firmware/app-v2.bin", None, "app-current", 366_816);
    let radio = file_head(
        "firmware/radio-v7.bin",
        Some("radio-v7-version"),
        "radio-v7-version",
        81_920,
    );
    let app_profile = profile(
        "AppProfile",
        "AWSIoTDeviceManagement-SHA256-ECDSA",
        "app-signer.crt",
    );
    let radio_profile = profile("RadioProfile", "AmazonFreeRTOS-Default", "radio-signer.crt");
    let start = no_signing();
    let d = deps(
        &[&tags, &body, &app, &radio],
        &[&app_profile, &radio_profile, &start],
    );
    let s = release_state(run(input(), &d).await);
    assert_eq!(start.num_calls(), 0, "the map signs, not the validation");
    assert_eq!(s.source.key, RELEASE);
    assert_eq!(s.manifest.as_ref().unwrap().version_id, RELEASE_VERSION);
    let r = s.release.as_ref().unwrap();
    let got: Vec<(&str, &str, u64, &str, u32, &str)> = r
        .files
        .iter()
        .map(|f| {
            (
                f.key.as_str(),
                f.version_id.as_str(),
                f.size,
                f.file_path.as_str(),
                f.file_type,
                f.signing.certfile.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "firmware/app-v2.bin",
                "app-current",
                366_816,
                "/ota/app.bin",
                0,
                "app-signer.crt"
            ),
            (
                "firmware/radio-v7.bin",
                "radio-v7-version",
                81_920,
                "/ota/radio.bin",
                2,
                "radio-signer.crt"
            ),
        ]
    );
    assert!(r
        .files
        .iter()
        .all(|f| f.signing.status == SigningStatus::Pending));
    assert_eq!(
        r.files[1].method,
        Signing::Profile {
            profile_name: "RadioProfile".into()
        }
    );
    assert!(
        s.request.job_id.starts_with("AFR_OTA-gateway-r2"),
        "{}",
        s.request.job_id
    );
    // The state crosses the state machine as JSON and comes back whole.
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["release"]["files"][1]["signing"]["status"], "Pending");
    assert_eq!(serde_json::from_value::<PipelineState>(json).unwrap(), s);
}

#[tokio::test]
async fn a_release_whose_third_file_is_missing_or_too_large_creates_nothing_and_names_each() {
    const THREE: &str = r#"{"targets": ["thinggroup/Gateways"], "signingProfile": "AppProfile",
      "files": [{"key": "firmware/a.bin"}, {"key": "firmware/b.bin"}, {"key": "firmware/c.bin"}]}"#;
    let (tags, body) = (release_tags(&[]), release_body(THREE));
    let a = file_head("firmware/a.bin", None, "va", 1000);
    let b = file_head("firmware/b.bin", None, "vb", 17 * 1024 * 1024);
    let c = file_missing("firmware/c.bin");
    let freertos = profile("AppProfile", "AmazonFreeRTOS-Default", "c.crt");
    let start = no_signing();
    let d = deps(&[&tags, &body, &a, &b, &c], &[&freertos, &start]);
    let e = run(input(), &d).await.unwrap_err();
    assert_eq!(e.error_type(), "InvalidRequest");
    let fields: Vec<&str> = e.problems().iter().map(|p| p.field.as_str()).collect();
    assert_eq!(fields, ["manifest.files[2].key"], "{e}");
    assert!(
        e.to_string().contains("firmware/c.bin does not exist"),
        "{e}"
    );
    assert_eq!(
        freertos.num_calls(),
        0,
        "pinning fails first: no profile is read"
    );

    // With the third file there, the second is too large for its platform.
    let c = file_head("firmware/c.bin", None, "vc", 1000);
    let d = deps(&[&tags, &body, &a, &b, &c], &[&freertos, &start]);
    let e = run(input(), &d).await.unwrap_err();
    let fields: Vec<&str> = e.problems().iter().map(|p| p.field.as_str()).collect();
    assert_eq!(fields, ["manifest.files[1].signingProfile"], "{e}");
    assert!(e.to_string().contains("accepts at most 16777216"), "{e}");
    assert_eq!(start.num_calls(), 0);
}

#[tokio::test]
async fn the_freertos_agent_takes_one_file_so_naming_it_refuses_a_multi_file_release() {
    let (tags, body) = (
        release_tags(&[("ota:devices", "freertos-ota-agent")]),
        release_body(TWO_FILES),
    );
    let app = file_head("firmware/app-v2.bin", None, "app-current", 366_816);
    let radio = file_head(
        "firmware/radio-v7.bin",
        Some("radio-v7-version"),
        "radio-v7-version",
        81_920,
    );
    let p1 = profile(
        "AppProfile",
        "AWSIoTDeviceManagement-SHA256-ECDSA",
        "app.crt",
    );
    let p2 = profile(
        "RadioProfile",
        "AWSIoTDeviceManagement-SHA256-ECDSA",
        "radio.crt",
    );
    let d = deps(&[&tags, &body, &app, &radio], &[&p1, &p2]);
    let e = run(input(), &d).await.unwrap_err();
    assert_eq!(e.error_type(), "InvalidRequest");
    assert_eq!(e.problems()[0].field, "ota:devices");
    assert!(e.to_string().contains("files-first-only"), "{e}");
    // Without ota:devices it is a warning, and the release goes on.
    let tags = release_tags(&[]);
    let d = deps(&[&tags, &body, &app, &radio], &[&p1, &p2]);
    release_state(run(input(), &d).await);
}

#[tokio::test]
async fn release_rules_and_file_rules_are_all_reported_at_once() {
    const BAD: &str = r#"{"targets": ["thinggroup/Gateways"], "registerPackage": "Gw@2.0.0",
      "files": [{"key": "other/a.bin", "signingProfile": "P1"}, {"key": "firmware/b.bin"}]}"#;
    let (tags, body) = (
        release_tags(&[("ota:manifest", "manifests/m.json")]),
        release_body(BAD),
    );
    let d = deps(&[&tags, &body], &[]);
    let e = run(input(), &d).await.unwrap_err();
    let fields: Vec<&str> = e.problems().iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "ota:manifest",
            "manifest.registerPackage",
            "manifest.files[0].key",
            "manifest.files[1].signingProfile",
        ],
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("not under the upload prefix firmware/"),
        "{e}"
    );
}

fn pending_run() -> FileSigningRun {
    let state: serde_json::Value = serde_json::json!({
        "executionId": "arn:aws:states:us-east-1:123456789012:execution:ota-update:r2",
        "source": {"bucket": BUCKET, "key": RELEASE, "versionId": RELEASE_VERSION,
                   "uploadTime": "2026-11-22T10:00:00Z", "size": 612, "region": "us-east-1",
                   "account": "123456789012", "partition": "aws"},
        "attempt": 0,
        "file": {"key": "firmware/radio-v7.bin", "versionId": "radio-v7-version", "size": 81920,
                 "filePath": "/ota/radio.bin", "fileType": 2,
                 "method": {"kind": "profile", "profileName": "RadioProfile"},
                 "signing": {"status": "Pending", "certfile": "radio-signer.crt", "startedAt": ""}}
    });
    serde_json::from_value(state).unwrap()
}

#[tokio::test]
async fn sign_file_signs_exactly_the_files_version_with_a_token_naming_the_release() {
    let token = ids::release_signing_token(
        BUCKET,
        (RELEASE, RELEASE_VERSION),
        ("firmware/radio-v7.bin", "radio-v7-version"),
        "RadioProfile",
        0,
    );
    let start = mock!(aws_sdk_signer::Client::start_signing_job)
        .match_requests(move |r| {
            let src = r.source().and_then(|s| s.s3());
            src.map(|s| (s.key(), s.version()))
                == Some(("firmware/radio-v7.bin", "radio-v7-version"))
                && r.profile_name() == Some("RadioProfile")
                && r.client_request_token() == Some(token.as_str())
                && r.destination()
                    .and_then(|d| d.s3())
                    .and_then(|d| d.prefix())
                    == Some("signed/")
        })
        .then_output(|| StartSigningJobOutput::builder().job_id("job-radio").build());
    let look = mock!(aws_sdk_signer::Client::describe_signing_job).then_output(|| {
        DescribeSigningJobOutput::builder()
            .job_id("job-radio")
            .status(SignerStatus::InProgress)
            .build()
    });
    let d = deps(&[], &[&start, &look]);
    let request: StartSigningRequest =
        serde_json::from_value(serde_json::json!({ "signFile": pending_run() })).unwrap();
    let StartSigningOutput::File(run) = handle_request(request, &d).await.unwrap() else {
        panic!("signFile answers with the file")
    };
    assert_eq!(start.num_calls(), 1);
    assert_eq!(run.file.signing.status, SigningStatus::InProgress);
    assert_eq!(run.file.signing.job_id.as_deref(), Some("job-radio"));
    assert_eq!(
        run.file.signing.certfile, "radio-signer.crt",
        "kept from validation"
    );
    assert!(!run.file.signing.started_at.is_empty());

    // A pre-signed file passes through: nothing to sign.
    let mut presigned = pending_run();
    presigned.file.signing.status = SigningStatus::NotRequired;
    presigned.file.method = Signing::PreSigned {
        signature: "MEUCIQ==".into(),
        signature_algorithm: "SHA256withECDSA".into(),
        certfile: "radio.crt".into(),
    };
    let request = StartSigningRequest::SignFile {
        sign_file: Box::new(presigned.clone()),
    };
    let StartSigningOutput::File(run) = handle_request(request, &d).await.unwrap() else {
        panic!("signFile answers with the file")
    };
    assert_eq!(*run, presigned);
    assert_eq!(start.num_calls(), 1);
}

#[tokio::test]
async fn a_file_tagged_as_part_of_a_release_starts_nothing_of_its_own() {
    let upload: StartSigningInput = serde_json::from_str(&event("start-signing.json")).unwrap();
    let key = upload.event.detail.object.key.clone();
    let tags = mock!(aws_sdk_s3::Client::get_object_tagging)
        .match_requests(move |r| r.key() == Some(key.as_str()))
        .then_output(|| {
            let tag = aws_sdk_s3::types::Tag::builder()
                .key("ota:release")
                .value(RELEASE)
                .build()
                .unwrap();
            GetObjectTaggingOutput::builder()
                .tag_set(tag)
                .build()
                .unwrap()
        });
    let start = no_signing();
    let d = deps(&[&tags], &[&start]);
    let StartSigningOutput::Skipped(skipped) = handle(upload, &d).await.unwrap() else {
        panic!("a release's file is skipped")
    };
    assert_eq!(skipped.part_of, RELEASE);
    assert!(
        skipped.skipped.contains("starts no update of its own"),
        "{}",
        skipped.skipped
    );
    assert_eq!(start.num_calls(), 0);
    let json = serde_json::to_value(&skipped).unwrap();
    assert!(
        json.get("release").is_none(),
        "the state machine's Release? choice must not take it for a release"
    );
    assert_eq!(json["partOf"], RELEASE);

    // The release manifest itself, even tagged so, is a release.
    let (tags, body) = (
        release_tags(&[("ota:release", RELEASE)]),
        release_body(TWO_FILES),
    );
    let d = deps(&[&tags, &body], &[]);
    let e = run(input(), &d).await.unwrap_err();
    assert!(e.to_string().contains("unknown ota: tag"), "{e}");
}
