//! The clean-up sweep against mocked clients: which jobs have ended
//! (COMPLETED, or CANCELED with nobody IN_PROGRESS), a stream another
//! unfinished job still carries is kept, a job already cleaned up is not
//! looked at again, the Completed event carries the device counts, and a
//! failure leaves that job for the next run while the others are done.
//! Error codes follow the IoT, Tagging and EventBridge API references.

use aws_sdk_eventbridge::operation::put_events::PutEventsOutput;
use aws_sdk_eventbridge::types::PutEventsResultEntry;
use aws_sdk_iot::operation::delete_stream::DeleteStreamOutput;
use aws_sdk_iot::operation::describe_job::DescribeJobOutput;
use aws_sdk_iot::operation::describe_stream::DescribeStreamOutput;
use aws_sdk_iot::operation::tag_resource::TagResourceOutput;
use aws_sdk_iot::types::{Job, JobProcessDetails, JobStatus, StreamInfo};
use aws_sdk_resourcegroupstagging::operation::get_resources::GetResourcesOutput;
use aws_sdk_resourcegroupstagging::types::{ResourceTagMapping, Tag};
use aws_sdk_s3::operation::delete_object::DeleteObjectOutput;
use aws_sdk_signer::operation::describe_signing_job::DescribeSigningJobOutput;
use aws_sdk_signer::types::{S3SignedObject, SignedObject};
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use make_stream::sweep::sweep;
use make_stream::Deps;
use ota_aws::test_support::{fast_retries, json_error};
use std::sync::{Arc, Mutex};

const BUCKET: &str = "ota-pipeline-firmwarebucket-1a2b3c4d5e6f";
const ARN: &str = "arn:aws:iot:us-east-1:123456789012:job/";

/// A pipeline job as GetResources lists it: source, stream and signing tags.
fn tagged(job: &str, stream: &str, signing: &str, cleaned: bool) -> ResourceTagMapping {
    let mut tags = vec![
        (
            "ota:execution",
            "arn:aws:states:us-east-1:123456789012:execution:ota:e1".to_string(),
        ),
        ("ota:source-bucket", BUCKET.to_string()),
        ("ota:source-key", format!("firmware/{job}.bin")),
        ("ota:source-version", format!("v-{job}")),
        ("ota:stream", stream.to_string()),
        ("ota:signing-job", signing.to_string()),
        ("ota:signed-version", format!("sv-{signing}")),
    ];
    if cleaned {
        tags.push(("ota:cleaned-up", "2026-12-01T00:00:00Z".to_string()));
    }
    let mut m = ResourceTagMapping::builder().resource_arn(format!("{ARN}{job}"));
    for (k, v) in tags {
        m = m.tags(Tag::builder().key(k).value(v).build().unwrap());
    }
    m.build()
}

fn job(id: &'static str, status: JobStatus, details: JobProcessDetails) -> Rule {
    mock!(aws_sdk_iot::Client::describe_job)
        .match_requests(move |r| r.job_id() == Some(id))
        .then_output(move || {
            DescribeJobOutput::builder()
                .job(
                    Job::builder()
                        .job_id(id)
                        .status(status.clone())
                        .job_process_details(details.clone())
                        .build(),
                )
                .build()
        })
}

/// The pipeline's description for the stream of job `id`'s upload.
fn our_stream(stream: &'static str, id: &'static str) -> Rule {
    mock!(aws_sdk_iot::Client::describe_stream)
        .match_requests(move |r| r.stream_id() == Some(stream))
        .then_output(move || {
            DescribeStreamOutput::builder()
                .stream_info(
                    StreamInfo::builder()
                        .stream_id(stream)
                        .description(format!(
                            "OTA stream for s3://{BUCKET}/firmware/{id}.bin version v-{id} (execution e1)"
                        ))
                        .build(),
                )
                .build()
        })
}

struct Seen {
    deleted_streams: Arc<Mutex<Vec<String>>>,
    tagged_jobs: Arc<Mutex<Vec<String>>>,
    events: Arc<Mutex<Vec<String>>>,
    deleted_versions: Arc<Mutex<Vec<String>>>,
}

fn deps(
    iot: &[&Rule],
    tagging: &[&Rule],
    signer: &[&Rule],
    s3: &[&Rule],
    events: &[&Rule],
) -> Deps {
    Deps {
        s3: mock_client!(aws_sdk_s3, RuleMode::MatchAny, s3, |c| c
            .retry_config(fast_retries())),
        iot: mock_client!(aws_sdk_iot, RuleMode::MatchAny, iot, |c| c
            .retry_config(fast_retries())),
        ota_role_arn: "arn:aws:iam::123456789012:role/ota".into(),
        tagging: mock_client!(
            aws_sdk_resourcegroupstagging,
            RuleMode::MatchAny,
            tagging,
            |c| c.retry_config(fast_retries())
        ),
        signer: mock_client!(aws_sdk_signer, RuleMode::MatchAny, signer, |c| c
            .retry_config(fast_retries())),
        events: mock_client!(aws_sdk_eventbridge, RuleMode::MatchAny, events, |c| c
            .retry_config(fast_retries())),
        package_shadow: Default::default(),
    }
}

/// The calls that change something, recorded.
fn recorders(seen: &Seen, event_fails_for: Option<&'static str>) -> (Rule, Rule, Rule, Rule, Rule) {
    let s = seen.deleted_streams.clone();
    let del_stream = mock!(aws_sdk_iot::Client::delete_stream)
        .match_requests(move |r| {
            s.lock()
                .unwrap()
                .push(r.stream_id().unwrap_or_default().into());
            true
        })
        .then_output(|| DeleteStreamOutput::builder().build());
    let t = seen.tagged_jobs.clone();
    let tag = mock!(aws_sdk_iot::Client::tag_resource)
        .match_requests(move |r| {
            let key = r.tags().first().map(|t| t.key().to_string());
            if key.as_deref() == Some("ota:cleaned-up") {
                t.lock()
                    .unwrap()
                    .push(r.resource_arn().unwrap_or_default().into());
            }
            true
        })
        .then_output(|| TagResourceOutput::builder().build());
    let e = seen.events.clone();
    let fails = Arc::new(Mutex::new(false));
    let f2 = fails.clone();
    let put = mock!(aws_sdk_eventbridge::Client::put_events)
        .match_requests(move |r| {
            let entry = &r.entries()[0];
            let detail = entry.detail().unwrap_or_default().to_string();
            *f2.lock().unwrap() = event_fails_for.is_some_and(|j| detail.contains(j));
            e.lock().unwrap().push(format!(
                "{}|{}|{}",
                entry.source().unwrap_or_default(),
                entry.detail_type().unwrap_or_default(),
                detail
            ));
            true
        })
        .then_output(move || {
            if *fails.lock().unwrap() {
                PutEventsOutput::builder()
                    .failed_entry_count(1)
                    .entries(
                        PutEventsResultEntry::builder()
                            .error_code("InternalFailure")
                            .error_message("try again")
                            .build(),
                    )
                    .build()
            } else {
                PutEventsOutput::builder().failed_entry_count(0).build()
            }
        });
    let signer = mock!(aws_sdk_signer::Client::describe_signing_job).then_output(|| {
        DescribeSigningJobOutput::builder()
            .signed_object(
                SignedObject::builder()
                    .s3(S3SignedObject::builder()
                        .bucket_name(BUCKET)
                        .key("signed/out")
                        .build())
                    .build(),
            )
            .build()
    });
    let v = seen.deleted_versions.clone();
    let del_obj = mock!(aws_sdk_s3::Client::delete_object)
        .match_requests(move |r| {
            v.lock()
                .unwrap()
                .push(r.version_id().unwrap_or_default().into());
            r.bucket() == Some(BUCKET) && r.key() == Some("signed/out")
        })
        .then_output(|| DeleteObjectOutput::builder().build());
    (del_stream, tag, put, signer, del_obj)
}

fn seen() -> Seen {
    Seen {
        deleted_streams: Arc::default(),
        tagged_jobs: Arc::default(),
        events: Arc::default(),
        deleted_versions: Arc::default(),
    }
}

#[tokio::test]
async fn ended_jobs_are_cleaned_up_and_what_an_unfinished_job_carries_is_kept() {
    // Throttled once: the SDK retries GetResources.
    let list = mock!(aws_sdk_resourcegroupstagging::Client::get_resources)
        .match_requests(|r| {
            r.resource_type_filters() == ["iot:job"]
                && r.tag_filters().first().and_then(|f| f.key()) == Some("ota:execution")
        })
        .sequence()
        .http_response(|| json_error(400, "ThrottledException", "Rate exceeded"))
        .output(|| {
            GetResourcesOutput::builder()
                .resource_tag_mapping_list(tagged("done", "s-done", "sj-done", false))
                .resource_tag_mapping_list(tagged("stopping", "s-stop", "sj-stop", false))
                .resource_tag_mapping_list(tagged("running", "s-shared", "sj-run", false))
                .resource_tag_mapping_list(tagged("finished", "s-shared", "sj-fin", false))
                .resource_tag_mapping_list(tagged("old", "s-old", "sj-old", true))
                .build()
        })
        .build();
    let counts = JobProcessDetails::builder()
        .number_of_succeeded_things(7)
        .number_of_failed_things(2)
        .number_of_timed_out_things(1)
        .number_of_rejected_things(1)
        .build();
    let done = job("done", JobStatus::Completed, counts);
    // Canceled without force: two devices still downloading.
    let stopping = job(
        "stopping",
        JobStatus::Canceled,
        JobProcessDetails::builder()
            .number_of_in_progress_things(2)
            .build(),
    );
    let running = job(
        "running",
        JobStatus::InProgress,
        JobProcessDetails::builder().build(),
    );
    let finished = job(
        "finished",
        JobStatus::Canceled,
        JobProcessDetails::builder()
            .number_of_canceled_things(3)
            .build(),
    );
    let (s_done, s_shared) = (
        our_stream("s-done", "done"),
        our_stream("s-shared", "finished"),
    );
    let seen = seen();
    let (del_stream, tag, put, signer, del_obj) = recorders(&seen, None);
    let d = deps(
        &[
            &done,
            &stopping,
            &running,
            &finished,
            &s_done,
            &s_shared,
            &del_stream,
            &tag,
        ],
        &[&list],
        &[&signer],
        &[&del_obj],
        &[&put],
    );
    let r = sweep(&d).await.unwrap();
    assert_eq!(list.num_calls(), 2);
    assert_eq!(r.examined, 4, "the job already cleaned up is not looked at");
    assert_eq!(r.cleaned, ["done", "finished"]);
    // done's stream and signed version; finished's signed version only:
    // its stream is also running's.
    assert_eq!(*seen.deleted_streams.lock().unwrap(), ["s-done"]);
    assert_eq!(
        *seen.deleted_versions.lock().unwrap(),
        ["sv-sj-done", "sv-sj-fin"]
    );
    assert!(
        r.kept.iter().any(
            |k| k.starts_with("finished: stream s-shared: still used by")
                && k.ends_with("job/running")
        ),
        "{:?}",
        r.kept
    );
    assert_eq!(
        *seen.tagged_jobs.lock().unwrap(),
        [format!("{ARN}done"), format!("{ARN}finished")]
    );
    // One Completed event: for the COMPLETED job, with its counts.
    let events = seen.events.lock().unwrap().clone();
    assert_eq!(events.len(), 1, "{events:?}");
    let (head, detail) = events[0].split_at(events[0].find("|{").unwrap());
    assert_eq!(head, "ota.pipeline|OTA Update Completed");
    let detail: serde_json::Value = serde_json::from_str(&detail[1..]).unwrap();
    assert_eq!(detail["jobId"], "done");
    assert_eq!(
        (
            detail["succeeded"].as_i64(),
            detail["failed"].as_i64(),
            detail["timedOut"].as_i64(),
            detail["rejected"].as_i64()
        ),
        (Some(7), Some(2), Some(1), Some(1))
    );
    assert_eq!(detail["source"]["key"], "firmware/done.bin");
}

#[tokio::test]
async fn a_job_whose_event_is_not_taken_is_left_for_the_next_run_and_the_others_are_done() {
    let list = mock!(aws_sdk_resourcegroupstagging::Client::get_resources).then_output(|| {
        GetResourcesOutput::builder()
            .resource_tag_mapping_list(tagged("first", "s-1", "sj-1", false))
            .resource_tag_mapping_list(tagged("second", "s-2", "sj-2", false))
            .build()
    });
    let ended = || {
        JobProcessDetails::builder()
            .number_of_succeeded_things(1)
            .build()
    };
    let (first, second) = (
        job("first", JobStatus::Completed, ended()),
        job("second", JobStatus::Completed, ended()),
    );
    let (s1, s2) = (our_stream("s-1", "first"), our_stream("s-2", "second"));
    let seen = seen();
    let (del_stream, tag, put, signer, del_obj) = recorders(&seen, Some("\"first\""));
    let d = deps(
        &[&first, &second, &s1, &s2, &del_stream, &tag],
        &[&list],
        &[&signer],
        &[&del_obj],
        &[&put],
    );
    let e = sweep(&d).await.unwrap_err();
    assert_eq!(e.error_type(), "ServiceUnavailable");
    assert!(e.to_string().contains("try again"), "{e}");
    // The second job is done; the first is not marked, so the next run
    // puts its event (the removals already made are idempotent).
    assert_eq!(*seen.tagged_jobs.lock().unwrap(), [format!("{ARN}second")]);
    assert_eq!(seen.events.lock().unwrap().len(), 2);
}
