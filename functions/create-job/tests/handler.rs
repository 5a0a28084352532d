//! create-job against a mocked IoT client: the exact CreateJob request (every
//! configured field, the document, the tags), idempotency and error mapping.

use aws_sdk_iot::config::retry::RetryConfig;
use aws_sdk_iot::operation::create_job::CreateJobOutput;
use aws_sdk_iot::operation::create_stream::CreateStreamOutput;
use aws_sdk_iot::operation::describe_job::DescribeJobOutput;
use aws_sdk_iot::operation::describe_stream::DescribeStreamOutput;
use aws_sdk_iot::operation::get_job_document::GetJobDocumentOutput;
use aws_sdk_iot::types::{
    Job, JobEndBehavior, RetryableFailureType, S3Location, StreamFile, StreamInfo, TargetSelection,
};
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use create_job::{handle, Deps};
use ota_aws::test_support::{answer, event, fast_retries, json_error, JSON_TRANSIENT};
use ota_core::PipelineState;
use ota_lambda::test_support::capture_logs;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

const ROLE: &str = "arn:aws:iam::123456789012:role/ota-pipeline-OtaRole";

fn state() -> PipelineState {
    serde_json::from_str(&event("create-job.json"))
        .expect("events/create-job.json is a PipelineState")
}

fn deps(rules: &[&Rule]) -> Deps {
    deps_retrying(RetryConfig::disabled(), rules)
}

/// Rules are tried in order: a test's own DescribeStream rule comes before
/// the fallback, which finds the fixture's stream in place.
fn deps_retrying(retry: RetryConfig, rules: &[&Rule]) -> Deps {
    let present = stream_present();
    let rules: Vec<&Rule> = rules.iter().copied().chain([&present]).collect();
    Deps {
        iot: mock_client!(aws_sdk_iot, RuleMode::MatchAny, &rules, |c| c
            .retry_config(retry.clone())),
        ota_role_arn: ROLE.into(),
        now: upload_plus_five_minutes,
    }
}

/// The stream in events/create-job.json: its id, and the exact version it
/// serves.
const STREAM_ID: &str = "AFR_OTA-app-v1_4-8a9caeb409fd";

fn fixture_file() -> StreamFile {
    let src = state().source;
    StreamFile::builder()
        .file_id(0)
        .s3_location(
            S3Location::builder()
                .bucket(src.bucket)
                .key(src.key)
                .version(src.version_id)
                .build(),
        )
        .build()
}

fn described(file: StreamFile) -> DescribeStreamOutput {
    DescribeStreamOutput::builder()
        .stream_info(
            StreamInfo::builder()
                .stream_id(STREAM_ID)
                .files(file)
                .build(),
        )
        .build()
}

fn stream_present() -> Rule {
    mock!(aws_sdk_iot::Client::describe_stream)
        .match_requests(|r| r.stream_id() == Some(STREAM_ID))
        .then_output(|| described(fixture_file()))
}

/// Five minutes after events/create-job.json's upload: its fixed start
/// (2026-12-01T02:00) is still days ahead.
fn upload_plus_five_minutes() -> time::OffsetDateTime {
    time::macros::datetime!(2026-11-22 10:05 UTC)
}

fn expected_document() -> Value {
    json!({"afr_ota": {"protocols": ["MQTT"], "streamname": "AFR_OTA-app-v1_4-8a9caeb409fd", "files": [{
        "filepath": "app-v1.4.bin", "filesize": 366816, "fileid": 0, "fileType": 0,
        "certfile": "ecdsa-signer.crt",
        "sig-sha256-ecdsa": "MEUCIQDkRJ1lbcw7xq2yPqDmo3jUxm8bTI9zNr8yFQjH3lG9OgIgKH2Jx0uY5nG1y8Zq3kz4JmPq7s8B0o1bC2dE3fG4hI0="
    }]}})
}

type Seen = Arc<Mutex<Option<aws_sdk_iot::operation::create_job::CreateJobInput>>>;

/// A CreateJob rule answering `output` that keeps the request it answered.
fn capturing_create(output: fn() -> CreateJobOutput) -> (Rule, Seen) {
    let seen: Seen = Arc::new(Mutex::new(None));
    let seen_in = seen.clone();
    let rule = mock!(aws_sdk_iot::Client::create_job)
        .match_requests(move |r| {
            *seen_in.lock().unwrap() = Some(r.clone());
            true
        })
        .then_output(output);
    (rule, seen)
}

/// The fixture with MQTT and HTTP (so presigned URLs), this rollout and
/// this abort criterion: every optional CreateJob block is set.
fn state_with_every_block(rollout: &str, abort: &str) -> PipelineState {
    let mut s = state();
    s.request.protocols = vec![
        ota_core::values::Protocol::Mqtt,
        ota_core::values::Protocol::Http,
    ];
    s.request.presigned_expiry_seconds = Some(600);
    s.request.rollout = Some(ota_core::tags::parse_rollout(rollout).unwrap());
    s.request.abort = vec![ota_core::values::parse_abort_criterion(abort).unwrap()];
    s
}

/// A run whose signer (or a late event) took long: the job is created at
/// 2026-12-01T01:45, 15 minutes before the fixture's start.
fn late() -> time::OffsetDateTime {
    time::macros::datetime!(2026-12-01 01:45 UTC)
}

#[tokio::test]
async fn an_offset_start_that_became_too_close_is_moved_and_recorded() {
    let (create, seen) = capturing_create(|| {
        CreateJobOutput::builder()
            .job_arn("arn:aws:iot:us-east-1:123456789012:job/AFR_OTA-app-v1_4-5c0b7a1e93d2")
            .build()
    });
    let mut d = deps(&[&create]);
    d.now = late;
    let mut s = state();
    let schedule = s.request.schedule.as_mut().unwrap();
    // ota:start=+9d16h from the upload at 2026-11-22T10:00.
    schedule.start_origin.as_mut().unwrap().relative = true;
    let out = handle(s, &d).await.unwrap();
    let sent = seen.lock().unwrap().clone().expect("CreateJob was called");
    let sc = sent.scheduling_config().unwrap();
    // 30 minutes after 01:45, and a minute for the call.
    assert_eq!(sc.start_time(), Some("2026-12-01T02:16"));
    assert_eq!(sc.end_time(), Some("2026-12-08T02:00"), "a far end stays");
    let moved = "start moved from 2026-12-01T02:00 to 2026-12-01T02:16";
    assert!(
        sent.tags()
            .iter()
            .any(|t| t.key() == "ota:start-moved" && t.value() == Some(moved)),
        "{:?}",
        sent.tags()
    );
    assert_eq!(out.job.unwrap().schedule_moved, [moved]);
    let out_schedule = out.request.schedule.unwrap();
    assert_eq!(out_schedule.start_time.as_deref(), Some("2026-12-01T02:16"));
}

#[tokio::test]
async fn a_fixed_start_that_became_too_close_fails_before_create_job() {
    // No CreateJob rule: calling it would fail the test with "no rule".
    let mut d = deps(&[]);
    d.now = late;
    let e = handle(state(), &d).await.unwrap_err();
    assert_eq!(e.error_type(), "InvalidRequest");
    assert_eq!(e.problems()[0].field, "ota:start");
    assert!(
        e.to_string().contains("2026-12-01T02:00 is now too close"),
        "{e}"
    );
}

#[tokio::test]
async fn create_job_sends_every_configured_field() {
    let (create, seen) = capturing_create(|| {
        CreateJobOutput::builder()
            .job_id("AFR_OTA-app-v1_4-5c0b7a1e93d2")
            .job_arn("arn:aws:iot:us-east-1:123456789012:job/AFR_OTA-app-v1_4-5c0b7a1e93d2")
            .build()
    });
    let d = deps(&[&create]);
    let s = handle(state(), &d).await.unwrap();
    let job = s.job.unwrap();
    assert!(job.created);
    assert_eq!(
        job.job_arn,
        "arn:aws:iot:us-east-1:123456789012:job/AFR_OTA-app-v1_4-5c0b7a1e93d2"
    );

    let r = seen.lock().unwrap().take().expect("CreateJob was called");
    assert_eq!(r.job_id(), Some("AFR_OTA-app-v1_4-5c0b7a1e93d2"));
    assert_eq!(
        r.targets(),
        [
            "arn:aws:iot:us-east-1:123456789012:thinggroup/Lab",
            "arn:aws:iot:us-east-1:123456789012:thing/dev-7"
        ]
    );
    assert_eq!(r.target_selection(), Some(&TargetSelection::Snapshot));
    let doc: Value = serde_json::from_str(r.document().unwrap()).unwrap();
    assert_eq!(doc, expected_document());
    assert_eq!(
        r.timeout_config().unwrap().in_progress_timeout_in_minutes(),
        Some(10)
    );
    let retry = r.job_executions_retry_config().unwrap().criteria_list();
    assert_eq!(retry.len(), 2);
    assert_eq!(retry[0].failure_type(), &RetryableFailureType::Failed);
    assert_eq!(retry[0].number_of_retries(), 2);
    assert_eq!(retry[1].failure_type(), &RetryableFailureType::TimedOut);
    assert_eq!(retry[1].number_of_retries(), 3);
    let sched = r.scheduling_config().unwrap();
    assert_eq!(sched.start_time(), Some("2026-12-01T02:00"));
    assert_eq!(sched.end_time(), Some("2026-12-08T02:00"));
    assert_eq!(sched.end_behavior(), Some(&JobEndBehavior::Cancel));
    assert_eq!(
        sched.maintenance_windows()[0].start_time(),
        "cron(0 2 ? * MON-FRI *)"
    );
    assert_eq!(sched.maintenance_windows()[0].duration_in_minutes(), 120);
    assert_eq!(
        r.destination_package_versions(),
        ["arn:aws:iot:us-east-1:123456789012:package/MyPkg/version/1.4.0"]
    );
    assert!(
        r.presigned_url_config().is_none(),
        "MQTT only: no presigned URLs"
    );
    assert!(r.abort_config().is_none());
    assert!(r.job_executions_rollout_config().is_none());
    let tags: Vec<(&str, &str)> = r
        .tags()
        .iter()
        .map(|t| (t.key(), t.value().unwrap_or_default()))
        .collect();
    assert_eq!(
        tags,
        [
            ("ota:source-bucket", "ota-pipeline-firmwarebucket-1a2b3c4d5e6f"),
            ("ota:source-key", "firmware/app-v1.4.bin"),
            ("ota:source-version", "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"),
            (
                "ota:execution",
                "arn:aws:states:us-east-1:123456789012:execution:ota-update:3f1c2a9e-0b7d-4c55-9d0e-6a1b2c3d4e5f"
            ),
            // What `ota delete` looks up: the stream, the signing job and
            // the version of its output object (events/create-job.json).
            ("ota:stream", "AFR_OTA-app-v1_4-8a9caeb409fd"),
            ("ota:signing-job", "2a7d5c1e-6f3b-4b8a-9c0d-1e2f3a4b5c6d"),
            ("ota:signed-version", "b5Xk1n7Qz2.wVmP9rT4yLc8HdJ0sAeFg"),
        ]
    );
}

#[tokio::test]
async fn http_rollout_and_abort_reach_create_job() {
    let s = state_with_every_block("max:100 base:10 factor:2.5 succeeded:20", "FAILED:12.5:10");
    let (create, seen) = capturing_create(|| CreateJobOutput::builder().build());
    let d = deps(&[&create]);
    handle(s, &d).await.unwrap();
    let r = seen.lock().unwrap().take().unwrap();
    let p = r.presigned_url_config().unwrap();
    assert_eq!((p.role_arn(), p.expires_in_sec()), (Some(ROLE), Some(600)));
    let ro = r.job_executions_rollout_config().unwrap();
    assert_eq!(ro.maximum_per_minute(), Some(100));
    let e = ro.exponential_rate().unwrap();
    assert_eq!((e.base_rate_per_minute(), e.increment_factor()), (10, 2.5));
    assert_eq!(
        e.rate_increase_criteria()
            .unwrap()
            .number_of_succeeded_things(),
        Some(20)
    );
    let a = &r.abort_config().unwrap().criteria_list()[0];
    assert_eq!(
        (a.threshold_percentage(), a.min_number_of_executed_things()),
        (12.5, 10)
    );
    let doc: Value = serde_json::from_str(r.document().unwrap()).unwrap();
    let f = &doc["afr_ota"]["files"][0];
    assert_eq!(f["auth_scheme"], "aws.s3.presigned");
    assert_eq!(
        f["update_data_url"],
        "${aws:iot:s3-presigned-url-v2:https://s3.us-east-1.amazonaws.com/ota-pipeline-firmwarebucket-1a2b3c4d5e6f/firmware/app-v1.4.bin%3FversionId%3D3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY}"
    );
    assert_eq!(doc["afr_ota"]["protocols"], json!(["MQTT", "HTTP"]));
}

fn exists() -> Rule {
    mock!(aws_sdk_iot::Client::create_job)
        .then_http_response(|| json_error(409, "ResourceAlreadyExistsException", "job exists"))
}

fn existing(document: Value, targets: &'static [&'static str]) -> (Rule, Rule) {
    existing_answering(document, targets, "")
}

/// `flaky` names the call that first fails with throttling and a 5xx.
fn existing_answering(
    document: Value,
    targets: &'static [&'static str],
    flaky: &str,
) -> (Rule, Rule) {
    let doc = mock!(aws_sdk_iot::Client::get_job_document)
        .match_requests(|r| r.job_id() == Some("AFR_OTA-app-v1_4-5c0b7a1e93d2"));
    let doc = answer(flaky, "GetJobDocument", doc, JSON_TRANSIENT, move || {
        GetJobDocumentOutput::builder()
            .document(document.to_string())
            .build()
    });
    let job =
        answer(
            flaky,
            "DescribeJob",
            mock!(aws_sdk_iot::Client::describe_job),
            JSON_TRANSIENT,
            move || {
                DescribeJobOutput::builder()
            .job(
                Job::builder()
                    .job_arn("arn:aws:iot:us-east-1:123456789012:job/AFR_OTA-app-v1_4-5c0b7a1e93d2")
                    .set_targets(Some(targets.iter().map(|t| t.to_string()).collect()))
                    .build(),
            )
            .build()
            },
        );
    (doc, job)
}

#[tokio::test]
async fn every_call_gets_through_throttling_and_5xx_by_the_sdks_retries() {
    // CreateJob itself: one job, created by the third attempt.
    let create = answer(
        "CreateJob",
        "CreateJob",
        mock!(aws_sdk_iot::Client::create_job),
        JSON_TRANSIENT,
        || {
            CreateJobOutput::builder()
                .job_arn("arn:aws:iot:us-east-1:123456789012:job/AFR_OTA-app-v1_4-5c0b7a1e93d2")
                .build()
        },
    );
    let d = deps_retrying(fast_retries(), &[&create]);
    let job = handle(state(), &d).await.unwrap().job.unwrap();
    assert_eq!(create.num_calls(), 3, "two failed attempts, then one job");
    assert!(job.created);

    // The reads that tell an identical existing job (a retried run) apart.
    for flaky in ["GetJobDocument", "DescribeJob"] {
        let (c, (doc, job)) = (
            exists(),
            existing_answering(expected_document(), TARGETS, flaky),
        );
        let d = deps_retrying(fast_retries(), &[&c, &doc, &job]);
        let s = handle(state(), &d)
            .await
            .unwrap_or_else(|e| panic!("{flaky}: {e}"));
        assert!(!s.job.unwrap().created, "{flaky}");
        assert_eq!(c.num_calls(), 1, "{flaky}: already exists is not retried");
        assert_eq!(doc.num_calls() + job.num_calls(), 2 + 2, "{flaky}");
    }
}

/// CreateStream for the fixture's stream, as create-job restores it: the
/// same id, file, role, and a description naming this execution.
fn recreate() -> Rule {
    let execution = state().execution_id;
    mock!(aws_sdk_iot::Client::create_stream)
        .match_requests(move |r| {
            r.stream_id() == Some(STREAM_ID)
                && r.files() == [fixture_file()]
                && r.role_arn() == Some(ROLE)
                && r.description().is_some_and(|d| d.contains(&execution))
        })
        .then_output(|| {
            CreateStreamOutput::builder()
                .stream_id(STREAM_ID)
                .stream_version(1)
                .build()
        })
}

fn created_job() -> Rule {
    mock!(aws_sdk_iot::Client::create_job).then_output(|| {
        CreateJobOutput::builder()
            .job_arn("arn:aws:iot:us-east-1:123456789012:job/AFR_OTA-app-v1_4-5c0b7a1e93d2")
            .build()
    })
}

fn stream_gone() -> aws_smithy_runtime_api::http::Response {
    json_error(404, "ResourceNotFoundException", "no such stream")
}

#[tokio::test]
async fn a_stream_removed_before_create_job_is_restored_first() {
    // A duplicate run's Clean Up deleted the shared stream after this run's
    // make-stream: the stream is back before any job points at it.
    let gone_then_there = mock!(aws_sdk_iot::Client::describe_stream)
        .sequence()
        .http_response(stream_gone)
        .build();
    let (create_stream, create) = (recreate(), created_job());
    let d = deps(&[&gone_then_there, &create_stream, &create]);
    let s = handle(state(), &d).await.unwrap();
    assert!(s.job.unwrap().created);
    assert_eq!([create_stream.num_calls(), create.num_calls()], [1, 1]);
    assert_eq!(gone_then_there.num_calls(), 1, "then the fallback finds it");
}

#[tokio::test]
async fn a_stream_removed_while_the_job_was_created_is_restored_after() {
    // The delete came between the look before CreateJob and the job: the
    // look after CreateJob finds it gone and recreates it.
    let there_then_gone = mock!(aws_sdk_iot::Client::describe_stream)
        .sequence()
        .output(|| described(fixture_file()))
        .http_response(stream_gone)
        .build();
    let (create_stream, create) = (recreate(), created_job());
    let d = deps(&[&there_then_gone, &create_stream, &create]);
    let (out, logs) = capture_logs(|| handle(state(), &d)).await;
    out.unwrap();
    assert_eq!(there_then_gone.num_calls(), 2);
    assert_eq!([create.num_calls(), create_stream.num_calls()], [1, 1]);
    logs.assert_some_line_has("check", "after CreateJob");
}

#[tokio::test]
async fn a_stream_that_serves_another_file_is_a_conflict_before_create_job() {
    let other = mock!(aws_sdk_iot::Client::describe_stream).then_output(|| {
        described(
            StreamFile::builder()
                .file_id(0)
                .s3_location(
                    S3Location::builder()
                        .bucket("b")
                        .key("other.bin")
                        .version("v9")
                        .build(),
                )
                .build(),
        )
    });
    let create = created_job();
    let e = handle(state(), &deps(&[&other, &create]))
        .await
        .unwrap_err();
    assert_eq!(e.error_type(), "Conflict", "{e}");
    assert_eq!(create.num_calls(), 0);
}

const TARGETS: &[&str] = &[
    "arn:aws:iot:us-east-1:123456789012:thing/dev-7",
    "arn:aws:iot:us-east-1:123456789012:thinggroup/Lab",
];

#[tokio::test]
async fn an_identical_existing_job_is_success() {
    let (c, (doc, job)) = (exists(), existing(expected_document(), TARGETS));
    let d = deps(&[&c, &doc, &job]);
    let s = handle(state(), &d).await.unwrap();
    let j = s.job.unwrap();
    assert!(!j.created);
    assert!(j.job_arn.ends_with("job/AFR_OTA-app-v1_4-5c0b7a1e93d2"));
}

#[tokio::test]
async fn a_different_existing_job_is_a_conflict() {
    let mut other = expected_document();
    other["afr_ota"]["files"][0]["filesize"] = json!(1);
    let (c, (doc, job)) = (exists(), existing(other, TARGETS));
    let d = deps(&[&c, &doc, &job]);
    assert_eq!(
        handle(state(), &d).await.unwrap_err().error_type(),
        "Conflict"
    );

    let (c, (doc, job)) = (exists(), existing(expected_document(), &TARGETS[..1]));
    let d = deps(&[&c, &doc, &job]);
    assert_eq!(
        handle(state(), &d).await.unwrap_err().error_type(),
        "Conflict"
    );
}

#[tokio::test]
async fn create_job_errors_map() {
    for (code, status, want) in [
        ("ResourceNotFoundException", 404, "ResourceNotFound"),
        ("ThrottlingException", 429, "Throttled"),
        ("LimitExceededException", 410, "LimitExceeded"),
        ("InvalidRequestException", 400, "InvalidRequest"),
        ("ServiceUnavailableException", 503, "ServiceUnavailable"),
    ] {
        let r = mock!(aws_sdk_iot::Client::create_job)
            .then_http_response(move || json_error(status, code, "x"));
        let d = deps(&[&r]);
        let e = handle(state(), &d).await.unwrap_err();
        assert_eq!(e.error_type(), want, "{code}: {e}");
    }
}

#[tokio::test]
async fn create_job_without_make_stream_is_an_internal_error() {
    let mut s = state();
    s.signed_file = None;
    let d = deps(&[]);
    assert_eq!(
        handle(s, &d).await.unwrap_err().error_type(),
        "InternalError"
    );
}

/// The SDK request, in CreateJob's JSON field names.
fn sent_as_json(r: &aws_sdk_iot::operation::create_job::CreateJobInput) -> Value {
    let mut v = json!({
        "jobId": r.job_id(),
        "targets": r.targets(),
        "targetSelection": r.target_selection().map(|t| t.as_str()),
        "description": r.description(),
        "document": serde_json::from_str::<Value>(r.document().unwrap_or("null")).unwrap(),
        "tags": r.tags().iter().map(|t| json!({"Key": t.key(), "Value": t.value()})).collect::<Vec<_>>(),
    });
    if let Some(t) = r.timeout_config() {
        v["timeoutConfig"] =
            json!({"inProgressTimeoutInMinutes": t.in_progress_timeout_in_minutes()});
    }
    if let Some(c) = r.job_executions_retry_config() {
        v["jobExecutionsRetryConfig"] = json!({"criteriaList": c.criteria_list().iter()
            .map(|c| json!({"failureType": c.failure_type().as_str(), "numberOfRetries": c.number_of_retries()}))
            .collect::<Vec<_>>()});
    }
    if let Some(s) = r.scheduling_config() {
        v["schedulingConfig"] = json!({
            "startTime": s.start_time(), "endTime": s.end_time(),
            "endBehavior": s.end_behavior().map(|e| e.as_str()),
            "maintenanceWindows": s.maintenance_windows().iter()
                .map(|w| json!({"startTime": w.start_time(), "durationInMinutes": w.duration_in_minutes()}))
                .collect::<Vec<_>>(),
        });
    }
    if let Some(a) = r.abort_config() {
        v["abortConfig"] = json!({"criteriaList": a.criteria_list().iter().map(|c| json!({
            "failureType": c.failure_type().as_str(), "action": c.action().as_str(),
            "thresholdPercentage": c.threshold_percentage(),
            "minNumberOfExecutedThings": c.min_number_of_executed_things(),
        })).collect::<Vec<_>>()});
    }
    if let Some(ro) = r.job_executions_rollout_config() {
        v["jobExecutionsRolloutConfig"] = json!({"maximumPerMinute": ro.maximum_per_minute()});
        if let Some(e) = ro.exponential_rate() {
            let c = e.rate_increase_criteria().unwrap();
            let criteria = match (
                c.number_of_notified_things(),
                c.number_of_succeeded_things(),
            ) {
                (Some(n), _) => json!({"numberOfNotifiedThings": n}),
                (_, n) => json!({"numberOfSucceededThings": n}),
            };
            v["jobExecutionsRolloutConfig"]["exponentialRate"] = json!({
                "baseRatePerMinute": e.base_rate_per_minute(),
                "incrementFactor": e.increment_factor(),
                "rateIncreaseCriteria": criteria,
            });
        }
    }
    if let Some(p) = r.presigned_url_config() {
        v["presignedUrlConfig"] =
            json!({"roleArn": p.role_arn(), "expiresInSec": p.expires_in_sec()});
    }
    if !r.destination_package_versions().is_empty() {
        v["destinationPackageVersions"] = json!(r.destination_package_versions());
    }
    v
}

/// `ota validate` prints ota_core::create_job::request_json: it must be
/// exactly what create-job sends, for every configured field.
#[tokio::test]
async fn the_cli_preview_is_the_request_create_job_sends() {
    let s = state_with_every_block(
        "max:100 base:10 factor:2.5 notified:20",
        "TIMED_OUT:12.5:10",
    );
    let (create, seen) = capturing_create(|| CreateJobOutput::builder().build());
    let d = deps(&[&create]);
    let done = handle(s.clone(), &d).await.unwrap();
    let sent = sent_as_json(&seen.lock().unwrap().take().unwrap());

    let src = &s.source;
    let mut tags =
        ota_core::create_job::job_tags(&src.bucket, &src.key, &src.version_id, &s.execution_id);
    tags.extend(ota_core::create_job::made_by_run_tags(&s));
    let preview = ota_core::create_job::request_json(&s.request, &sent["document"], ROLE, &tags);
    assert_eq!(sent, preview);
    assert!(done.job.is_some());
    // Every optional block is present, so none is compared by absence only.
    for k in [
        "timeoutConfig",
        "jobExecutionsRetryConfig",
        "schedulingConfig",
        "abortConfig",
        "jobExecutionsRolloutConfig",
        "presignedUrlConfig",
        "destinationPackageVersions",
    ] {
        assert!(preview.get(k).is_some(), "{k}");
    }
}

#[tokio::test]
async fn logs_carry_the_ids_and_no_signature() {
    let create = mock!(aws_sdk_iot::Client::create_job).then_output(|| {
        CreateJobOutput::builder()
            .job_arn("arn:aws:iot:us-east-1:123456789012:job/AFR_OTA-app-v1_4-5c0b7a1e93d2")
            .build()
    });
    let d = deps(&[&create]);
    let (s, logs) = capture_logs(|| handle(state(), &d)).await;
    let s = s.unwrap();
    logs.assert_every_line_names(&s);
    logs.assert_every_line_has("stream_id", "AFR_OTA-app-v1_4-8a9caeb409fd");
    logs.assert_some_line_has(
        "job_arn",
        "arn:aws:iot:us-east-1:123456789012:job/AFR_OTA-app-v1_4-5c0b7a1e93d2",
    );
    logs.assert_no_signature_material(&s.signed_file.unwrap().signature);
}

#[tokio::test]
async fn an_oversize_document_is_refused_without_calling_create_job() {
    // start-signing refuses these before signing; this is the backstop for a
    // state that got here anyway. No rules: any IoT call would fail the test.
    let mut s = state();
    s.signing.certfile = "c".repeat(40_000);
    let d = deps(&[]);
    let e = handle(s, &d).await.unwrap_err();
    assert_eq!(e.error_type(), "InvalidRequest", "{e}");
    assert!(
        e.to_string().contains("CreateJob accepts at most 32768"),
        "{e}"
    );
}

#[tokio::test]
async fn a_failure_is_logged_with_the_ids_and_its_error_type() {
    // As the runner calls the handler (ota_lambda::run -> invoke).
    let r = mock!(aws_sdk_iot::Client::create_job)
        .then_http_response(|| json_error(404, "ResourceNotFoundException", "no such group"));
    let d = deps(&[&r]);
    let (out, logs) =
        capture_logs(|| ota_lambda::invoke(state(), "req-1".into(), |s| handle(s, &d))).await;
    assert!(out.is_err());
    logs.assert_every_line_names(&state());
    logs.assert_some_line_has("error_type", "ResourceNotFound");
    logs.assert_some_line_has("request_id", "req-1");
}

#[tokio::test]
async fn what_the_device_parsers_would_reject_is_logged_and_in_the_output() {
    // An RSA signature: the Jobs OTA parser reads only sig-sha256-ecdsa
    // (job_parser.c L304-317), and the FreeRTOS agent only its PAL's key.
    let mut s = state();
    s.signed_file.as_mut().unwrap().signature_algorithm = "SHA256withRSA".into();
    let create = created_job();
    let d = deps(&[&create]);
    let (out, logs) = capture_logs(|| handle(s, &d)).await;
    let findings = out.unwrap().job.unwrap().device_findings;
    assert_eq!(findings.len(), 2, "{findings:?}");
    assert!(
        findings[0].starts_with("freertos-ota-agent (signature-key-of-the-pal"),
        "{findings:?}"
    );
    assert!(
        findings[1]
            .starts_with("aws-iot-jobs-parser (signature-sha256-ecdsa, job_parser.c L304-317)"),
        "{findings:?}"
    );
    logs.assert_some_line_has("rule", "signature-sha256-ecdsa");

    // The fixture's ECDSA document: nothing to say.
    let create = created_job();
    let job = handle(state(), &deps(&[&create]))
        .await
        .unwrap()
        .job
        .unwrap();
    assert!(job.device_findings.is_empty(), "{:?}", job.device_findings);
}

#[tokio::test]
async fn devices_named_refuse_the_signers_answer_before_create_job() {
    // Signed with a profile: only now is the algorithm known.
    let mut s = state();
    s.signed_file.as_mut().unwrap().signature_algorithm = "SHA256withRSA".into();
    s.request.devices = vec![ota_core::devices::DeviceFamily::AwsIotJobsParser];
    let create = created_job();
    let e = handle(s, &deps(&[&create])).await.unwrap_err();
    assert_eq!(e.error_type(), "InvalidRequest", "{e}");
    assert_eq!(e.problems()[0].field, "ota:devices");
    assert!(e.to_string().contains("signature-sha256-ecdsa"), "{e}");
    assert_eq!(create.num_calls(), 0, "no job; Clean Up removes the stream");
}

#[tokio::test]
async fn an_aws_fota_update_becomes_a_job_with_nordics_document_and_a_presigned_url() {
    let mut s = state();
    s.request.format = ota_core::values::DocumentFormat::AwsFota;
    s.request.firmware_version = Some("v1.4.0".into());
    s.request.signing = ota_core::Signing::Unsigned;
    s.request.protocols = vec![ota_core::values::Protocol::Http];
    s.request.presigned_expiry_seconds = Some(3600);
    s.stream = None;
    let signed = s.signed_file.as_mut().unwrap();
    signed.signature = String::new();
    signed.signature_algorithm = String::new();
    let (create, seen) = capturing_create(|| CreateJobOutput::builder().build());
    // No stream rule: an aws_fota job names none, so nothing is described.
    let d = deps(&[&create]);
    let out = handle(s, &d).await.unwrap();
    let r = seen.lock().unwrap().take().unwrap();
    let doc: Value = serde_json::from_str(r.document().unwrap()).unwrap();
    assert_eq!(
        doc,
        json!({"operation": "app_fw_update", "fwversion": "v1.4.0", "size": 366816, "location": {
            "url": "${aws:iot:s3-presigned-url-v2:https://s3.us-east-1.amazonaws.com/ota-pipeline-firmwarebucket-1a2b3c4d5e6f/firmware/app-v1.4.bin%3FversionId%3D3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY}"}})
    );
    let p = r.presigned_url_config().unwrap();
    assert_eq!((p.role_arn(), p.expires_in_sec()), (Some(ROLE), Some(3600)));
    // Nordic's default buffers against a presigned URL: recorded, not
    // refused (no ota:devices).
    let findings = out.job.unwrap().device_findings;
    assert!(
        findings.iter().all(|f| f.starts_with("nrf-aws-fota ("))
            && findings.iter().any(|f| f.contains("url-path-length")),
        "{findings:?}"
    );
}
