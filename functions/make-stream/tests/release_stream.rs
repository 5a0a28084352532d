//! The stream of a multi-file release (ota_aws::stream with several files):
//! CreateStream gets every file under its index as file id, and an existing
//! stream counts as ours only when it serves exactly those versions under
//! those ids. Then make-stream on a release's state: every file read and
//! checked before the one stream exists.

use aws_sdk_iot::operation::create_stream::CreateStreamOutput;
use aws_sdk_iot::operation::describe_stream::DescribeStreamOutput;
use aws_sdk_iot::types::{S3Location, StreamFile, StreamInfo};
use aws_sdk_s3::operation::get_object::GetObjectOutput;
use aws_sdk_s3::operation::head_object::HeadObjectOutput;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use aws_smithy_types::byte_stream::ByteStream;
use make_stream::{handle, Deps, MakeStreamInput, MakeStreamOutput};
use ota_aws::stream::{ensure, StreamSpec, StreamedObject};
use ota_aws::test_support::{event, json_error, xml_error};
use ota_core::PipelineState;

const BUCKET: &str = "fw";
const STREAM: &str = "AFR_OTA-r2-1a2b3c4d";

fn release_spec() -> StreamSpec {
    StreamSpec::of_run(
        (BUCKET, "releases/r2.json", "m1"),
        "arn:aws:states:us-east-1:123456789012:execution:ota:run-1",
        "AFR_OTA-r2-1a2b3c4d",
        Some(STREAM),
        "arn:aws:iam::123456789012:role/ota-pipeline-OtaRole",
    )
    .with_files(vec![
        StreamedObject {
            key: "firmware/app-v2.bin".into(),
            version_id: "va".into(),
        },
        StreamedObject {
            key: "firmware/radio-v7.bin".into(),
            version_id: "vb".into(),
        },
    ])
}

fn file(id: i32, key: &str, version: &str) -> StreamFile {
    StreamFile::builder()
        .file_id(id)
        .s3_location(
            S3Location::builder()
                .bucket(BUCKET)
                .key(key)
                .version(version)
                .build(),
        )
        .build()
}

fn iot(rules: &[&Rule]) -> aws_sdk_iot::Client {
    mock_client!(aws_sdk_iot, RuleMode::MatchAny, rules, |c| c
        .retry_config(aws_sdk_iot::config::retry::RetryConfig::disabled()))
}

#[tokio::test]
async fn create_stream_gets_every_file_under_its_index() {
    let create = mock!(aws_sdk_iot::Client::create_stream)
        .match_requests(|r| {
            r.files()
                == [
                    file(0, "firmware/app-v2.bin", "va"),
                    file(1, "firmware/radio-v7.bin", "vb"),
                ]
                && r.stream_id() == Some(STREAM)
                && r.description().is_some_and(|d| {
                    d.starts_with("OTA stream for s3://fw/releases/r2.json version m1 ")
                })
        })
        .then_output(|| {
            CreateStreamOutput::builder()
                .stream_id(STREAM)
                .stream_arn("arn:aws:iot:us-east-1:123456789012:stream/AFR_OTA-r2-1a2b3c4d")
                .stream_version(1)
                .build()
        });
    let s = ensure(&iot(&[&create]), &release_spec()).await.unwrap();
    assert_eq!(create.num_calls(), 1);
    assert_eq!(s.stream_id, STREAM);
}

fn existing(files: Vec<StreamFile>) -> Rule {
    mock!(aws_sdk_iot::Client::describe_stream).then_output(move || {
        DescribeStreamOutput::builder()
            .stream_info(
                StreamInfo::builder()
                    .stream_id(STREAM)
                    .stream_arn("arn:aws:iot:us-east-1:123456789012:stream/x")
                    .stream_version(2)
                    .set_files(Some(files.clone()))
                    .build(),
            )
            .build()
    })
}

#[tokio::test]
async fn an_existing_stream_is_ours_only_with_the_same_versions_under_the_same_ids() {
    let exists = || {
        mock!(aws_sdk_iot::Client::create_stream)
            .then_http_response(|| json_error(409, "ResourceAlreadyExistsException", "exists"))
    };
    // IoT may list the files in any order: the ids decide.
    let same = existing(vec![
        file(1, "firmware/radio-v7.bin", "vb"),
        file(0, "firmware/app-v2.bin", "va"),
    ]);
    let c = exists();
    let s = ensure(&iot(&[&c, &same]), &release_spec()).await.unwrap();
    assert_eq!(s.stream_version, 2);

    let cases = [
        vec![file(0, "firmware/app-v2.bin", "va")],
        vec![
            file(0, "firmware/radio-v7.bin", "vb"),
            file(1, "firmware/app-v2.bin", "va"),
        ],
        vec![
            file(0, "firmware/app-v2.bin", "va"),
            file(1, "firmware/radio-v7.bin", "other"),
        ],
        vec![
            file(0, "firmware/app-v2.bin", "va"),
            file(1, "firmware/radio-v7.bin", "vb"),
            file(2, "firmware/extra.bin", "vc"),
        ],
    ];
    for files in cases {
        let (c, other) = (exists(), existing(files.clone()));
        let e = ensure(&iot(&[&c, &other]), &release_spec())
            .await
            .unwrap_err();
        assert_eq!(e.error_type(), "Conflict", "{files:?}");
        assert!(e.to_string().contains("serves other files"), "{e}");
    }
}

const RELEASE_BUCKET: &str = "ota-pipeline-firmwarebucket-1a2b3c4d5e6f";
const ROLE: &str = "arn:aws:iam::123456789012:role/ota-pipeline-OtaRole";
const APP_SIGNED: &str = r#"{"rawPayloadSize":366816,"signature":"MEUCIQDkRJ1lbcw7xq2yPqDmo3jUxm8bTI9zNr8yFQjH3lG9Og==","signatureAlgorithm":"SHA256withECDSA","payloadLocation":{"s3":{"bucketName":"ota-pipeline-firmwarebucket-1a2b3c4d5e6f","key":"firmware/app-v2.bin","version":"va"}}}"#;

/// events/make-stream.json as a release: the source is the release
/// manifest, the app file signed by a profile, the radio file pre-signed.
fn release_state() -> PipelineState {
    let mut s: serde_json::Value = serde_json::from_str(&event("make-stream.json")).unwrap();
    s["source"]["key"] = "releases/gateway-r2.json".into();
    s["source"]["versionId"] = "m1".into();
    s["signing"] = serde_json::json!({"status": "NotRequired", "certfile": "", "startedAt": "2026-11-22T10:00:00Z"});
    s["release"] = serde_json::json!({"attempt": 0, "files": [
        {"key": "firmware/app-v2.bin", "versionId": "va", "size": 366816, "filePath": "/ota/app.bin", "fileType": 0,
         "method": {"kind": "profile", "profileName": "AppProfile"},
         "signing": {"status": "Succeeded", "jobId": "job-app", "certfile": "app.crt", "startedAt": "2026-11-22T10:00:01Z",
                     "signedObject": {"bucket": RELEASE_BUCKET, "key": "signed/job-app"}}},
        {"key": "firmware/radio-v7.bin", "versionId": "vb", "size": 81920, "filePath": "/ota/radio.bin", "fileType": 2,
         "method": {"kind": "preSigned", "signature": "MEQCIBk1n4Xw0ZpYbq7r8s9t0u1v2w3x4y5z6A7B8C9D0E1F", "signatureAlgorithm": "SHA256withECDSA", "certfile": "radio.crt"},
         "signing": {"status": "NotRequired", "certfile": "radio.crt", "startedAt": ""}}
    ]});
    serde_json::from_value(s).unwrap()
}

fn release_deps(s3: &[&Rule], iot_rules: &[&Rule]) -> Deps {
    Deps {
        s3: mock_client!(aws_sdk_s3, RuleMode::MatchAny, s3, |c| c
            .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())),
        iot: iot(iot_rules),
        ota_role_arn: ROLE.into(),
        tagging: mock_client!(aws_sdk_resourcegroupstagging, RuleMode::MatchAny, &[]),
        signer: mock_client!(aws_sdk_signer, RuleMode::MatchAny, &[]),
        events: mock_client!(aws_sdk_eventbridge, RuleMode::MatchAny, &[]),
        package_shadow: Default::default(),
    }
}

fn app_signed(body: &'static str) -> Rule {
    mock!(aws_sdk_s3::Client::get_object)
        .match_requests(|r| r.key() == Some("signed/job-app"))
        .then_output(move || {
            GetObjectOutput::builder()
                .body(ByteStream::from_static(body.as_bytes()))
                .version_id("signed-app-v1")
                .build()
        })
}

fn present(key: &'static str, version: &'static str) -> Rule {
    mock!(aws_sdk_s3::Client::head_object)
        .match_requests(move |r| r.key() == Some(key) && r.version_id() == Some(version))
        .then_output(|| HeadObjectOutput::builder().build())
}

fn release_create() -> Rule {
    mock!(aws_sdk_iot::Client::create_stream)
        .match_requests(|r| {
            let f = |id: i32, key: &str, version: &str| {
                StreamFile::builder()
                    .file_id(id)
                    .s3_location(
                        S3Location::builder()
                            .bucket(RELEASE_BUCKET)
                            .key(key)
                            .version(version)
                            .build(),
                    )
                    .build()
            };
            r.files()
                == [
                    f(0, "firmware/app-v2.bin", "va"),
                    f(1, "firmware/radio-v7.bin", "vb"),
                ]
        })
        .then_output(|| {
            CreateStreamOutput::builder()
                .stream_id("s")
                .stream_arn("arn:aws:iot:us-east-1:123456789012:stream/s")
                .stream_version(1)
                .build()
        })
}

fn made(out: MakeStreamOutput) -> PipelineState {
    match out {
        MakeStreamOutput::Made(s) => *s,
        other => panic!("expected the state, got {other:?}"),
    }
}

#[tokio::test]
async fn a_release_gets_each_files_signature_and_one_stream_of_both_pinned_versions() {
    let (signed, app, radio, create) = (
        app_signed(APP_SIGNED),
        present("firmware/app-v2.bin", "va"),
        present("firmware/radio-v7.bin", "vb"),
        release_create(),
    );
    let d = release_deps(&[&signed, &app, &radio], &[&create]);
    let s = made(
        handle(MakeStreamInput::Make(Box::new(release_state())), &d)
            .await
            .unwrap(),
    );
    assert_eq!(create.num_calls(), 1);
    let files = &s.release.as_ref().unwrap().files;
    let app = files[0].signed_file.as_ref().unwrap();
    assert_eq!(
        (app.size, app.signature.as_str()),
        (
            366816,
            "MEUCIQDkRJ1lbcw7xq2yPqDmo3jUxm8bTI9zNr8yFQjH3lG9Og=="
        )
    );
    assert_eq!(app.signed_version_id.as_deref(), Some("signed-app-v1"));
    let radio = files[1].signed_file.as_ref().unwrap();
    assert_eq!(
        (radio.size, radio.signature.as_str()),
        (81920, "MEQCIBk1n4Xw0ZpYbq7r8s9t0u1v2w3x4y5z6A7B8C9D0E1F")
    );
    assert!(s.signed_file.is_none(), "a release's files carry their own");
    assert!(s.stream.is_some());
}

#[tokio::test]
async fn a_file_signed_for_another_version_or_deleted_in_flight_leaves_no_stream() {
    const OTHER: &str = r#"{"rawPayloadSize":366816,"signature":"MEUCIQDkRJ1lbcw7xq2yPqDmo3jUxm8bTI9zNr8yFQjH3lG9Og==","signatureAlgorithm":"SHA256withECDSA","payloadLocation":{"s3":{"bucketName":"ota-pipeline-firmwarebucket-1a2b3c4d5e6f","key":"firmware/app-v2.bin","version":"older"}}}"#;
    let (signed, app, radio, create) = (
        app_signed(OTHER),
        present("firmware/app-v2.bin", "va"),
        present("firmware/radio-v7.bin", "vb"),
        release_create(),
    );
    let d = release_deps(&[&signed, &app, &radio], &[&create]);
    let e = handle(MakeStreamInput::Make(Box::new(release_state())), &d)
        .await
        .unwrap_err();
    assert_eq!(e.error_type(), "SignedObjectInvalid");
    assert!(e.to_string().contains("not the uploaded version va"), "{e}");

    let signed = app_signed(APP_SIGNED);
    let gone = mock!(aws_sdk_s3::Client::head_object)
        .match_requests(|r| r.key() == Some("firmware/radio-v7.bin"))
        .then_http_response(|| xml_error(404, "NotFound", "Not Found"));
    let d = release_deps(&[&signed, &app, &gone], &[&create]);
    let e = handle(MakeStreamInput::Make(Box::new(release_state())), &d)
        .await
        .unwrap_err();
    assert_eq!(e.error_type(), "SourceNotFound");
    assert!(
        e.to_string()
            .contains("firmware/radio-v7.bin version vb was deleted"),
        "{e}"
    );
    assert_eq!(create.num_calls(), 0);
}
