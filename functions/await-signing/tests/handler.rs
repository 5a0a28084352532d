//! await-signing against a mocked Signer: InProgress -> Succeeded, Failed,
//! the overall limit, and error mapping. (No emulator models an InProgress
//! signer: the local one finishes synchronously.)

use await_signing::{handle, Deps};
use aws_sdk_signer::config::retry::RetryConfig;
use aws_sdk_signer::operation::describe_signing_job::DescribeSigningJobOutput;
use aws_sdk_signer::types::{S3SignedObject, SignedObject, SigningStatus as SignerStatus};
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use ota_aws::test_support::{answer, event, fast_retries, json_error, JSON_TRANSIENT};
use ota_core::state::SigningStatus;
use ota_core::PipelineState;
use ota_lambda::test_support::capture_logs;
use time::macros::datetime;
use time::OffsetDateTime;

fn state() -> PipelineState {
    serde_json::from_str(&event("await-signing.json"))
        .expect("events/await-signing.json is a PipelineState")
}

/// One minute after signing started (events/await-signing.json: 10:00:01Z).
fn a_minute_in() -> OffsetDateTime {
    datetime!(2026-11-22 10:01:01 UTC)
}
fn an_hour_in() -> OffsetDateTime {
    datetime!(2026-11-22 11:00:01 UTC)
}

fn deps(rules: &[&Rule], now: fn() -> OffsetDateTime) -> Deps {
    deps_retrying(RetryConfig::disabled(), rules, now)
}

fn deps_retrying(retry: RetryConfig, rules: &[&Rule], now: fn() -> OffsetDateTime) -> Deps {
    Deps {
        signer: mock_client!(aws_sdk_signer, RuleMode::Sequential, rules, |c| c
            .retry_config(retry.clone())),
        max_wait_seconds: 900,
        now,
    }
}

fn status(s: SignerStatus) -> Rule {
    status_answering(s, "")
}

/// `flaky` names the call that first fails with throttling and a 5xx.
fn status_answering(s: SignerStatus, flaky: &str) -> Rule {
    let rule = mock!(aws_sdk_signer::Client::describe_signing_job)
        .match_requests(|r| r.job_id() == Some("2a7d5c1e-6f3b-4b8a-9c0d-1e2f3a4b5c6d"));
    answer(
        flaky,
        "DescribeSigningJob",
        rule,
        JSON_TRANSIENT,
        move || {
            let mut b = DescribeSigningJobOutput::builder()
                .job_id("2a7d5c1e-6f3b-4b8a-9c0d-1e2f3a4b5c6d")
                .status(s.clone())
                .status_reason("Code signing failed: certificate expired");
            if s == SignerStatus::Succeeded {
                b = b.signed_object(
                    SignedObject::builder()
                        .s3(S3SignedObject::builder()
                            .bucket_name("fw")
                            .key("signed/2a7d5c1e")
                            .build())
                        .build(),
                );
            }
            b.build()
        },
    )
}

#[tokio::test]
async fn in_progress_then_succeeded_with_backoff() {
    let rules = [
        status(SignerStatus::InProgress),
        status(SignerStatus::InProgress),
        status(SignerStatus::InProgress),
        status(SignerStatus::Succeeded),
    ];
    let refs: Vec<&Rule> = rules.iter().collect();
    let d = deps(&refs, a_minute_in);
    let mut s = state();
    let mut waits = Vec::new();
    for _ in 0..3 {
        s = handle(s, &d).await.unwrap();
        assert_eq!(s.signing.status, SigningStatus::InProgress);
        waits.push(s.signing.wait_seconds);
    }
    assert_eq!(waits, [2, 4, 8]);
    s = handle(s, &d).await.unwrap();
    assert_eq!(s.signing.status, SigningStatus::Succeeded);
    assert_eq!(s.signing.attempts, 4);
    let o = s.signing.signed_object.unwrap();
    assert_eq!(
        (o.bucket.as_str(), o.key.as_str()),
        ("fw", "signed/2a7d5c1e")
    );
}

#[tokio::test]
async fn failed_carries_the_signer_reason() {
    let r = status(SignerStatus::Failed);
    let d = deps(&[&r], a_minute_in);
    let e = handle(state(), &d).await.unwrap_err();
    assert_eq!(e.error_type(), "SigningFailed");
    assert!(e.to_string().contains("certificate expired"), "{e}");
}

#[tokio::test]
async fn in_progress_past_the_limit_times_out() {
    let r = status(SignerStatus::InProgress);
    let d = deps(&[&r], an_hour_in);
    let e = handle(state(), &d).await.unwrap_err();
    assert_eq!(e.error_type(), "SigningTimedOut");
    assert!(e.to_string().contains("limit 900 s"), "{e}");
}

#[tokio::test]
async fn succeeded_without_a_signed_object_is_a_signing_failure() {
    let r = mock!(aws_sdk_signer::Client::describe_signing_job).then_output(|| {
        DescribeSigningJobOutput::builder()
            .status(SignerStatus::Succeeded)
            .build()
    });
    let d = deps(&[&r], a_minute_in);
    assert_eq!(
        handle(state(), &d).await.unwrap_err().error_type(),
        "SigningFailed"
    );
}

#[tokio::test]
async fn errors_map_to_stable_types() {
    for (resp, want) in [
        (
            json_error(429, "TooManyRequestsException", "slow down"),
            "Throttled",
        ),
        (
            json_error(404, "ResourceNotFoundException", "no such job"),
            "ResourceNotFound",
        ),
        (
            json_error(403, "AccessDeniedException", "denied"),
            "AccessDenied",
        ),
        (
            json_error(500, "InternalServiceErrorException", "oops"),
            "ServiceUnavailable",
        ),
    ] {
        let resp = std::sync::Mutex::new(Some(resp));
        let r = mock!(aws_sdk_signer::Client::describe_signing_job)
            .then_http_response(move || resp.lock().unwrap().take().expect("one response"));
        let d = deps(&[&r], a_minute_in);
        let e = handle(state(), &d).await.unwrap_err();
        assert_eq!(e.error_type(), want, "{e}");
    }
}

#[tokio::test]
async fn logs_carry_the_ids() {
    let rules = [
        status(SignerStatus::InProgress),
        status(SignerStatus::Succeeded),
    ];
    let refs: Vec<&Rule> = rules.iter().collect();
    let d = deps(&refs, a_minute_in);
    let (s, first) = capture_logs(|| handle(state(), &d)).await;
    let (s, second) = capture_logs(|| handle(s.unwrap(), &d)).await;
    let s = s.unwrap();
    for logs in [first, second] {
        logs.assert_every_line_names(&s);
    }
}

#[tokio::test]
async fn describe_gets_through_throttling_and_5xx_by_the_sdks_retries() {
    let r = status_answering(SignerStatus::Succeeded, "DescribeSigningJob");
    let d = deps_retrying(fast_retries(), &[&r], a_minute_in);
    let s = handle(state(), &d).await.unwrap();
    assert_eq!(r.num_calls(), 3, "two failed attempts, then success");
    assert_eq!(s.signing.status, SigningStatus::Succeeded);
    assert_eq!(
        s.signing.attempts, 1,
        "one invocation, however many attempts"
    );
}
