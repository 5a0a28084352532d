//! `ota delete KEY|JOB_ID [--force]`: what DeleteOTAUpdate (with
//! `deleteStream` and `forceDeleteAWSJob`) does for an OTA update, for a job
//! the pipeline made: the job, then its stream and the signer's output
//! object version, each only when no other job still carries its tag and
//! the pipeline made it. The uploaded firmware stays.
//!
//! Order: the job's tags are read first (they say what to remove), then the
//! job is deleted and awaited (IoT deletes asynchronously), then the
//! resources. If a later step fails the job is already gone, so the error
//! names what is left and the command that removes it.

use super::{resolve, PipelineJob};
use crate::args::{DeleteArgs, GlobalArgs};
use crate::aws::Clients;
use crate::error::{aws, CliError};
use aws_sdk_iot::types::JobStatus;
use ota_aws::found;
use ota_aws::job_resources::{self, Outcome, Source, TaggedJob, TAG_CLEANED_UP};
use ota_core::create_job::{
    TAG_SIGNED_VERSION, TAG_SIGNING_JOB, TAG_SOURCE_BUCKET, TAG_SOURCE_KEY, TAG_SOURCE_VERSION,
    TAG_STREAM,
};
use serde::Serialize;
use std::time::{Duration, Instant};

/// How long to wait between looks, and in all.
#[derive(Debug, Clone, Copy)]
pub struct Pacing {
    /// Between DescribeJob calls while IoT deletes the job.
    pub poll: Duration,
    /// The first wait after LimitExceededException (doubling, up to 30 s).
    pub queue_backoff: Duration,
    /// Give up (exit 4, the job's deletion keeps going) after this.
    pub timeout: Duration,
}

impl Pacing {
    pub fn new(timeout_seconds: u64) -> Pacing {
        Pacing {
            poll: Duration::from_secs(2),
            queue_backoff: Duration::from_secs(2),
            timeout: Duration::from_secs(timeout_seconds),
        }
    }
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Deleted {
    pub job_id: String,
    /// Seconds spent queued behind IoT's limit of 10 jobs in
    /// DELETION_IN_PROGRESS.
    pub queued_seconds: u64,
    pub stream: Option<String>,
    pub signed_object: Option<String>,
    /// What was left, and why.
    pub kept: Vec<String>,
    /// The firmware, which `ota delete` never touches.
    pub firmware: Option<String>,
}

impl Deleted {
    pub fn human(&self) -> String {
        let mut s = format!("deleted job {}\n", self.job_id);
        if let Some(id) = &self.stream {
            s += &format!("deleted stream {id}\n");
        }
        if let Some(o) = &self.signed_object {
            s += &format!("deleted signed object {o}\n");
        }
        for k in &self.kept {
            s += &format!("kept {k}\n");
        }
        if let Some(f) = &self.firmware {
            s += &format!("kept the firmware {f}\n");
        }
        s
    }
}

pub async fn run(g: &GlobalArgs, a: &DeleteArgs) -> Result<Deleted, CliError> {
    let c = Clients::new(g).await?;
    let job = resolve(&c, g, &a.job).await?;
    delete(&c, &job, a.force, Pacing::new(a.wait_timeout)).await
}

pub async fn delete(
    c: &Clients,
    job: &PipelineJob,
    force: bool,
    pacing: Pacing,
) -> Result<Deleted, CliError> {
    let terminal = matches!(job.status, JobStatus::Completed | JobStatus::Canceled);
    if !terminal && !force && job.status != JobStatus::DeletionInProgress {
        return Err(CliError::Refused(format!(
            "job {} is {}: devices may still be updating. Cancel it first (ota cancel {}), or pass --force to delete it anyway",
            job.job_id,
            job.status.as_str(),
            job.job_id
        )));
    }
    let started = Instant::now();
    let mut out = Deleted {
        job_id: job.job_id.clone(),
        firmware: match (job.tag(TAG_SOURCE_BUCKET), job.tag(TAG_SOURCE_KEY)) {
            (Some(b), Some(k)) => Some(format!(
                "s3://{b}/{k} version {}",
                job.tag(TAG_SOURCE_VERSION).unwrap_or("?")
            )),
            _ => None,
        },
        ..Deleted::default()
    };
    if job.status != JobStatus::DeletionInProgress {
        out.queued_seconds = delete_job(c, job, force, pacing, started).await?;
    }
    await_gone(c, job, pacing, started).await?;
    let left = |what: &str, how: &str, e: CliError| CliError::Aws {
        operation: "ota delete",
        message: format!(
            "job {} is deleted, but its {what} is left ({e}); remove it with {how}",
            job.job_id
        ),
    };
    if let Some(when) = job.tag(TAG_CLEANED_UP) {
        out.kept.push(format!(
            "nothing else: the clean-up sweep removed the job's stream and signed object at {when}"
        ));
        return Ok(out);
    }
    if let Some(stream_id) = job.tag(TAG_STREAM) {
        delete_stream(c, job, stream_id, &mut out)
            .await
            .map_err(|e| {
                left(
                    &format!("stream {stream_id}"),
                    &format!("aws iot delete-stream --stream-id {stream_id}"),
                    e,
                )
            })?;
    }
    if let (Some(signing_job), Some(version)) =
        (job.tag(TAG_SIGNING_JOB), job.tag(TAG_SIGNED_VERSION))
    {
        delete_signed(c, signing_job, version, &mut out)
            .await
            .map_err(|e| {
                left(
                    &format!("signed object of signing job {signing_job} (version {version})"),
                    "aws s3api delete-object --version-id",
                    e,
                )
            })?;
    }
    Ok(out)
}

/// DeleteJob, queued while IoT has 10 deletions in progress ("Only 10 jobs
/// may have status DELETION_IN_PROGRESS at the same time, or a
/// LimitExceededException will occur": IoT API reference, DeleteJob).
/// The seconds spent queued.
async fn delete_job(
    c: &Clients,
    job: &PipelineJob,
    force: bool,
    pacing: Pacing,
    started: Instant,
) -> Result<u64, CliError> {
    let mut backoff = pacing.queue_backoff;
    let mut queued = Duration::ZERO;
    loop {
        let sent = c
            .iot
            .delete_job()
            .job_id(&job.job_id)
            .force(force)
            .send()
            .await;
        let e = match sent {
            Ok(_) => return Ok(queued.as_secs()),
            Err(e) => e,
        };
        let Some(service) = e.as_service_error() else {
            return Err(aws("DeleteJob")(e));
        };
        if service.is_resource_not_found_exception() {
            return Ok(queued.as_secs());
        }
        if service.is_invalid_state_transition_exception() {
            return Err(CliError::Refused(format!(
                "job {} cannot be deleted in its state (pass --force to delete a job that is not COMPLETED or CANCELED): {}",
                job.job_id,
                aws_smithy_types::error::display::DisplayErrorContext(&e)
            )));
        }
        if !service.is_limit_exceeded_exception() {
            return Err(aws("DeleteJob")(e));
        }
        if started.elapsed() + backoff > pacing.timeout {
            return Err(CliError::GaveUp(format!(
                "job {} is still queued for deletion after {} s: IoT allows 10 jobs in DELETION_IN_PROGRESS at once; run ota delete again later",
                job.job_id,
                started.elapsed().as_secs()
            )));
        }
        tokio::time::sleep(backoff).await;
        queued += backoff;
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
}

/// Until DescribeJob says the job is gone.
async fn await_gone(
    c: &Clients,
    job: &PipelineJob,
    pacing: Pacing,
    started: Instant,
) -> Result<(), CliError> {
    loop {
        let d = c.iot.describe_job().job_id(&job.job_id).send().await;
        if found(d, |e| e.is_resource_not_found_exception())
            .map_err(aws("DescribeJob"))?
            .is_none()
        {
            return Ok(());
        }
        if started.elapsed() > pacing.timeout {
            return Err(CliError::GaveUp(format!(
                "job {} is still DELETION_IN_PROGRESS after {} s; its stream and signed object were not touched: run ota delete {} again when it is gone",
                job.job_id,
                started.elapsed().as_secs(),
                job.job_id
            )));
        }
        tokio::time::sleep(pacing.poll).await;
    }
}

/// The stream, when the pipeline made it for this job's upload and no
/// other job (not yet cleaned up) carries its tag.
async fn delete_stream(
    c: &Clients,
    job: &PipelineJob,
    stream_id: &str,
    out: &mut Deleted,
) -> Result<(), CliError> {
    let tagged = job_resources::jobs_tagged(&c.tagging, TAG_STREAM, Some(stream_id)).await?;
    let users: Vec<&TaggedJob> = tagged.iter().filter(|j| !j.cleaned_up()).collect();
    let source = Source {
        bucket: job.tag(TAG_SOURCE_BUCKET).unwrap_or_default(),
        key: job.tag(TAG_SOURCE_KEY).unwrap_or_default(),
        version_id: job.tag(TAG_SOURCE_VERSION).unwrap_or_default(),
    };
    let outcome = match job_resources::still_used(&format!("stream {stream_id}"), &users) {
        Some(kept) => kept,
        None => job_resources::remove_stream(&c.iot, &source, stream_id).await?,
    };
    match outcome {
        Outcome::Removed(id) => out.stream = Some(id),
        Outcome::Kept(why) => out.kept.push(why),
    }
    Ok(())
}

/// The signer's output object version, when no other job (not yet
/// cleaned up) carries the signing job's tag.
async fn delete_signed(
    c: &Clients,
    signing_job: &str,
    version: &str,
    out: &mut Deleted,
) -> Result<(), CliError> {
    let tagged = job_resources::jobs_tagged(&c.tagging, TAG_SIGNING_JOB, Some(signing_job)).await?;
    let users: Vec<&TaggedJob> = tagged.iter().filter(|j| !j.cleaned_up()).collect();
    let what = format!("the signed object of signing job {signing_job}");
    let outcome = match job_resources::still_used(&what, &users) {
        Some(kept) => kept,
        None => job_resources::remove_signed(&c.signer, &c.s3, signing_job, version).await?,
    };
    match outcome {
        Outcome::Removed(o) => out.signed_object = Some(o),
        Outcome::Kept(why) => out.kept.push(why),
    }
    Ok(())
}
