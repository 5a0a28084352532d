//! await-signing on a release: every file still signing is asked once per
//! round, the run's signing is Succeeded only when no file is left, and a
//! file whose signing fails or outlasts the limit fails the run, named.

use await_signing::{handle, Deps};
use aws_sdk_signer::operation::describe_signing_job::DescribeSigningJobOutput;
use aws_sdk_signer::types::{S3SignedObject, SignedObject, SigningStatus as SignerStatus};
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use ota_aws::test_support::event;
use ota_core::state::SigningStatus;
use ota_core::PipelineState;
use serde_json::json;
use time::macros::datetime;
use time::OffsetDateTime;

/// events/await-signing.json as a release after Sign Files: the app and
/// radio files are signing, the config file is pre-signed.
fn release_state() -> PipelineState {
    let mut s: serde_json::Value = serde_json::from_str(&event("await-signing.json")).unwrap();
    s["source"]["key"] = "releases/gateway-r2.json".into();
    s["signing"] =
        json!({"status": "NotRequired", "certfile": "", "startedAt": "2026-11-22T10:00:00Z"});
    let file = |key: &str, job: &str| {
        json!({"key": key, "versionId": "v", "size": 1000, "filePath": key, "fileType": 0,
               "method": {"kind": "profile", "profileName": "OtaProfile"},
               "signing": {"status": "InProgress", "jobId": job, "certfile": "c.crt", "attempts": 1,
                           "waitSeconds": 1, "startedAt": "2026-11-22T10:00:01Z"}})
    };
    s["release"] = json!({"attempt": 0, "files": [
        file("firmware/app.bin", "job-app"),
        file("firmware/radio.bin", "job-radio"),
        {"key": "firmware/config.bin", "versionId": "v", "size": 10, "filePath": "config.bin", "fileType": 1,
         "method": {"kind": "preSigned", "signature": "MEUCIQ==", "signatureAlgorithm": "SHA256withECDSA", "certfile": "c.crt"},
         "signing": {"status": "NotRequired", "certfile": "c.crt", "startedAt": ""}}
    ]});
    serde_json::from_value(s).unwrap()
}

fn a_minute_in() -> OffsetDateTime {
    datetime!(2026-11-22 10:01:01 UTC)
}

fn an_hour_in() -> OffsetDateTime {
    datetime!(2026-11-22 11:00:01 UTC)
}

fn deps(rules: &[&Rule], now: fn() -> OffsetDateTime) -> Deps {
    Deps {
        signer: mock_client!(aws_sdk_signer, RuleMode::MatchAny, rules, |c| c
            .retry_config(aws_sdk_signer::config::retry::RetryConfig::disabled())),
        max_wait_seconds: 900,
        now,
    }
}

fn job(id: &'static str, s: SignerStatus) -> Rule {
    mock!(aws_sdk_signer::Client::describe_signing_job)
        .match_requests(move |r| r.job_id() == Some(id))
        .then_output(move || {
            let mut b = DescribeSigningJobOutput::builder()
                .job_id(id)
                .status(s.clone())
                .status_reason("certificate expired");
            if s == SignerStatus::Succeeded {
                b = b.signed_object(
                    SignedObject::builder()
                        .s3(S3SignedObject::builder()
                            .bucket_name("fw")
                            .key(format!("signed/{id}"))
                            .build())
                        .build(),
                );
            }
            b.build()
        })
}

#[tokio::test]
async fn the_run_is_signed_when_every_file_is() {
    let (app, radio) = (
        job("job-app", SignerStatus::Succeeded),
        job("job-radio", SignerStatus::Succeeded),
    );
    let s = handle(release_state(), &deps(&[&app, &radio], a_minute_in))
        .await
        .unwrap();
    assert_eq!(s.signing.status, SigningStatus::Succeeded);
    let files = &s.release.as_ref().unwrap().files;
    assert_eq!(
        files[0].signing.signed_object.as_ref().unwrap().key,
        "signed/job-app"
    );
    assert_eq!(
        files[1].signing.signed_object.as_ref().unwrap().key,
        "signed/job-radio"
    );
    assert_eq!(
        files[2].signing.status,
        SigningStatus::NotRequired,
        "a pre-signed file is not asked about"
    );
    assert_eq!((app.num_calls(), radio.num_calls()), (1, 1));
}

#[tokio::test]
async fn one_file_still_signing_keeps_the_run_waiting_and_a_signed_one_is_not_asked_again() {
    let (app, radio) = (
        job("job-app", SignerStatus::Succeeded),
        job("job-radio", SignerStatus::InProgress),
    );
    let s = handle(release_state(), &deps(&[&app, &radio], a_minute_in))
        .await
        .unwrap();
    assert_eq!(s.signing.status, SigningStatus::InProgress);
    assert!(s.signing.wait_seconds >= 1);
    let files = &s.release.as_ref().unwrap().files;
    assert_eq!(files[0].signing.status, SigningStatus::Succeeded);
    assert_eq!(files[1].signing.status, SigningStatus::InProgress);
    // The next round asks only about the radio file.
    let (app2, radio2) = (
        job("job-app", SignerStatus::Succeeded),
        job("job-radio", SignerStatus::Succeeded),
    );
    let s = handle(s, &deps(&[&app2, &radio2], a_minute_in))
        .await
        .unwrap();
    assert_eq!(s.signing.status, SigningStatus::Succeeded);
    assert_eq!((app2.num_calls(), radio2.num_calls()), (0, 1));
}

#[tokio::test]
async fn a_file_that_fails_or_outlasts_the_limit_fails_the_run_naming_it() {
    let (app, radio) = (
        job("job-app", SignerStatus::Succeeded),
        job("job-radio", SignerStatus::Failed),
    );
    let e = handle(release_state(), &deps(&[&app, &radio], a_minute_in))
        .await
        .unwrap_err();
    assert_eq!(e.error_type(), "SigningFailed");
    assert!(
        e.to_string()
            .contains("firmware/radio.bin: signing job job-radio failed: certificate expired"),
        "{e}"
    );

    let (app, radio) = (
        job("job-app", SignerStatus::InProgress),
        job("job-radio", SignerStatus::InProgress),
    );
    let e = handle(release_state(), &deps(&[&app, &radio], an_hour_in))
        .await
        .unwrap_err();
    assert_eq!(e.error_type(), "SigningTimedOut");
    assert!(e.to_string().contains("firmware/app.bin"), "{e}");
}
