//! `ota cancel` and `ota delete` against aws-smithy-mocks clients, for what
//! the emulator does not model: IoT's limit of 10 jobs in
//! DELETION_IN_PROGRESS (LimitExceededException, queued), a deletion that
//! takes several looks, throttled tag lookups, a stream another job still
//! uses or the pipeline did not make, a failure after the job is gone, and
//! input refused before any call. Error codes and messages follow the IoT
//! API reference (CancelJob, DeleteJob) and the Resource Groups Tagging API
//! reference (GetResources: ThrottledException).

use aws_sdk_iot::operation::cancel_job::CancelJobOutput;
use aws_sdk_iot::operation::delete_job::DeleteJobOutput;
use aws_sdk_iot::operation::delete_stream::DeleteStreamOutput;
use aws_sdk_iot::operation::describe_job::DescribeJobOutput;
use aws_sdk_iot::operation::describe_stream::DescribeStreamOutput;
use aws_sdk_iot::types::{Job, JobProcessDetails, JobStatus, StreamInfo};
use aws_sdk_resourcegroupstagging::operation::get_resources::GetResourcesOutput;
use aws_sdk_resourcegroupstagging::types::ResourceTagMapping;
use aws_sdk_s3::operation::delete_object::DeleteObjectOutput;
use aws_sdk_signer::operation::describe_signing_job::DescribeSigningJobOutput;
use aws_sdk_signer::types::{S3SignedObject, SignedObject};
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use ota_aws::test_support::{fast_retries, json_error};
use ota_cli::args::{CancelArgs, JobRef};
use ota_cli::aws::Clients;
use ota_cli::error::CliError;
use ota_cli::lifecycle::cancel::{self, FORCE_WARNING};
use ota_cli::lifecycle::delete::{self, Pacing};
use ota_cli::lifecycle::PipelineJob;
use std::time::Duration;

const JOB: &str = "AFR_OTA-app-v1_4-8a9caeb409fd";
const JOB_ARN: &str = "arn:aws:iot:us-east-1:123456789012:job/AFR_OTA-app-v1_4-8a9caeb409fd";
const STREAM: &str = "AFR_OTA-app-v1_4-3c1d2e4f5a6b";
const SIGNING_JOB: &str = "2a7d5c1e-6f3b-4b8a-9c0d-1e2f3a4b5c6d";
const SIGNED_VERSION: &str = "b5Xk1n7Qz2.wVmP9rT4yLc8HdJ0sAeFg";
const BUCKET: &str = "ota-pipeline-firmwarebucket-1a2b3c4d5e6f";

fn job(status: JobStatus) -> PipelineJob {
    let tags = [
        ("ota:source-bucket", BUCKET),
        ("ota:source-key", "firmware/app-v1.4.bin"),
        ("ota:source-version", "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"),
        (
            "ota:execution",
            "arn:aws:states:us-east-1:123456789012:execution:ota:e1",
        ),
        ("ota:stream", STREAM),
        ("ota:signing-job", SIGNING_JOB),
        ("ota:signed-version", SIGNED_VERSION),
    ];
    PipelineJob {
        job_id: JOB.into(),
        job_arn: JOB_ARN.into(),
        status: status.clone(),
        job: Job::builder().job_id(JOB).status(status).build(),
        tags: tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

fn clients(iot: &[&Rule], tagging: &[&Rule], signer: &[&Rule], s3: &[&Rule]) -> Clients {
    Clients {
        region: "us-east-1".into(),
        s3: mock_client!(aws_sdk_s3, RuleMode::MatchAny, s3, |c| c
            .retry_config(fast_retries())),
        sfn: mock_client!(aws_sdk_sfn, RuleMode::MatchAny, &[]),
        iot: mock_client!(aws_sdk_iot, RuleMode::MatchAny, iot, |c| c
            .retry_config(fast_retries())),
        signer: mock_client!(aws_sdk_signer, RuleMode::MatchAny, signer, |c| c
            .retry_config(fast_retries())),
        tagging: mock_client!(
            aws_sdk_resourcegroupstagging,
            RuleMode::MatchAny,
            tagging,
            |c| c.retry_config(fast_retries())
        ),
    }
}

fn fast() -> Pacing {
    Pacing {
        poll: Duration::from_millis(1),
        queue_backoff: Duration::from_millis(1),
        timeout: Duration::from_secs(10),
    }
}

fn cancel_args(force: bool, comment: Option<&str>, reason: Option<&str>) -> CancelArgs {
    CancelArgs {
        job: JobRef {
            what: JOB.into(),
            bucket: None,
            version_id: None,
        },
        force,
        comment: comment.map(str::to_string),
        reason_code: reason.map(str::to_string),
    }
}

/// DescribeJob's answer: the job in `status` with these device counts.
fn job_output(status: JobStatus, details: JobProcessDetails) -> DescribeJobOutput {
    DescribeJobOutput::builder()
        .job(
            Job::builder()
                .job_id(JOB)
                .status(status)
                .job_process_details(details)
                .build(),
        )
        .build()
}

fn described(status: JobStatus, in_progress: i32) -> Rule {
    mock!(aws_sdk_iot::Client::describe_job).then_output(move || {
        job_output(
            status.clone(),
            JobProcessDetails::builder()
                .number_of_in_progress_things(in_progress)
                .build(),
        )
    })
}

#[test]
fn comment_and_reason_code_are_checked_as_cancel_job_does() {
    assert!(cancel::check(Some("boot loop on rev B"), Some("BAD_RELEASE_2")).is_ok());
    let problems = |c: Option<&str>, r: Option<&str>| match cancel::check(c, r) {
        Err(CliError::Invalid(p)) => p.iter().map(|q| q.field.clone()).collect::<Vec<_>>(),
        other => panic!("expected Invalid, got {other:?}"),
    };
    assert_eq!(problems(None, Some("bad-release")), ["--reason-code"]);
    assert_eq!(problems(None, Some(&"A".repeat(129))), ["--reason-code"]);
    assert_eq!(problems(Some(""), None), ["--comment"]);
    assert_eq!(problems(Some("two\nlines"), None), ["--comment"]);
    // A format character (ZERO WIDTH SPACE, category Cf) is \p{C} too.
    assert_eq!(problems(Some("zero\u{200B}width"), None), ["--comment"]);
    assert_eq!(
        problems(Some(&"x".repeat(2029)), Some("ok")),
        ["--comment", "--reason-code"]
    );
    assert!(cancel::check(Some(&"é".repeat(2028)), Some(&"9".repeat(128))).is_ok());
}

#[tokio::test]
async fn cancel_sends_force_comment_and_reason_and_warns_about_forced_devices() {
    let sent = mock!(aws_sdk_iot::Client::cancel_job)
        .match_requests(|r| {
            r.job_id() == Some(JOB)
                && r.force() == Some(true)
                && r.comment() == Some("boot loop")
                && r.reason_code() == Some("BAD_RELEASE")
        })
        .then_output(|| CancelJobOutput::builder().job_id(JOB).build());
    let after = described(JobStatus::Canceled, 0);
    let c = clients(&[&sent, &after], &[], &[], &[]);
    let v = cancel::cancel(
        &c,
        &job(JobStatus::InProgress),
        &cancel_args(true, Some("boot loop"), Some("BAD_RELEASE")),
    )
    .await
    .unwrap();
    assert_eq!(sent.num_calls(), 1);
    assert_eq!(v["status"], "CANCELED");
    assert_eq!(v["warnings"], serde_json::json!([FORCE_WARNING]));
}

#[tokio::test]
async fn cancel_without_force_says_how_many_devices_may_still_finish() {
    let sent = mock!(aws_sdk_iot::Client::cancel_job)
        .match_requests(|r| r.force() == Some(false) && r.comment().is_none())
        .then_output(|| CancelJobOutput::builder().build());
    let after = described(JobStatus::Canceled, 3);
    let c = clients(&[&sent, &after], &[], &[], &[]);
    let v = cancel::cancel(
        &c,
        &job(JobStatus::InProgress),
        &cancel_args(false, None, None),
    )
    .await
    .unwrap();
    assert_eq!(sent.num_calls(), 1);
    assert_eq!(v["inProgressThings"], 3);
    assert!(v["warnings"][0]
        .as_str()
        .unwrap()
        .starts_with("3 device(s)"));
}

#[tokio::test]
async fn a_completed_job_is_refused_and_a_job_that_ended_meanwhile_too() {
    let sent =
        mock!(aws_sdk_iot::Client::cancel_job).then_output(|| CancelJobOutput::builder().build());
    let c = clients(&[&sent], &[], &[], &[]);
    let e = cancel::cancel(
        &c,
        &job(JobStatus::Completed),
        &cancel_args(false, None, None),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&e, CliError::Refused(m) if m.contains("COMPLETED")),
        "{e}"
    );
    assert_eq!(e.exit_code(), 2);
    assert_eq!(sent.num_calls(), 0);

    // CancelJob's InvalidRequestException: the job completed after DescribeJob.
    let raced = mock!(aws_sdk_iot::Client::cancel_job).then_http_response(|| {
        json_error(
            400,
            "InvalidRequestException",
            "Job AFR_OTA-app is in status COMPLETED and cannot be canceled",
        )
    });
    let c = clients(&[&raced], &[], &[], &[]);
    let e = cancel::cancel(
        &c,
        &job(JobStatus::InProgress),
        &cancel_args(false, None, None),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&e, CliError::Refused(m) if m.contains("cannot be canceled")),
        "{e}"
    );
}

#[tokio::test]
async fn a_job_still_in_progress_is_not_deleted_without_force() {
    let del =
        mock!(aws_sdk_iot::Client::delete_job).then_output(|| DeleteJobOutput::builder().build());
    let c = clients(&[&del], &[], &[], &[]);
    let e = delete::delete(&c, &job(JobStatus::InProgress), false, fast())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, CliError::Refused(m) if m.contains("ota cancel")),
        "{e}"
    );
    assert_eq!(del.num_calls(), 0);
}

fn stream_described(description: &'static str) -> Rule {
    mock!(aws_sdk_iot::Client::describe_stream)
        .match_requests(|r| r.stream_id() == Some(STREAM))
        .then_output(move || {
            DescribeStreamOutput::builder()
                .stream_info(
                    StreamInfo::builder()
                        .stream_id(STREAM)
                        .description(description)
                        .build(),
                )
                .build()
        })
}

const OUR_STREAM: &str = "OTA stream for s3://ota-pipeline-firmwarebucket-1a2b3c4d5e6f/firmware/app-v1.4.bin version 3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY (execution arn:aws:states:us-east-1:123456789012:execution:ota:e1)";

fn no_jobs_tagged() -> Rule {
    mock!(aws_sdk_resourcegroupstagging::Client::get_resources)
        .then_output(|| GetResourcesOutput::builder().build())
}

fn signer_says_where() -> Rule {
    mock!(aws_sdk_signer::Client::describe_signing_job)
        .match_requests(|r| r.job_id() == Some(SIGNING_JOB))
        .then_output(|| {
            DescribeSigningJobOutput::builder()
                .signed_object(
                    SignedObject::builder()
                        .s3(S3SignedObject::builder()
                            .bucket_name(BUCKET)
                            .key(format!("signed/{SIGNING_JOB}"))
                            .build())
                        .build(),
                )
                .build()
        })
}

#[tokio::test]
async fn delete_queues_behind_the_deletion_limit_waits_for_the_job_and_removes_what_it_made() {
    // Two LimitExceededException answers (10 jobs in DELETION_IN_PROGRESS),
    // then accepted.
    let del = mock!(aws_sdk_iot::Client::delete_job)
        .match_requests(|r| r.job_id() == Some(JOB) && r.force() == Some(false))
        .sequence()
        .http_response(|| {
            json_error(
                410,
                "LimitExceededException",
                "Only 10 jobs may have status DELETION_IN_PROGRESS",
            )
        })
        .times(2)
        .output(|| DeleteJobOutput::builder().build())
        .build();
    // Still DELETION_IN_PROGRESS at the first look, gone at the second.
    let looks = mock!(aws_sdk_iot::Client::describe_job)
        .sequence()
        .output(|| {
            DescribeJobOutput::builder()
                .job(
                    Job::builder()
                        .job_id(JOB)
                        .status(JobStatus::DeletionInProgress)
                        .build(),
                )
                .build()
        })
        .http_response(|| json_error(404, "ResourceNotFoundException", "Job not found"))
        .build();
    let stream = stream_described(OUR_STREAM);
    let del_stream = mock!(aws_sdk_iot::Client::delete_stream)
        .match_requests(|r| r.stream_id() == Some(STREAM))
        .then_output(|| DeleteStreamOutput::builder().build());
    // Each tag lookup throttled once first: the SDK retries it.
    let lookups = mock!(aws_sdk_resourcegroupstagging::Client::get_resources)
        .match_requests(|r| r.resource_type_filters() == ["iot:job"] && r.tag_filters().len() == 1)
        .sequence()
        .http_response(|| json_error(400, "ThrottledException", "Rate exceeded"))
        .output(|| GetResourcesOutput::builder().build())
        .http_response(|| json_error(400, "ThrottledException", "Rate exceeded"))
        .output(|| GetResourcesOutput::builder().build())
        .build();
    let signer = signer_says_where();
    let del_obj = mock!(aws_sdk_s3::Client::delete_object)
        .match_requests(|r| {
            r.bucket() == Some(BUCKET)
                && r.key() == Some(&format!("signed/{SIGNING_JOB}"))
                && r.version_id() == Some(SIGNED_VERSION)
        })
        .then_output(|| DeleteObjectOutput::builder().build());
    let c = clients(
        &[&del, &looks, &stream, &del_stream],
        &[&lookups],
        &[&signer],
        &[&del_obj],
    );
    let d = delete::delete(&c, &job(JobStatus::Completed), false, fast())
        .await
        .unwrap();
    assert_eq!(del.num_calls(), 3);
    assert_eq!(looks.num_calls(), 2);
    assert_eq!(lookups.num_calls(), 4);
    assert_eq!(del_stream.num_calls(), 1);
    assert_eq!(
        del_obj.num_calls(),
        1,
        "the signed object's version itself, not a delete marker"
    );
    assert_eq!(d.stream.as_deref(), Some(STREAM));
    assert_eq!(
        d.signed_object.as_deref(),
        Some(format!("s3://{BUCKET}/signed/{SIGNING_JOB} version {SIGNED_VERSION}").as_str())
    );
    assert!(d.kept.is_empty(), "{:?}", d.kept);
    assert!(d.firmware.unwrap().contains("firmware/app-v1.4.bin"));
}

#[tokio::test]
async fn delete_gives_up_queued_after_the_timeout_and_touches_nothing_else() {
    let del = mock!(aws_sdk_iot::Client::delete_job).then_http_response(|| {
        json_error(
            410,
            "LimitExceededException",
            "Only 10 jobs may have status DELETION_IN_PROGRESS",
        )
    });
    let c = clients(&[&del], &[], &[], &[]);
    let pacing = Pacing {
        timeout: Duration::from_millis(20),
        queue_backoff: Duration::from_millis(5),
        ..fast()
    };
    let e = delete::delete(&c, &job(JobStatus::Canceled), false, pacing)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, CliError::GaveUp(m) if m.contains("DELETION_IN_PROGRESS")),
        "{e}"
    );
    assert_eq!(e.exit_code(), 4);
    assert!(del.num_calls() >= 2);
}

fn gone() -> (Rule, Rule) {
    (
        mock!(aws_sdk_iot::Client::delete_job)
            .match_requests(|r| r.force() == Some(true))
            .then_output(|| DeleteJobOutput::builder().build()),
        mock!(aws_sdk_iot::Client::describe_job)
            .then_http_response(|| json_error(404, "ResourceNotFoundException", "Job not found")),
    )
}

#[tokio::test]
async fn what_another_job_still_uses_or_the_pipeline_did_not_make_is_kept() {
    let (del, looks) = gone();
    let stream = stream_described(OUR_STREAM);
    let del_stream = mock!(aws_sdk_iot::Client::delete_stream)
        .then_output(|| DeleteStreamOutput::builder().build());
    let other = "arn:aws:iot:us-east-1:123456789012:job/AFR_OTA-other";
    let used = mock!(aws_sdk_resourcegroupstagging::Client::get_resources).then_output(move || {
        GetResourcesOutput::builder()
            .resource_tag_mapping_list(ResourceTagMapping::builder().resource_arn(other).build())
            .build()
    });
    let del_obj = mock!(aws_sdk_s3::Client::delete_object)
        .then_output(|| DeleteObjectOutput::builder().build());
    let c = clients(
        &[&del, &looks, &stream, &del_stream],
        &[&used],
        &[],
        &[&del_obj],
    );
    // --force: an IN_PROGRESS job is deleted (DeleteJob force=true).
    let d = delete::delete(&c, &job(JobStatus::InProgress), true, fast())
        .await
        .unwrap();
    assert_eq!(del.num_calls(), 1);
    assert_eq!((del_stream.num_calls(), del_obj.num_calls()), (0, 0));
    assert_eq!(d.kept.len(), 2, "{:?}", d.kept);
    assert!(d.kept.iter().all(|k| k.contains(other)), "{:?}", d.kept);

    // A stream whose description names another upload: someone else's.
    let (del, looks) = gone();
    let theirs = stream_described("firmware stream made by hand");
    let none = no_jobs_tagged();
    let signer = signer_says_where();
    let del_obj = mock!(aws_sdk_s3::Client::delete_object)
        .then_output(|| DeleteObjectOutput::builder().build());
    let c = clients(
        &[&del, &looks, &theirs, &del_stream],
        &[&none],
        &[&signer],
        &[&del_obj],
    );
    let d = delete::delete(&c, &job(JobStatus::InProgress), true, fast())
        .await
        .unwrap();
    assert_eq!(del_stream.num_calls(), 0);
    assert_eq!(del_obj.num_calls(), 1);
    assert!(d.kept[0].contains("did not make it"), "{:?}", d.kept);
}

#[tokio::test]
async fn a_failure_after_the_job_is_gone_names_what_is_left_and_how_to_remove_it() {
    let (del, looks) = gone();
    let stream = stream_described(OUR_STREAM);
    let denied = mock!(aws_sdk_iot::Client::delete_stream).then_http_response(|| {
        json_error(
            403,
            "AccessDeniedException",
            "not authorized to perform: iot:DeleteStream",
        )
    });
    let none = no_jobs_tagged();
    let c = clients(&[&del, &looks, &stream, &denied], &[&none], &[], &[]);
    let e = delete::delete(&c, &job(JobStatus::Completed), true, fast())
        .await
        .unwrap_err();
    let m = e.to_string();
    assert!(
        m.contains(&format!("aws iot delete-stream --stream-id {STREAM}")),
        "{m}"
    );
    assert!(m.contains("iot:DeleteStream"), "{m}");
}

fn summary(
    thing: &str,
    status: aws_sdk_iot::types::JobExecutionStatus,
) -> aws_sdk_iot::types::JobExecutionSummaryForJob {
    aws_sdk_iot::types::JobExecutionSummaryForJob::builder()
        .thing_arn(format!("arn:aws:iot:us-east-1:123456789012:thing/{thing}"))
        .job_execution_summary(
            aws_sdk_iot::types::JobExecutionSummary::builder()
                .status(status)
                .execution_number(1)
                .build(),
        )
        .build()
}

#[tokio::test]
async fn devices_are_listed_over_every_page_and_only_the_failed_ones_are_described() {
    use aws_sdk_iot::operation::describe_job_execution::DescribeJobExecutionOutput;
    use aws_sdk_iot::operation::list_job_executions_for_job::ListJobExecutionsForJobOutput;
    use aws_sdk_iot::types::{JobExecution, JobExecutionStatus as S};
    let pages = mock!(aws_sdk_iot::Client::list_job_executions_for_job)
        .match_requests(|r| r.job_id() == Some(JOB))
        .sequence()
        .output(|| {
            ListJobExecutionsForJobOutput::builder()
                .execution_summaries(summary("dev-b", S::Succeeded))
                .execution_summaries(summary("dev-c", S::Failed))
                .next_token("page-2")
                .build()
        })
        .output(|| {
            ListJobExecutionsForJobOutput::builder()
                .execution_summaries(summary("dev-a", S::Rejected))
                .execution_summaries(summary("dev-d", S::InProgress))
                .build()
        })
        .build();
    // Throttled once: the SDK retries.
    let describe = mock!(aws_sdk_iot::Client::describe_job_execution)
        .match_requests(|r| r.job_id() == Some(JOB))
        .sequence()
        .http_response(|| json_error(429, "ThrottlingException", "Rate exceeded"))
        .output(|| {
            DescribeJobExecutionOutput::builder()
                .execution(
                    JobExecution::builder()
                        .status_details(
                            aws_sdk_iot::types::JobExecutionStatusDetails::builder()
                                .details_map("reason", "image too large")
                                .build(),
                        )
                        .build(),
                )
                .build()
        })
        .times(2)
        .build();
    let c = clients(&[&pages, &describe], &[], &[], &[]);
    let d = ota_cli::status::devices::device_executions(&c, JOB)
        .await
        .unwrap();
    let seen: Vec<(&str, &str)> = d
        .iter()
        .map(|d| (d.thing.as_str(), d.status.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("dev-a", "REJECTED"),
            ("dev-b", "SUCCEEDED"),
            ("dev-c", "FAILED"),
            ("dev-d", "IN_PROGRESS")
        ]
    );
    assert_eq!(pages.num_calls(), 2);
    // dev-a and dev-c only (the throttled attempt is the third call).
    assert_eq!(describe.num_calls(), 3);
    assert_eq!(d[0].status_details["reason"], "image too large");
    assert!(d[1].status_details.is_empty() && d[3].status_details.is_empty());
    let text = ota_cli::status::devices::human(&d);
    assert!(
        text.contains("dev-c  FAILED      reason=image too large"),
        "{text}"
    );
}

#[tokio::test]
async fn watch_ends_when_the_job_completes_and_gives_up_at_its_timeout() {
    let looks = mock!(aws_sdk_iot::Client::describe_job)
        .sequence()
        .output(|| {
            job_output(
                JobStatus::InProgress,
                JobProcessDetails::builder()
                    .number_of_queued_things(2)
                    .build(),
            )
        })
        .output(|| {
            job_output(
                JobStatus::Completed,
                JobProcessDetails::builder()
                    .number_of_succeeded_things(1)
                    .number_of_timed_out_things(1)
                    .build(),
            )
        })
        .build();
    let c = clients(&[&looks], &[], &[], &[]);
    let w = ota_cli::watch::watch(&c, JOB, Duration::from_millis(1), None)
        .await
        .unwrap();
    assert_eq!(looks.num_calls(), 2);
    assert_eq!(w.job_status, "COMPLETED");
    assert_eq!(w.summary(), "succeeded 1, timed out 1");

    let running = described(JobStatus::InProgress, 1);
    let c = clients(&[&running], &[], &[], &[]);
    let e = ota_cli::watch::watch(
        &c,
        JOB,
        Duration::from_millis(5),
        Some(Duration::from_millis(30)),
    )
    .await
    .unwrap_err();
    assert_eq!(e.exit_code(), 4);
    assert!(e.to_string().contains("in progress 1"), "{e}");
}
