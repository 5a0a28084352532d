//! The clean-up sweep, make-stream's third mode (`{"sweep": {}}`, sent by
//! the stack's EventBridge Scheduler schedule, CleanUpSchedule): when a job
//! the pipeline made has ended (COMPLETED, or CANCELED with no device still
//! IN_PROGRESS: a cancel without force leaves devices downloading), its
//! stream and the signer's output version are removed, unless another job
//! that has not ended carries the same tag; a COMPLETED job's end is
//! announced ("OTA Update Completed", with its device counts); the job is
//! then tagged `ota:cleaned-up`. A CONTINUOUS job never completes: it is
//! cleaned up once cancelled.
//!
//! A schedule, not job lifecycle events: every run looks at every job that
//! is not cleaned up yet, so a run that fails or is missed leaks nothing;
//! the next one does the work (each step is idempotent).

use crate::Deps;
use aws_sdk_iot::types::{Job, JobStatus, Tag};
use ota_aws::job_resources::{
    jobs_tagged, remove_signed, remove_stream, still_used, Outcome, Source, TaggedJob,
    TAG_CLEANED_UP,
};
use ota_aws::{classify, found};
use ota_core::create_job::{
    console_url, NOTIFICATION_SOURCE, TAG_EXECUTION, TAG_SIGNED_VERSION, TAG_SIGNING_JOB,
    TAG_SOURCE_BUCKET, TAG_SOURCE_KEY, TAG_SOURCE_VERSION, TAG_STREAM,
};
use ota_core::OtaError;
use serde::Serialize;
use serde_json::json;
use std::collections::HashSet;
use tracing::{info, warn, Instrument};

/// Jobs judged per run (DescribeJob each); the rest wait for the next run.
pub const MAX_JOBS_PER_SWEEP: usize = 200;

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SweepReport {
    /// Jobs not cleaned up yet that were looked at.
    pub examined: usize,
    /// Jobs cleaned up by this run.
    pub cleaned: Vec<String>,
    /// Streams and signed object versions removed.
    pub removed: Vec<String>,
    /// What was left, and why.
    pub kept: Vec<String>,
    /// "OTA Update Completed" events put.
    pub completed_events: usize,
    /// Jobs beyond MAX_JOBS_PER_SWEEP, for the next run.
    pub left_for_next_run: usize,
}

pub async fn sweep(deps: &Deps) -> Result<SweepReport, OtaError> {
    let span = tracing::info_span!("step", step = "sweep");
    run(deps).instrument(span).await
}

/// Ended as far as its stream and signed object are concerned.
pub fn has_ended(job: &Job) -> bool {
    let in_progress = job
        .job_process_details()
        .and_then(|d| d.number_of_in_progress_things())
        .unwrap_or(0);
    match job.status() {
        Some(JobStatus::Completed) => true,
        Some(JobStatus::Canceled) => in_progress == 0,
        _ => false,
    }
}

async fn run(deps: &Deps) -> Result<SweepReport, OtaError> {
    let all = jobs_tagged(&deps.tagging, TAG_EXECUTION, None).await?;
    let waiting: Vec<&TaggedJob> = all
        .iter()
        .filter(|j| !j.cleaned_up())
        .filter(|j| j.tag(TAG_STREAM).is_some() || j.tag(TAG_SIGNING_JOB).is_some())
        .collect();
    let mut report = SweepReport {
        examined: waiting.len().min(MAX_JOBS_PER_SWEEP),
        left_for_next_run: waiting.len().saturating_sub(MAX_JOBS_PER_SWEEP),
        ..SweepReport::default()
    };
    let mut ended: Vec<(&TaggedJob, Job)> = Vec::new();
    for j in waiting.iter().take(MAX_JOBS_PER_SWEEP) {
        let d = deps.iot.describe_job().job_id(j.job_id()).send().await;
        // Gone meanwhile: so are its tags, nothing points at it any more.
        if let Some(job) = found(d, |e| e.is_resource_not_found_exception())
            .map_err(|e| classify("DescribeJob", &e))?
            .and_then(|d| d.job)
        {
            if has_ended(&job) {
                ended.push((j, job));
            }
        }
    }
    let ending: HashSet<&str> = ended.iter().map(|(j, _)| j.arn.as_str()).collect();
    // Another job uses a resource while it carries the tag and has neither
    // ended (in this run's view) nor been cleaned up.
    let users = |key: &str, value: &str| -> Vec<&TaggedJob> {
        all.iter()
            .filter(|o| o.tag(key) == Some(value))
            .filter(|o| !o.cleaned_up() && !ending.contains(o.arn.as_str()))
            .collect()
    };
    let mut first_error = None;
    let mut failures = 0usize;
    for (j, job) in &ended {
        let one = clean_up_job(deps, j, job, &users, &mut report).await;
        if let Err(e) = one {
            warn!(job_id = j.job_id(), error = %e, "clean-up of this job failed; the next run tries again");
            failures += 1;
            first_error.get_or_insert(e);
        }
    }
    info!(
        examined = report.examined,
        cleaned = report.cleaned.len(),
        removed = report.removed.len(),
        completed_events = report.completed_events,
        "clean-up sweep done"
    );
    match first_error {
        // Reported as the run's error (the schedule's retries and the
        // function's error metric see it); what succeeded stays done.
        Some(e) => Err(with_count(e, failures)),
        None => Ok(report),
    }
}

fn with_count(e: OtaError, failures: usize) -> OtaError {
    if failures <= 1 {
        return e;
    }
    OtaError::ServiceUnavailable(format!(
        "{failures} jobs could not be cleaned up; the first: {e}"
    ))
}

async fn clean_up_job<'a>(
    deps: &Deps,
    j: &TaggedJob,
    job: &Job,
    users: &impl Fn(&str, &str) -> Vec<&'a TaggedJob>,
    report: &mut SweepReport,
) -> Result<(), OtaError> {
    let source = Source {
        bucket: j.tag(TAG_SOURCE_BUCKET).unwrap_or_default(),
        key: j.tag(TAG_SOURCE_KEY).unwrap_or_default(),
        version_id: j.tag(TAG_SOURCE_VERSION).unwrap_or_default(),
    };
    let mut outcomes = Vec::new();
    if let Some(stream_id) = j.tag(TAG_STREAM) {
        let who = users(TAG_STREAM, stream_id);
        outcomes.push(match still_used(&format!("stream {stream_id}"), &who) {
            Some(kept) => kept,
            None => remove_stream(&deps.iot, &source, stream_id).await?,
        });
    }
    if let (Some(signing_job), Some(version)) = (j.tag(TAG_SIGNING_JOB), j.tag(TAG_SIGNED_VERSION))
    {
        let who = users(TAG_SIGNING_JOB, signing_job);
        let what = format!("the signed object of signing job {signing_job}");
        outcomes.push(match still_used(&what, &who) {
            Some(kept) => kept,
            None => remove_signed(&deps.signer, &deps.s3, signing_job, version).await?,
        });
    }
    if job.status() == Some(&JobStatus::Completed) {
        put_completed(deps, j, job, &source).await?;
        report.completed_events += 1;
    }
    let tag = Tag::builder()
        .key(TAG_CLEANED_UP)
        .value(ota_core::times::now_rfc3339())
        .build()
        .map_err(|e| OtaError::Internal(format!("Tag: {e}")))?;
    deps.iot
        .tag_resource()
        .resource_arn(&j.arn)
        .tags(tag)
        .send()
        .await
        .map_err(|e| classify("TagResource", &e))?;
    info!(job_id = j.job_id(), "cleaned up after the job ended");
    for o in outcomes {
        match o {
            Outcome::Removed(what) => report.removed.push(what),
            Outcome::Kept(why) => report.kept.push(format!("{}: {why}", j.job_id())),
        }
    }
    report.cleaned.push(j.job_id().to_string());
    Ok(())
}

/// "OTA Update Completed" on the default bus: the job and its device counts.
async fn put_completed(
    deps: &Deps,
    j: &TaggedJob,
    job: &Job,
    source: &Source<'_>,
) -> Result<(), OtaError> {
    let d = job.job_process_details();
    let n =
        |f: fn(&aws_sdk_iot::types::JobProcessDetails) -> Option<i32>| d.and_then(f).unwrap_or(0);
    let region = j.arn.split(':').nth(3).unwrap_or_default();
    let detail = json!({
        "jobId": j.job_id(),
        "jobArn": j.arn,
        "consoleUrl": console_url(region, j.job_id()),
        "source": {"bucket": source.bucket, "key": source.key, "versionId": source.version_id},
        "succeeded": n(|d| d.number_of_succeeded_things()),
        "failed": n(|d| d.number_of_failed_things()),
        "timedOut": n(|d| d.number_of_timed_out_things()),
        "rejected": n(|d| d.number_of_rejected_things()),
        "canceled": n(|d| d.number_of_canceled_things()),
        "removed": n(|d| d.number_of_removed_things()),
        "executionArn": j.tag(TAG_EXECUTION).unwrap_or_default(),
    });
    let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
        .event_bus_name("default")
        .source(NOTIFICATION_SOURCE)
        .detail_type("OTA Update Completed")
        .detail(detail.to_string())
        .resources(j.arn.clone())
        .build();
    let out = deps
        .events
        .put_events()
        .entries(entry)
        .send()
        .await
        .map_err(|e| classify("PutEvents", &e))?;
    if out.failed_entry_count() > 0 {
        let why = out
            .entries()
            .iter()
            .find_map(|e| e.error_message())
            .unwrap_or("no reason given");
        return Err(OtaError::ServiceUnavailable(format!(
            "PutEvents did not take the OTA Update Completed event: {why}"
        )));
    }
    Ok(())
}
