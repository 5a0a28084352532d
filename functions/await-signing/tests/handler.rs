//! await-signing against a mocked Signer: polling inside the invocation
//! while signing is young, one look per invocation after, Failed, the
//! overall limit, and error mapping. (The emulator's signer is InProgress
//! only with --signer-delay, which benchmark B7 uses.)

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

/// Where the signer wrote its output.
fn signed_object() -> SignedObject {
    SignedObject::builder()
        .s3(S3SignedObject::builder()
            .bucket_name("fw")
            .key("signed/2a7d5c1e")
            .build())
        .build()
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
                b = b.signed_object(signed_object());
            }
            b.build()
        },
    )
}

/// Two seconds after signing started: the fast phase.
fn two_seconds_in() -> OffsetDateTime {
    datetime!(2026-11-22 10:00:03 UTC)
}
fn five_minutes_in() -> OffsetDateTime {
    datetime!(2026-11-22 10:05:01 UTC)
}

#[tokio::test]
async fn past_the_fast_phase_one_look_and_a_wait_of_a_tenth_of_the_time_so_far() {
    // One DescribeSigningJob per invocation; the Wait state waits (no
    // Lambda time): 6 s at one minute, 30 s (the longest step) at five.
    for (now, wait) in [
        (a_minute_in as fn() -> OffsetDateTime, 6),
        (five_minutes_in, 30),
    ] {
        let r = status(SignerStatus::InProgress);
        let d = deps(&[&r], now);
        let s = handle(state(), &d).await.unwrap();
        assert_eq!(s.signing.status, SigningStatus::InProgress);
        assert_eq!((s.signing.wait_seconds, r.num_calls()), (wait, 1));
    }
    let rules = [
        status(SignerStatus::InProgress),
        status(SignerStatus::Succeeded),
    ];
    let refs: Vec<&Rule> = rules.iter().collect();
    let d = deps(&refs, a_minute_in);
    let s = handle(state(), &d).await.unwrap();
    let s = handle(s, &d).await.unwrap();
    assert_eq!(s.signing.status, SigningStatus::Succeeded);
    assert_eq!(s.signing.attempts, 2);
    let o = s.signing.signed_object.unwrap();
    assert_eq!(
        (o.bucket.as_str(), o.key.as_str()),
        ("fw", "signed/2a7d5c1e")
    );
}

/// Sequential InProgress answers, then Succeeded.
fn in_progress_times_then_succeeded(n: usize) -> Rule {
    mock!(aws_sdk_signer::Client::describe_signing_job)
        .sequence()
        .output(|| {
            DescribeSigningJobOutput::builder()
                .status(SignerStatus::InProgress)
                .build()
        })
        .times(n)
        .output(|| {
            DescribeSigningJobOutput::builder()
                .status(SignerStatus::Succeeded)
                .signed_object(signed_object())
                .build()
        })
        .build()
}

#[tokio::test(start_paused = true)]
async fn young_signing_is_polled_half_a_second_apart_inside_one_invocation() {
    // Tokio's paused clock: the sleeps advance it, nothing waits for real.
    let r = in_progress_times_then_succeeded(3);
    let d = deps(&[&r], two_seconds_in);
    let t0 = tokio::time::Instant::now();
    let s = handle(state(), &d).await.unwrap();
    assert_eq!(s.signing.status, SigningStatus::Succeeded);
    assert_eq!((r.num_calls(), s.signing.attempts), (4, 4));
    assert_eq!(t0.elapsed(), std::time::Duration::from_millis(1500));
}

#[tokio::test(start_paused = true)]
async fn a_long_signer_is_handed_back_to_the_wait_state_within_the_budget() {
    use ota_core::signing_wait::{poll_interval, INVOCATION_BUDGET};
    let r = mock!(aws_sdk_signer::Client::describe_signing_job)
        .sequence()
        .output(|| {
            DescribeSigningJobOutput::builder()
                .status(SignerStatus::InProgress)
                .build()
        })
        .repeatedly()
        .build();
    let d = deps(&[&r], two_seconds_in);
    let t0 = tokio::time::Instant::now();
    let s = handle(state(), &d).await.unwrap();
    let took = t0.elapsed();
    assert_eq!(s.signing.status, SigningStatus::InProgress);
    assert!(took <= INVOCATION_BUDGET, "{took:?}");
    // It stopped because the next pause would pass the budget.
    let since_start = std::time::Duration::from_secs(2) + took;
    assert!(
        took + poll_interval(since_start) > INVOCATION_BUDGET,
        "{took:?}"
    );
    // 0.5 s apart from 2 s to 10 s (16 pauses), then 8% of the time so far.
    assert!(
        (25..=40).contains(&r.num_calls()),
        "{} looks",
        r.num_calls()
    );
    assert_eq!(s.signing.wait_seconds, 4, "a tenth of the ~42 s so far");
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
