//! The `ota` command's AWS calls against aws-smithy-mocks clients, for what
//! the emulator does not do: a part upload that fails (the multipart upload
//! must be aborted, nothing left behind), throttling, several or no pipelines
//! in a region, and which executions are looked at more than once.

use aws_sdk_s3::operation::abort_multipart_upload::AbortMultipartUploadOutput;
use aws_sdk_s3::operation::create_multipart_upload::CreateMultipartUploadOutput;
use aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput;
use aws_sdk_sfn::operation::list_executions::ListExecutionsOutput;
use aws_sdk_sfn::operation::list_state_machines::ListStateMachinesOutput;
use aws_sdk_sfn::types::{
    ExecutionListItem, ExecutionStatus, StateMachineListItem, StateMachineType,
};
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use aws_smithy_types::DateTime;
use ota_aws::test_support::{json_error, xml_error};
use ota_cli::args::{GlobalArgs, Output};
use ota_cli::aws::{Clients, Wanted};
use ota_cli::error::CliError;
use std::collections::HashSet;
use std::time::Duration;

const MACHINE: &str =
    "arn:aws:states:us-east-1:123456789012:stateMachine:ota-OtaUpdateStateMachine-AbC";

fn retry() -> aws_sdk_s3::config::retry::RetryConfig {
    // The SDK's standard retries, without waiting in tests.
    aws_sdk_s3::config::retry::RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(Duration::from_millis(1))
}

fn clients(s3: &[&Rule], sfn: &[&Rule]) -> Clients {
    Clients {
        region: "us-east-1".into(),
        s3: mock_client!(aws_sdk_s3, RuleMode::MatchAny, s3, |c| c
            .retry_config(retry())),
        sfn: mock_client!(aws_sdk_sfn, RuleMode::MatchAny, sfn, |c| c
            .retry_config(retry())),
        iot: mock_client!(aws_sdk_iot, RuleMode::MatchAny, &[]),
        signer: mock_client!(aws_sdk_signer, RuleMode::MatchAny, &[]),
        tagging: mock_client!(aws_sdk_resourcegroupstagging, RuleMode::MatchAny, &[]),
    }
}

/// HeadObject after an upload: S3's time for the version.
fn head_written_at(secs: i64) -> Rule {
    mock!(aws_sdk_s3::Client::head_object).then_output(move || {
        aws_sdk_s3::operation::head_object::HeadObjectOutput::builder()
            .last_modified(DateTime::from_secs(secs))
            .build()
    })
}

/// A file of `bytes` in a fresh temporary folder (removed by the caller),
/// opened for reading.
fn temp_file(test: &str, bytes: &[u8]) -> (std::path::PathBuf, std::fs::File) {
    let dir = std::env::temp_dir().join(format!("ota-cli-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("firmware.bin");
    std::fs::write(&path, bytes).unwrap();
    (dir, std::fs::File::open(&path).unwrap())
}

fn global() -> GlobalArgs {
    GlobalArgs {
        endpoint_url: None,
        region: None,
        output: Output::Human,
        state_machine: None,
    }
}

#[tokio::test]
async fn a_failed_part_aborts_the_multipart_upload() {
    let size = ota_cli::upload::MULTIPART_THRESHOLD + 1;
    let (dir, mut file) = temp_file("abort", &vec![7u8; size as usize]);

    let create = mock!(aws_sdk_s3::Client::create_multipart_upload)
        .match_requests(|r| r.tagging() == Some("ota%3Atargets=thing%2Fdev-1"))
        .then_output(|| {
            CreateMultipartUploadOutput::builder()
                .upload_id("u-1")
                .build()
        });
    // Every attempt fails: the SDK's retries are used up.
    let part = mock!(aws_sdk_s3::Client::upload_part)
        .sequence()
        .http_response(|| xml_error(500, "InternalError", "We encountered an internal error."))
        .times(3)
        .build();
    let abort = mock!(aws_sdk_s3::Client::abort_multipart_upload)
        .match_requests(|r| r.upload_id() == Some("u-1") && r.key() == Some("firmware/big.bin"))
        .then_output(|| AbortMultipartUploadOutput::builder().build());
    // No CompleteMultipartUpload rule: calling it would fail the test.
    let c = clients(&[&create, &part, &abort], &[]);
    let e = ota_cli::upload::put(
        &c,
        "b",
        "firmware/big.bin",
        &mut file,
        size,
        "ota%3Atargets=thing%2Fdev-1",
    )
    .await
    .err()
    .expect("the upload fails");
    assert!(
        matches!(
            e,
            CliError::Aws {
                operation: "UploadPart",
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(e.exit_code(), 1);
    assert_eq!(part.num_calls(), 3, "the SDK retried the part");
    assert_eq!(abort.num_calls(), 1, "the unfinished upload was aborted");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_throttled_put_is_retried_and_uploads_once() {
    let (dir, mut file) = temp_file("throttled", b"firmware");
    let put = mock!(aws_sdk_s3::Client::put_object)
        .sequence()
        .http_response(|| xml_error(503, "SlowDown", "Please reduce your request rate."))
        .output(|| {
            aws_sdk_s3::operation::put_object::PutObjectOutput::builder()
                .version_id("v-1")
                .build()
        })
        .build();
    let head = head_written_at(1_000);
    let c = clients(&[&put, &head], &[]);
    let up = ota_cli::upload::put(
        &c,
        "b",
        "firmware/app.bin",
        &mut file,
        8,
        "ota%3Atargets=thing%2Fx",
    )
    .await
    .expect("uploaded after one retry");
    assert_eq!((up.version_id.as_str(), put.num_calls()), ("v-1", 2));
    assert_eq!(up.uploaded_at, Some(1_000), "S3's time, not this machine's");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn an_unversioned_bucket_is_refused_clearly() {
    let (dir, mut file) = temp_file("unversioned", b"firmware");
    let put = mock!(aws_sdk_s3::Client::put_object)
        .then_output(|| aws_sdk_s3::operation::put_object::PutObjectOutput::builder().build());
    let c = clients(&[&put], &[]);
    let e = ota_cli::upload::put(&c, "b", "firmware/app.bin", &mut file, 8, "")
        .await
        .err()
        .expect("no version id");
    assert!(e.to_string().contains("versioning"), "{e}");
    // The object is there: not "invalid input, nothing uploaded".
    assert_eq!(e.exit_code(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn machines(names: &'static [&'static str]) -> Rule {
    mock!(aws_sdk_sfn::Client::list_state_machines).then_output(move || {
        let items = names
            .iter()
            .map(|n| {
                StateMachineListItem::builder()
                    .state_machine_arn(format!("arn:aws:states:us-east-1:1:stateMachine:{n}"))
                    .name(*n)
                    .r#type(StateMachineType::Standard)
                    .creation_date(DateTime::from_secs(0))
                    .build()
                    .unwrap()
            })
            .collect();
        ListStateMachinesOutput::builder()
            .set_state_machines(Some(items))
            .build()
            .unwrap()
    })
}

#[tokio::test]
async fn the_pipeline_is_found_by_name_or_must_be_named() {
    let one = machines(&["other", "ota-OtaUpdateStateMachine-AbC"]);
    let found = clients(&[], &[&one])
        .state_machine(&global())
        .await
        .unwrap();
    assert_eq!(
        found,
        "arn:aws:states:us-east-1:1:stateMachine:ota-OtaUpdateStateMachine-AbC"
    );

    let two = machines(&["a-OtaUpdateStateMachine-1", "b-OtaUpdateStateMachine-2"]);
    let e = clients(&[], &[&two])
        .state_machine(&global())
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("2 OTA pipeline state machines")
            && e.to_string().contains("--state-machine"),
        "{e}"
    );
    assert_eq!(e.exit_code(), 2);

    let none = machines(&["other"]);
    let e = clients(&[], &[&none])
        .state_machine(&global())
        .await
        .unwrap_err();
    assert!(matches!(e, CliError::NotFound(_)), "{e}");

    // Named: no listing at all (there is no rule for it).
    let mut g = global();
    g.state_machine = Some(MACHINE.into());
    assert_eq!(clients(&[], &[]).state_machine(&g).await.unwrap(), MACHINE);
}

fn upload_event(key: &str, version: &str) -> String {
    serde_json::json!({
        "detail": {"bucket": {"name": "b"}, "object": {"key": key, "version-id": version}}
    })
    .to_string()
}

fn described(arn: &'static str, key: &'static str, version: &'static str, started: i64) -> Rule {
    mock!(aws_sdk_sfn::Client::describe_execution)
        .match_requests(move |r| r.execution_arn() == Some(arn))
        .then_output(move || {
            DescribeExecutionOutput::builder()
                .execution_arn(arn)
                .state_machine_arn(MACHINE)
                .status(ExecutionStatus::Running)
                .start_date(DateTime::from_secs(started))
                .input(upload_event(key, version))
                .build()
                .unwrap()
        })
}

fn item(arn: &str) -> ExecutionListItem {
    ExecutionListItem::builder()
        .execution_arn(arn)
        .state_machine_arn(MACHINE)
        .name(arn.rsplit(':').next().unwrap_or_default())
        .status(ExecutionStatus::Running)
        .start_date(DateTime::from_secs(0))
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_upload_s_execution_is_found_through_throttling_and_others_are_not_described_twice() {
    let list = mock!(aws_sdk_sfn::Client::list_executions)
        .sequence()
        .http_response(|| json_error(400, "ThrottlingException", "Rate exceeded"))
        .output(|| {
            ListExecutionsOutput::builder()
                .executions(item("arn:e:other"))
                .executions(item("arn:e:mine"))
                .build()
                .unwrap()
        })
        .output(|| {
            ListExecutionsOutput::builder()
                .executions(item("arn:e:other"))
                .executions(item("arn:e:mine"))
                .build()
                .unwrap()
        })
        .build();
    let other = described("arn:e:other", "firmware/b.bin", "v-9", 10);
    let mine = described("arn:e:mine", "firmware/a.bin", "v-1", 20);
    let c = clients(&[], &[&list, &other, &mine]);
    let mut skip = HashSet::new();
    let wanted = Wanted {
        bucket: "b",
        key: "firmware/a.bin",
        version: Some("v-1"),
        not_before: None,
    };
    let found = c
        .find_execution(MACHINE, &wanted, 100, &mut skip)
        .await
        .unwrap()
        .expect("found");
    assert_eq!(
        (found.arn.as_str(), found.version_id()),
        ("arn:e:mine", Some("v-1"))
    );
    assert_eq!(list.num_calls(), 2, "throttled once, then answered");
    assert!(skip.contains("arn:e:other"));

    // Polling again: the other upload's execution is not described again
    // (its rule is used up: describing it would fail the test); ours is
    // skipped by the caller here too, so nothing is found.
    skip.insert("arn:e:mine".into());
    let again = c
        .find_execution(MACHINE, &wanted, 100, &mut skip)
        .await
        .unwrap();
    assert!(again.is_none());
    assert_eq!((other.num_calls(), mine.num_calls()), (1, 1));
}

#[tokio::test]
async fn executions_started_before_the_upload_are_not_described_and_end_the_search() {
    // Two pages, newest first; the first is all older than the upload, so
    // the second is never asked for (its rule would be left unused) and
    // nothing is described (there is no rule for it).
    let list = mock!(aws_sdk_sfn::Client::list_executions)
        .match_requests(|r| r.next_token().is_none())
        .then_output(|| {
            ListExecutionsOutput::builder()
                .executions(item("arn:e:old"))
                .next_token("page-2")
                .build()
                .unwrap()
        });
    let c = clients(&[], &[&list]);
    let wanted = Wanted {
        bucket: "b",
        key: "firmware/a.bin",
        version: Some("v-1"),
        not_before: Some(1_000),
    };
    let found = c
        .find_execution(MACHINE, &wanted, 1000, &mut HashSet::new())
        .await
        .unwrap();
    assert!(found.is_none());
    assert_eq!(list.num_calls(), 1);
}

/// A pipeline state as a step returns it (events/create-job.json), with
/// the job create-job made when `job` is given.
fn pipeline_state(job: Option<&str>) -> serde_json::Value {
    let text = ota_aws::test_support::event("create-job.json");
    let mut state: ota_core::PipelineState = serde_json::from_str(&text).unwrap();
    state.job = job.map(|id| ota_core::state::JobState {
        job_id: id.into(),
        job_arn: format!("arn:aws:iot:us-east-1:123456789012:job/{id}"),
        created: true,
        schedule_moved: Vec::new(),
        device_findings: Vec::new(),
    });
    serde_json::to_value(state).unwrap()
}

fn status_args(what: &str) -> ota_cli::args::StatusArgs {
    ota_cli::args::StatusArgs {
        what: what.into(),
        bucket: None,
        version_id: None,
        devices: false,
    }
}

#[tokio::test]
async fn status_of_a_running_upload_shows_its_state_and_what_exists_so_far() {
    use aws_sdk_sfn::types::{
        HistoryEvent, HistoryEventType, StateEnteredEventDetails, TaskSucceededEventDetails,
    };
    let state = pipeline_state(None);
    let (bucket, key, version) = (
        state["source"]["bucket"].as_str().unwrap().to_string(),
        state["source"]["key"].as_str().unwrap().to_string(),
        state["source"]["versionId"].as_str().unwrap().to_string(),
    );
    let tags = {
        let bucket = bucket.clone();
        mock!(aws_sdk_sfn::Client::list_tags_for_resource).then_output(move || {
            aws_sdk_sfn::operation::list_tags_for_resource::ListTagsForResourceOutput::builder()
                .tags(
                    aws_sdk_sfn::types::Tag::builder()
                        .key("ota:firmware-bucket")
                        .value(&bucket)
                        .build(),
                )
                .build()
        })
    };
    let head = {
        let version = version.clone();
        mock!(aws_sdk_s3::Client::head_object).then_output(move || {
            aws_sdk_s3::operation::head_object::HeadObjectOutput::builder()
                .version_id(&version)
                .last_modified(DateTime::from_secs(0))
                .build()
        })
    };
    // No job yet under the default id.
    let no_job = mock!(aws_sdk_iot::Client::describe_job)
        .then_http_response(|| json_error(404, "ResourceNotFoundException", "no such job"));
    let list = mock!(aws_sdk_sfn::Client::list_executions).then_output(|| {
        ListExecutionsOutput::builder()
            .executions(item("arn:e:run"))
            .build()
            .unwrap()
    });
    let input = serde_json::json!({"detail": {"bucket": {"name": bucket}, "object": {"key": key, "version-id": version}}}).to_string();
    let describe = mock!(aws_sdk_sfn::Client::describe_execution).then_output(move || {
        DescribeExecutionOutput::builder()
            .execution_arn("arn:e:run")
            .state_machine_arn(MACHINE)
            .status(ExecutionStatus::Running)
            .start_date(DateTime::from_secs(5))
            .input(&input)
            .build()
            .unwrap()
    });
    let step_output = state.to_string();
    let history = mock!(aws_sdk_sfn::Client::get_execution_history)
        .match_requests(|r| r.reverse_order() == Some(true))
        .then_output(move || {
            let event = |id, t: HistoryEventType| {
                HistoryEvent::builder()
                    .id(id)
                    .timestamp(DateTime::from_secs(id))
                    .r#type(t)
            };
            aws_sdk_sfn::operation::get_execution_history::GetExecutionHistoryOutput::builder()
                .events(
                    event(9, HistoryEventType::WaitStateEntered)
                        .state_entered_event_details(
                            StateEnteredEventDetails::builder()
                                .name("Wait For Signer")
                                .build()
                                .unwrap(),
                        )
                        .build()
                        .unwrap(),
                )
                .events(
                    event(8, HistoryEventType::TaskSucceeded)
                        .task_succeeded_event_details(
                            TaskSucceededEventDetails::builder()
                                .resource_type("lambda")
                                .resource("invoke")
                                .output(&step_output)
                                .build()
                                .unwrap(),
                        )
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap()
        });
    let c = Clients {
        iot: mock_client!(aws_sdk_iot, RuleMode::MatchAny, &[&no_job]),
        ..clients(&[&head], &[&tags, &list, &describe, &history])
    };
    let mut g = global();
    g.state_machine = Some(MACHINE.into());
    let r = ota_cli::status::status(&c, &g, &status_args(&key))
        .await
        .unwrap();
    assert_eq!(r.execution_status.as_deref(), Some("RUNNING"));
    assert_eq!(r.current_state.as_deref(), Some("Wait For Signer"));
    assert_eq!(
        r.signing_job_id,
        state["signing"]["jobId"].as_str().map(str::to_string)
    );
    assert!(r.job_id.is_none() && r.error.is_none());
    assert!(
        r.human().contains("execution  RUNNING, at Wait For Signer"),
        "{}",
        r.human()
    );
}

#[tokio::test]
async fn status_of_a_scheduled_job_names_its_upload() {
    // The emulator has no SCHEDULED jobs; IoT holds a job with a future
    // start in that status.
    let job_id = "AFR_OTA-app-v1_4-8a9caeb409fd";
    let job = described_job(
        "us-east-1",
        job_id,
        aws_sdk_iot::types::JobStatus::Scheduled,
    );
    let tags = mock!(aws_sdk_iot::Client::list_tags_for_resource).then_output(|| {
        aws_sdk_iot::operation::list_tags_for_resource::ListTagsForResourceOutput::builder()
            .tags(
                aws_sdk_iot::types::Tag::builder()
                    .key("ota:execution")
                    .value("arn:e:done")
                    .build()
                    .unwrap(),
            )
            .build()
    });
    let output = pipeline_state(Some(job_id)).to_string();
    let describe = mock!(aws_sdk_sfn::Client::describe_execution)
        .match_requests(|r| r.execution_arn() == Some("arn:e:done"))
        .then_output(move || {
            DescribeExecutionOutput::builder()
                .execution_arn("arn:e:done")
                .state_machine_arn(MACHINE)
                .status(ExecutionStatus::Succeeded)
                .start_date(DateTime::from_secs(5))
                .input(upload_event("firmware/app-v1.4.bin", "v"))
                .output(&output)
                .build()
                .unwrap()
        });
    let c = Clients {
        iot: mock_client!(aws_sdk_iot, RuleMode::MatchAny, &[&job, &tags]),
        ..clients(&[], &[&describe])
    };
    let r = ota_cli::status::status(&c, &global(), &status_args(job_id))
        .await
        .unwrap();
    assert_eq!(r.job_status.as_deref(), Some("SCHEDULED"));
    assert_eq!(r.key.as_deref(), Some("firmware/app-v1.4.bin"));
    assert!(
        r.human().contains("SCHEDULED  (no device has it yet)"),
        "{}",
        r.human()
    );
}

#[tokio::test]
async fn list_shows_only_the_pipelines_jobs_newest_first() {
    let jobs = mock!(aws_sdk_iot::Client::list_jobs).then_output(|| {
        let summary = |id: &str, at: i64| {
            aws_sdk_iot::types::JobSummary::builder()
                .job_id(id)
                .job_arn(format!("arn:aws:iot:us-east-1:1:job/{id}"))
                .status(aws_sdk_iot::types::JobStatus::InProgress)
                .created_at(DateTime::from_secs(at))
                .build()
        };
        aws_sdk_iot::operation::list_jobs::ListJobsOutput::builder()
            .jobs(summary("old", 100))
            .jobs(summary("someone-elses", 300))
            .jobs(summary("other-stack", 250))
            .jobs(summary("deleted-since", 220))
            .jobs(summary("new", 200))
            .build()
    });
    // Asked newest first: not the pipeline's, another stack's bucket, gone
    // since the listing, then the two of this pipeline.
    let tags = mock!(aws_sdk_iot::Client::list_tags_for_resource)
        .sequence()
        .output(|| {
            aws_sdk_iot::operation::list_tags_for_resource::ListTagsForResourceOutput::builder()
                .build()
        })
        .output(|| pipeline_tags("other-bucket", "firmware/x.bin"))
        .http_response(|| json_error(404, "ResourceNotFoundException", "no such job"))
        .output(|| pipeline_tags("b", "firmware/new.bin"))
        .output(|| pipeline_tags("b", "firmware/old.bin"))
        .build();
    let c = Clients {
        iot: mock_client!(aws_sdk_iot, RuleMode::MatchAny, &[&jobs, &tags]),
        ..clients(&[], &[])
    };
    let updates = ota_cli::list::list(&c, Some("b"), 10).await.unwrap();
    let listed: Vec<(&str, &str)> = updates
        .iter()
        .map(|u| (u.job_id.as_str(), u.key.as_str()))
        .collect();
    assert_eq!(
        listed,
        [("new", "firmware/new.bin"), ("old", "firmware/old.bin")]
    );
    assert_eq!(updates[0].created_at, "1970-01-01T00:03:20Z");
}

fn pipeline_tags(
    bucket: &str,
    key: &str,
) -> aws_sdk_iot::operation::list_tags_for_resource::ListTagsForResourceOutput {
    let tag = |k: &str, v: &str| {
        aws_sdk_iot::types::Tag::builder()
            .key(k)
            .value(v)
            .build()
            .unwrap()
    };
    aws_sdk_iot::operation::list_tags_for_resource::ListTagsForResourceOutput::builder()
        .tags(tag("ota:source-bucket", bucket))
        .tags(tag("ota:source-key", key))
        .tags(tag("ota:source-version", "v"))
        .tags(tag("ota:execution", "arn:e"))
        .build()
}

#[tokio::test]
async fn parts_go_up_in_order_with_their_checksums_and_the_tags_on_create() {
    use aws_sdk_s3::types::ChecksumAlgorithm;
    let part = ota_cli::upload::PART_SIZE as usize;
    let size = 2 * part + 10;
    let (dir, mut file) = temp_file("parts", &vec![1u8; size]);
    let create = mock!(aws_sdk_s3::Client::create_multipart_upload)
        .match_requests(|r| {
            r.tagging() == Some("ota%3Atargets=thing%2Fdev-1")
                && r.checksum_algorithm() == Some(&ChecksumAlgorithm::Crc32)
        })
        .then_output(|| {
            CreateMultipartUploadOutput::builder()
                .upload_id("u-2")
                .build()
        });
    let upload = mock!(aws_sdk_s3::Client::upload_part)
        .match_requests(|r| r.upload_id() == Some("u-2"))
        .sequence()
        .output(|| part_output(1))
        .output(|| part_output(2))
        .output(|| part_output(3))
        .build();
    let complete = mock!(aws_sdk_s3::Client::complete_multipart_upload)
        .match_requests(|r| {
            let parts: Vec<(Option<i32>, Option<&str>, Option<&str>)> = r
                .multipart_upload()
                .map(|m| m.parts())
                .unwrap_or_default()
                .iter()
                .map(|p| (p.part_number(), p.e_tag(), p.checksum_crc32()))
                .collect();
            parts
                == [
                    (Some(1), Some("\"e1\""), Some("c1==")),
                    (Some(2), Some("\"e2\""), Some("c2==")),
                    (Some(3), Some("\"e3\""), Some("c3==")),
                ]
        })
        .then_output(|| {
            aws_sdk_s3::operation::complete_multipart_upload::CompleteMultipartUploadOutput::builder()
                .version_id("v-9")
                .build()
        });
    let head = head_written_at(5);
    let c = clients(&[&create, &upload, &complete, &head], &[]);
    let up = ota_cli::upload::put(
        &c,
        "b",
        "firmware/big.bin",
        &mut file,
        size as u64,
        "ota%3Atargets=thing%2Fdev-1",
    )
    .await
    .expect("uploaded in parts");
    assert_eq!((up.version_id.as_str(), up.size), ("v-9", size as u64));
    assert_eq!((upload.num_calls(), complete.num_calls()), (3, 1));
    std::fs::remove_dir_all(&dir).unwrap();
}

fn part_output(n: i32) -> aws_sdk_s3::operation::upload_part::UploadPartOutput {
    aws_sdk_s3::operation::upload_part::UploadPartOutput::builder()
        .e_tag(format!("\"e{n}\""))
        .checksum_crc32(format!("c{n}=="))
        .build()
}

#[tokio::test]
async fn a_file_that_grew_since_it_was_measured_is_not_kept() {
    let size = ota_cli::upload::MULTIPART_THRESHOLD + 1;
    // One byte more than measured: the last read finds it.
    let (dir, mut file) = temp_file("grew", &vec![3u8; size as usize + 1]);
    let create = mock!(aws_sdk_s3::Client::create_multipart_upload).then_output(|| {
        CreateMultipartUploadOutput::builder()
            .upload_id("u-3")
            .build()
    });
    let upload = mock!(aws_sdk_s3::Client::upload_part)
        .sequence()
        .output(|| part_output(1))
        .output(|| part_output(2))
        .build();
    let abort = mock!(aws_sdk_s3::Client::abort_multipart_upload)
        .match_requests(|r| r.upload_id() == Some("u-3"))
        .then_output(|| AbortMultipartUploadOutput::builder().build());
    let c = clients(&[&create, &upload, &abort], &[]);
    let e = ota_cli::upload::put(&c, "b", "firmware/big.bin", &mut file, size, "")
        .await
        .err()
        .expect("refused");
    assert!(
        e.to_string()
            .contains("changed while it was being uploaded"),
        "{e}"
    );
    assert_eq!(abort.num_calls(), 1);

    // The same for a single PutObject: nothing is sent at all.
    let (dir2, mut small) = temp_file("grew-small", b"12345");
    let c = clients(&[], &[]);
    let e = ota_cli::upload::put(&c, "b", "firmware/app.bin", &mut small, 4, "")
        .await
        .err()
        .expect("refused");
    assert!(
        e.to_string()
            .contains("changed while it was being uploaded"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&dir2).unwrap();
}

fn uploaded() -> ota_cli::aws::Uploaded {
    ota_cli::aws::Uploaded {
        bucket: "b".into(),
        key: "firmware/a.bin".into(),
        version_id: "v-1".into(),
        size: 8,
        uploaded_at: Some(0),
    }
}

#[tokio::test]
async fn following_gives_up_with_exit_code_4_and_the_way_back() {
    // No execution yet, and no time to wait for one.
    let list = mock!(aws_sdk_sfn::Client::list_executions).then_output(|| {
        ListExecutionsOutput::builder()
            .set_executions(Some(vec![]))
            .build()
            .unwrap()
    });
    let c = clients(&[], &[&list]);
    let e = ota_cli::upload::follow(&c, MACHINE, &uploaded(), Duration::ZERO)
        .await
        .expect_err("gave up");
    assert_eq!(e.exit_code(), 4, "{e}");
    assert!(
        e.to_string()
            .contains("ota status firmware/a.bin --version-id v-1"),
        "{e}"
    );
}

#[tokio::test]
async fn a_run_that_succeeds_without_a_job_is_a_pipeline_failure() {
    let list = mock!(aws_sdk_sfn::Client::list_executions).then_output(|| {
        ListExecutionsOutput::builder()
            .executions(item("arn:e:odd"))
            .build()
            .unwrap()
    });
    let describe = mock!(aws_sdk_sfn::Client::describe_execution)
        .sequence()
        .output(|| {
            DescribeExecutionOutput::builder()
                .execution_arn("arn:e:odd")
                .state_machine_arn(MACHINE)
                .status(ExecutionStatus::Succeeded)
                .start_date(DateTime::from_secs(5))
                .input(upload_event("firmware/a.bin", "v-1"))
                .output("{}")
                .build()
                .unwrap()
        })
        .repeatedly()
        .build();
    let history = mock!(aws_sdk_sfn::Client::get_execution_history).then_output(|| {
        aws_sdk_sfn::operation::get_execution_history::GetExecutionHistoryOutput::builder()
            .set_events(Some(vec![]))
            .build()
            .unwrap()
    });
    let c = clients(&[], &[&list, &describe, &history]);
    let e = ota_cli::upload::follow(&c, MACHINE, &uploaded(), Duration::from_secs(30))
        .await
        .expect_err("no job");
    assert_eq!(e.exit_code(), 3);
    assert!(e.to_string().contains("NoJob"), "{e}");
}

#[tokio::test]
async fn a_job_that_outlived_its_execution_is_reported_from_its_tags() {
    let job_id = "AFR_OTA-app-v1_4-8a9caeb409fd";
    let job = described_job(
        "eu-west-1",
        job_id,
        aws_sdk_iot::types::JobStatus::InProgress,
    );
    let tags = mock!(aws_sdk_iot::Client::list_tags_for_resource)
        .then_output(|| pipeline_tags("b", "firmware/app-v1.4.bin"));
    let gone = mock!(aws_sdk_sfn::Client::describe_execution).then_http_response(|| {
        json_error(
            400,
            "ExecutionDoesNotExist",
            "Execution Does Not Exist: 'arn:e'",
        )
    });
    let c = Clients {
        iot: mock_client!(aws_sdk_iot, RuleMode::MatchAny, &[&job, &tags]),
        ..clients(&[], &[&gone])
    };
    let r = ota_cli::status::status(&c, &global(), &status_args(job_id))
        .await
        .unwrap();
    assert_eq!(r.execution_status.as_deref(), Some("EXPIRED"));
    assert_eq!(
        (r.bucket.as_deref(), r.key.as_deref()),
        (Some("b"), Some("firmware/app-v1.4.bin"))
    );
    assert_eq!(r.job_status.as_deref(), Some("IN_PROGRESS"));
    assert!(r
        .console_url
        .is_some_and(|u| u.contains("region=eu-west-1")));
}

/// DescribeJob answering once (the report reuses what the lookup found; a
/// second call would fail the test) with a job in `status` and no device yet.
fn described_job(
    region: &'static str,
    job_id: &'static str,
    status: aws_sdk_iot::types::JobStatus,
) -> Rule {
    mock!(aws_sdk_iot::Client::describe_job)
        .sequence()
        .output(move || {
            aws_sdk_iot::operation::describe_job::DescribeJobOutput::builder()
                .job(
                    aws_sdk_iot::types::Job::builder()
                        .job_id(job_id)
                        .job_arn(format!("arn:aws:iot:{region}:1:job/{job_id}"))
                        .status(status.clone())
                        .job_process_details(
                            aws_sdk_iot::types::JobProcessDetails::builder()
                                .number_of_queued_things(0)
                                .build(),
                        )
                        .build(),
                )
                .build()
        })
        .build()
}

#[tokio::test]
async fn retry_is_refused_while_a_run_for_the_version_is_running_and_starts_nothing() {
    let tags = mock!(aws_sdk_sfn::Client::list_tags_for_resource).then_output(|| {
        aws_sdk_sfn::operation::list_tags_for_resource::ListTagsForResourceOutput::builder()
            .tags(
                aws_sdk_sfn::types::Tag::builder()
                    .key("ota:firmware-bucket")
                    .value("b")
                    .build(),
            )
            .build()
    });
    let head = mock!(aws_sdk_s3::Client::head_object).then_output(|| {
        aws_sdk_s3::operation::head_object::HeadObjectOutput::builder()
            .version_id("v1")
            .last_modified(DateTime::from_secs(0))
            .build()
    });
    let arn = "arn:aws:states:us-east-1:123456789012:execution:ota:running";
    let list = mock!(aws_sdk_sfn::Client::list_executions).then_output(move || {
        ListExecutionsOutput::builder()
            .executions(item(arn))
            .build()
            .unwrap()
    });
    let running = described(arn, "firmware/app.bin", "v1", 0);
    let start = mock!(aws_sdk_sfn::Client::start_execution).then_output(|| {
        aws_sdk_sfn::operation::start_execution::StartExecutionOutput::builder()
            .execution_arn("arn:aws:states:us-east-1:123456789012:execution:ota:new")
            .start_date(DateTime::from_secs(1))
            .build()
            .unwrap()
    });
    let c = clients(&[&head], &[&tags, &list, &running, &start]);
    let mut g = global();
    g.state_machine = Some(MACHINE.into());
    let a = ota_cli::args::RetryArgs {
        key: "firmware/app.bin".into(),
        bucket: None,
        version_id: None,
        no_wait: true,
        wait_timeout: None,
    };
    let e = ota_cli::lifecycle::retry::retry(&c, &g, &a)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, CliError::Refused(m) if m.contains("still RUNNING") && m.contains(arn)),
        "{e}"
    );
    assert_eq!(e.exit_code(), 2);
    assert_eq!(start.num_calls(), 0, "nothing was started");
}
