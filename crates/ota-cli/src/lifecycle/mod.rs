//! After the job exists: `ota cancel` ([`cancel`]) and `ota delete`
//! ([`delete`]), for jobs this pipeline made. Both take a key (its job is
//! found as `ota status` finds it) or a job id, and refuse a job without
//! the pipeline's `ota:execution` tag: a job someone else made is theirs.
//! And `ota retry` ([`retry`]): the pipeline again for an upload whose run
//! failed, or whose job was deleted.

pub mod cancel;
pub mod delete;
pub mod retry;

use crate::args::{GlobalArgs, JobRef, StatusArgs};
use crate::aws::Clients;
use crate::error::{aws, CliError};
use crate::status::{self, job_tags_if_exists};
use aws_sdk_iot::types::{Job, JobStatus};
use ota_aws::found;
use ota_core::create_job::TAG_EXECUTION;

/// A job the pipeline made, as DescribeJob and its tags show it now.
pub struct PipelineJob {
    pub job_id: String,
    pub job_arn: String,
    pub status: JobStatus,
    pub job: Job,
    pub tags: Vec<(String, String)>,
}

impl PipelineJob {
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// The job `r` names: a job id, or a key (with `--version-id`, else its
/// current version) whose run made a job.
pub async fn resolve(c: &Clients, g: &GlobalArgs, r: &JobRef) -> Result<PipelineJob, CliError> {
    let what = r.what.as_str();
    // Keys live under the upload prefix, so they contain a '/'; job ids never do.
    let job_id = if what.contains('/') {
        let args = StatusArgs {
            what: r.what.clone(),
            bucket: r.bucket.clone(),
            version_id: r.version_id.clone(),
            devices: false,
        };
        let r = status::status(c, g, &args).await?;
        r.job_id.clone().ok_or_else(|| {
            CliError::NotFound(format!(
                "{what}: its run made no job (execution {}: {})",
                r.execution_status.as_deref().unwrap_or("unknown"),
                r.error.as_deref().unwrap_or("no error recorded")
            ))
        })?
    } else {
        what.to_string()
    };
    let described = c.iot.describe_job().job_id(&job_id).send().await;
    let job = found(described, |e| e.is_resource_not_found_exception())
        .map_err(aws("DescribeJob"))?
        .and_then(|d| d.job)
        .ok_or_else(|| CliError::NotFound(format!("no IoT job {job_id}")))?;
    let job_arn = job.job_arn().unwrap_or_default().to_string();
    let tags = job_tags_if_exists(c, &job_arn)
        .await?
        .ok_or_else(|| CliError::NotFound(format!("no IoT job {job_id}")))?;
    let status = job.status().cloned().unwrap_or(JobStatus::InProgress);
    let found = PipelineJob {
        job_id,
        job_arn,
        status,
        job,
        tags,
    };
    if found.tag(TAG_EXECUTION).is_none() {
        return Err(CliError::Refused(format!(
            "job {} was not made by the OTA pipeline (it has no {TAG_EXECUTION} tag): manage it with aws iot cancel-job / delete-job",
            found.job_id
        )));
    }
    Ok(found)
}
