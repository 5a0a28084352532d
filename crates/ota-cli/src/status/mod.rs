//! `ota status KEY|JOB_ID`: finds the upload's job or execution and reports
//! where it is ([`report`] builds the report `upload` ends with too).

pub mod devices;
mod report;

pub use report::{readable_cause, report_for_execution, JobExecutions, Report};

use crate::args::{GlobalArgs, StatusArgs};
use crate::aws::{console_url, Clients, Wanted};
use crate::error::{aws, CliError};
use ota_aws::{collect_all, found};
use report::{fill_job, report_with};
use std::collections::HashSet;

/// How many of the newest executions `status KEY` looks through.
const SCAN_EXECUTIONS: usize = 1000;

pub async fn run(g: &GlobalArgs, a: &StatusArgs) -> Result<Report, CliError> {
    let c = Clients::new(g).await?;
    let mut r = status(&c, g, a).await?;
    if a.devices {
        if let (Some(job_id), true) = (&r.job_id, r.job_arn.is_some()) {
            r.devices = Some(devices::device_executions(&c, job_id).await?);
        }
    }
    Ok(r)
}

pub async fn status(c: &Clients, g: &GlobalArgs, a: &StatusArgs) -> Result<Report, CliError> {
    // Keys live under the upload prefix, so they contain a '/'; job ids never do.
    if !a.what.contains('/') {
        return job_status(c, &a.what).await;
    }
    let pipeline = c.pipeline(g).await?;
    let bucket = &pipeline.bucket(a.bucket.as_ref())?;
    let (version, uploaded_at) = version_of(c, bucket, &a.what, a.version_id.as_deref()).await?;
    // The default job id derives from the version: one DescribeJob finds a
    // finished update without looking through executions.
    let default_job = ota_core::ids::job_id(bucket, &a.what, &version);
    if let Some(r) = job_report(c, &default_job).await? {
        if r.version_id.as_deref() == Some(version.as_str()) {
            return Ok(r);
        }
    }
    let wanted = Wanted {
        bucket,
        key: &a.what,
        version: Some(&version),
        // A minute for clock skew between S3 and Step Functions.
        not_before: uploaded_at.map(|t| t - 60),
    };
    let e = c
        .find_execution(&pipeline.state_machine, &wanted, SCAN_EXECUTIONS, &mut HashSet::new())
        .await?
        .ok_or_else(|| {
            CliError::NotFound(format!(
                "no pipeline execution for s3://{bucket}/{} version {version}: is the key under the stack's UploadPrefix?",
                a.what
            ))
        })?;
    report_for_execution(c, &e).await
}

/// The version to report on (given, or the key's current one) and when it
/// was uploaded, if S3 still has it.
pub(crate) async fn version_of(
    c: &Clients,
    bucket: &str,
    key: &str,
    version: Option<&str>,
) -> Result<(String, Option<i64>), CliError> {
    let head =
        c.s3.head_object()
            .bucket(bucket)
            .key(key)
            .set_version_id(version.map(str::to_string))
            .send()
            .await;
    match found(head, |e| e.is_not_found()).map_err(aws("HeadObject"))? {
        Some(h) => {
            let uploaded_at = h.last_modified().map(|t| t.secs());
            match (version, h.version_id().filter(|v| *v != "null")) {
                (Some(v), _) => Ok((v.to_string(), uploaded_at)),
                (None, Some(v)) => Ok((v.to_string(), uploaded_at)),
                (None, None) => Err(CliError::NotFound(format!(
                    "s3://{bucket}/{key} has no version id (is versioning on?)"
                ))),
            }
        }
        None => match version {
            // A version deleted since can still have an execution to report.
            Some(v) => Ok((v.to_string(), None)),
            None => Err(CliError::NotFound(format!(
                "s3://{bucket}/{key} does not exist"
            ))),
        },
    }
}

/// A job id: the job, and through its tags the upload and the execution.
async fn job_status(c: &Clients, job_id: &str) -> Result<Report, CliError> {
    job_report(c, job_id).await?.ok_or_else(|| {
        CliError::NotFound(format!(
            "no IoT job {job_id} made by the OTA pipeline (a key contains '/', e.g. firmware/app.bin)"
        ))
    })
}

/// The report for a job the pipeline made, found through its tags; None
/// when there is no such job or the pipeline did not make it. A job can
/// outlive its execution (Step Functions keeps closed executions for 90
/// days; a CONTINUOUS job runs on): then the job and its tags are the
/// report.
async fn job_report(c: &Clients, job_id: &str) -> Result<Option<Report>, CliError> {
    let described = c.iot.describe_job().job_id(job_id).send().await;
    let Some(job) =
        found(described, |e| e.is_resource_not_found_exception()).map_err(aws("DescribeJob"))?
    else {
        return Ok(None);
    };
    let arn = job
        .job()
        .and_then(|j| j.job_arn())
        .unwrap_or_default()
        .to_string();
    let tags = job_tags(c, &arn).await?;
    let tag = |k: &str| tags.iter().find(|(t, _)| t == k).map(|(_, v)| v.clone());
    let Some(execution) = tag(ota_core::create_job::TAG_EXECUTION) else {
        return Ok(None);
    };
    if let Some(e) = c.describe_execution_if_kept(&execution).await? {
        return Ok(Some(report_with(c, &e, job.job()).await?));
    }
    let mut r = Report {
        bucket: tag(ota_core::create_job::TAG_SOURCE_BUCKET),
        key: tag(ota_core::create_job::TAG_SOURCE_KEY),
        version_id: tag(ota_core::create_job::TAG_SOURCE_VERSION),
        execution_arn: Some(execution),
        execution_status: Some("EXPIRED".into()),
        job_id: Some(job_id.to_string()),
        ..Report::default()
    };
    if let Some(j) = job.job() {
        fill_job(&mut r, j);
    }
    let region = arn.split(':').nth(3).unwrap_or(&c.region).to_string();
    r.console_url = Some(console_url(&region, job_id));
    r.next_step = Some(
        "its execution is older than Step Functions keeps; the job and its devices are as shown"
            .into(),
    );
    Ok(Some(r))
}

pub async fn job_tags(c: &Clients, arn: &str) -> Result<Vec<(String, String)>, CliError> {
    job_tags_if_exists(c, arn)
        .await?
        .ok_or_else(|| CliError::NotFound(format!("no IoT job {arn}")))
}

/// A job's tags; None when the job is gone.
pub async fn job_tags_if_exists(
    c: &Clients,
    arn: &str,
) -> Result<Option<Vec<(String, String)>>, CliError> {
    let pages = collect_all(
        c.iot
            .list_tags_for_resource()
            .resource_arn(arn)
            .into_paginator()
            .send(),
    )
    .await;
    let Some(pages) = found(pages, |e| e.is_resource_not_found_exception())
        .map_err(aws("ListTagsForResource"))?
    else {
        return Ok(None);
    };
    Ok(Some(
        pages
            .iter()
            .flat_map(|p| p.tags())
            .map(|t| {
                (
                    t.key().to_string(),
                    t.value().unwrap_or_default().to_string(),
                )
            })
            .collect(),
    ))
}
