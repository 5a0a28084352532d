//! create-job on a release (a multi-file update): one job whose document has
//! one `files[]` entry per file, in the release's order, each with its own
//! size, signature, certificate path, device path and type, and the file
//! ids the one stream serves them under; the device rules judge the whole.

use aws_sdk_iot::config::retry::RetryConfig;
use aws_sdk_iot::operation::create_job::CreateJobOutput;
use aws_sdk_iot::operation::describe_stream::DescribeStreamOutput;
use aws_sdk_iot::types::{S3Location, StreamFile, StreamInfo};
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use create_job::{handle, Deps};
use ota_aws::test_support::event;
use ota_core::PipelineState;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

const BUCKET: &str = "ota-pipeline-firmwarebucket-1a2b3c4d5e6f";
const STREAM_ID: &str = "AFR_OTA-gateway-r2-0a1b2c3d4e5f";
const SIG_APP: &str = "MEUCIQDkRJ1lbcw7xq2yPqDmo3jUxm8bTI9zNr8yFQjH3lG9OgIgKH2Jx0uY5nG1y8Zq3kz4JmPq7s8B0o1bC2dE3fG4hI0=";
const SIG_RADIO: &str = "MEQCIBk1n4Xw0ZpYbq7r8s9t0u1v2w3x4y5z6A7B8C9D0E1FAiB2C3D4E5F6G7H8I9J0K1L2M3N4O5P6Q7R8S9T0U1V2Ww==";

/// events/create-job.json as a signed release of two files.
fn release_state(protocols: &[&str]) -> PipelineState {
    let mut s: Value = serde_json::from_str(&event("create-job.json")).unwrap();
    s["source"]["key"] = "releases/gateway-r2.json".into();
    s["source"]["versionId"] = "m1".into();
    s["request"]["protocols"] = json!(protocols);
    s["signing"] =
        json!({"status": "NotRequired", "certfile": "", "startedAt": "2026-11-22T10:00:00Z"});
    s.as_object_mut().unwrap().remove("signedFile");
    s["stream"] = json!({"streamId": STREAM_ID, "streamArn": format!("arn:aws:iot:us-east-1:123456789012:stream/{STREAM_ID}"), "streamVersion": 1});
    s["release"] = json!({"attempt": 0, "files": [
        {"key": "firmware/app-v2.bin", "versionId": "va", "size": 366816, "filePath": "/ota/app.bin", "fileType": 0,
         "method": {"kind": "profile", "profileName": "AppProfile"},
         "signing": {"status": "Succeeded", "jobId": "job-app", "certfile": "app-signer.crt", "startedAt": "2026-11-22T10:00:01Z"},
         "signedFile": {"size": 366816, "signature": SIG_APP, "signatureAlgorithm": "SHA256withECDSA", "signedVersionId": "sa"}},
        {"key": "firmware/radio-v7.bin", "versionId": "vb", "size": 81920, "filePath": "/ota/radio.bin", "fileType": 2,
         "method": {"kind": "preSigned", "signature": SIG_RADIO, "signatureAlgorithm": "SHA256withECDSA", "certfile": "radio.crt"},
         "signing": {"status": "NotRequired", "certfile": "radio.crt", "startedAt": ""},
         "signedFile": {"size": 81920, "signature": SIG_RADIO, "signatureAlgorithm": "SHA256withECDSA"}}
    ]});
    serde_json::from_value(s).unwrap()
}

fn stream_file(id: i32, key: &str, version: &str) -> StreamFile {
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

/// The release's stream, as make-stream made it, confirmed before and
/// after CreateJob.
fn stream_present() -> Rule {
    mock!(aws_sdk_iot::Client::describe_stream)
        .match_requests(|r| r.stream_id() == Some(STREAM_ID))
        .then_output(|| {
            DescribeStreamOutput::builder()
                .stream_info(
                    StreamInfo::builder()
                        .stream_id(STREAM_ID)
                        .files(stream_file(0, "firmware/app-v2.bin", "va"))
                        .files(stream_file(1, "firmware/radio-v7.bin", "vb"))
                        .build(),
                )
                .build()
        })
}

type Seen = Arc<Mutex<Option<String>>>;

fn capturing_create() -> (Rule, Seen) {
    let seen: Seen = Arc::new(Mutex::new(None));
    let seen_in = seen.clone();
    let rule = mock!(aws_sdk_iot::Client::create_job)
        .match_requests(move |r| {
            *seen_in.lock().unwrap() = r.document().map(str::to_string);
            true
        })
        .then_output(|| {
            CreateJobOutput::builder()
                .job_id("AFR_OTA-gateway-r2")
                .job_arn("arn:aws:iot:us-east-1:123456789012:job/AFR_OTA-gateway-r2")
                .build()
        });
    (rule, seen)
}

fn deps(rules: &[&Rule]) -> Deps {
    Deps {
        iot: mock_client!(aws_sdk_iot, RuleMode::MatchAny, rules, |c| c
            .retry_config(RetryConfig::disabled())),
        ota_role_arn: "arn:aws:iam::123456789012:role/ota-pipeline-OtaRole".into(),
        now: || time::macros::datetime!(2026-11-22 10:05 UTC),
    }
}

#[tokio::test]
async fn a_release_is_one_job_with_one_files_entry_per_file() {
    let (create, seen) = capturing_create();
    let present = stream_present();
    let s = handle(
        release_state(&["MQTT", "HTTP"]),
        &deps(&[&create, &present]),
    )
    .await
    .unwrap_or_else(|e| panic!("{} {e}", e.error_type()));
    assert_eq!(create.num_calls(), 1);
    assert_eq!(
        present.num_calls(),
        2,
        "the stream is confirmed before and after CreateJob"
    );
    let doc: Value = serde_json::from_str(seen.lock().unwrap().as_deref().unwrap()).unwrap();
    let url = |key: &str, v: &str| {
        format!("${{aws:iot:s3-presigned-url-v2:https://s3.us-east-1.amazonaws.com/{BUCKET}/{key}%3FversionId%3D{v}}}")
    };
    assert_eq!(
        doc,
        json!({"afr_ota": {"protocols": ["MQTT", "HTTP"], "streamname": STREAM_ID, "files": [
            {"filepath": "/ota/app.bin", "filesize": 366816, "fileid": 0, "fileType": 0,
             "certfile": "app-signer.crt", "update_data_url": url("firmware/app-v2.bin", "va"),
             "auth_scheme": "aws.s3.presigned", "sig-sha256-ecdsa": SIG_APP},
            {"filepath": "/ota/radio.bin", "filesize": 81920, "fileid": 1, "fileType": 2,
             "certfile": "radio.crt", "update_data_url": url("firmware/radio-v7.bin", "vb"),
             "auth_scheme": "aws.s3.presigned", "sig-sha256-ecdsa": SIG_RADIO}
        ]}})
    );
    // No ota:devices: the FreeRTOS agent's one-file rule is a warning on
    // the run's output, not a refusal.
    let findings = &s.job.unwrap().device_findings;
    assert!(
        findings.iter().any(|f| f.contains("files-first-only")),
        "{findings:?}"
    );
}

#[tokio::test]
async fn naming_the_freertos_agent_refuses_a_release_before_create_job() {
    let (create, _) = capturing_create();
    let present = stream_present();
    let mut s = release_state(&["MQTT"]);
    s.request.devices = vec![ota_core::devices::DeviceFamily::FreertosOtaAgent];
    let e = handle(s, &deps(&[&create, &present])).await.unwrap_err();
    assert_eq!(e.error_type(), "InvalidRequest");
    assert!(e.to_string().contains("files-first-only"), "{e}");
    assert_eq!(create.num_calls(), 0);
    // The Jobs OTA parser iterates over files: it takes the release.
    let mut s = release_state(&["MQTT"]);
    s.request.devices = vec![ota_core::devices::DeviceFamily::AwsIotJobsParser];
    handle(s, &deps(&[&create, &present])).await.unwrap();
    assert_eq!(create.num_calls(), 1);
}
