//! `ota status KEY|JOB_ID`, and the report `upload` ends with: where one
//! upload is in the pipeline and what exists for it.

use crate::args::{GlobalArgs, StatusArgs};
use crate::aws::{console_url, Clients, Execution, Uploaded, Wanted};
use crate::error::{aws, CliError};
use aws_sdk_sfn::types::ExecutionStatus;
use ota_aws::{collect_all, found};
use serde::Serialize;
use std::collections::HashSet;
use std::fmt::Write as _;

/// How many of the newest executions `status KEY` looks through.
const SCAN_EXECUTIONS: usize = 1000;

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub bucket: Option<String>,
    pub key: Option<String>,
    pub version_id: Option<String>,
    pub execution_arn: Option<String>,
    pub execution_status: Option<String>,
    /// The state a running execution is in.
    pub current_state: Option<String>,
    pub signing_job_id: Option<String>,
    pub stream_id: Option<String>,
    pub job_id: Option<String>,
    pub job_arn: Option<String>,
    pub job_status: Option<String>,
    pub job_executions: Option<JobExecutions>,
    pub console_url: Option<String>,
    /// The stable errorType of a failed run, and its cause.
    pub error: Option<String>,
    pub cause: Option<String>,
    pub next_step: Option<String>,
}

/// DescribeJob's jobProcessDetails: how many things are where.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobExecutions {
    pub queued: i32,
    pub in_progress: i32,
    pub succeeded: i32,
    pub failed: i32,
    pub rejected: i32,
    pub timed_out: i32,
    pub canceled: i32,
    pub removed: i32,
}

impl Report {
    pub fn uploaded(up: &Uploaded) -> Report {
        Report {
            bucket: Some(up.bucket.clone()),
            key: Some(up.key.clone()),
            version_id: Some(up.version_id.clone()),
            next_step: Some(format!(
                "follow it with: ota status {} --bucket {} --version-id {}",
                up.key, up.bucket, up.version_id
            )),
            ..Report::default()
        }
    }

    pub fn human(&self) -> String {
        let mut s = String::new();
        let mut row = |label: &str, value: String| {
            let _ = writeln!(s, "{label:<10} {value}");
        };
        if let (Some(b), Some(k)) = (&self.bucket, &self.key) {
            let v = self.version_id.as_deref().unwrap_or("?");
            row("upload", format!("s3://{b}/{k} (version {v})"));
        }
        if let (Some(st), Some(arn)) = (&self.execution_status, &self.execution_arn) {
            let at = self
                .current_state
                .as_deref()
                .map(|c| format!(", at {c}"))
                .unwrap_or_default();
            row("execution", format!("{st}{at}  {arn}"));
        }
        if let Some(j) = &self.signing_job_id {
            row("signing", format!("job {j}"));
        }
        if let Some(sid) = &self.stream_id {
            row("stream", sid.clone());
        }
        if let Some(j) = &self.job_id {
            let st = self.job_status.as_deref().unwrap_or("?");
            let counts = self
                .job_executions
                .as_ref()
                .map(|e| {
                    let counts: Vec<String> = [
                        (e.queued, "queued"),
                        (e.in_progress, "in progress"),
                        (e.succeeded, "succeeded"),
                        (e.failed, "failed"),
                        (e.rejected, "rejected"),
                        (e.timed_out, "timed out"),
                        (e.canceled, "canceled"),
                        (e.removed, "removed"),
                    ]
                    .iter()
                    .filter(|(n, _)| *n > 0)
                    .map(|(n, what)| format!("{n} {what}"))
                    .collect();
                    if counts.is_empty() {
                        "  (no device has it yet)".to_string()
                    } else {
                        format!("  ({})", counts.join(", "))
                    }
                })
                .unwrap_or_default();
            row("job", format!("{j}  {st}{counts}"));
        }
        if let Some(u) = &self.console_url {
            row("console", u.clone());
        }
        if let Some(e) = &self.error {
            row(
                "failed",
                format!("{e}: {}", self.cause.as_deref().unwrap_or("")),
            );
        }
        if let Some(n) = &self.next_step {
            row("next", n.clone());
        }
        s
    }
}

pub async fn run(g: &GlobalArgs, a: &StatusArgs) -> Result<Report, CliError> {
    status(&Clients::new(g).await?, g, a).await
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
async fn version_of(
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

/// Everything about one execution: the upload it ran for, how far it got,
/// the job and its executions, or the failure.
pub async fn report_for_execution(c: &Clients, e: &Execution) -> Result<Report, CliError> {
    report_with(c, e, None).await
}

/// The report for an execution; `known` is its job when the caller has
/// just described it (it is not asked for again).
async fn report_with(
    c: &Clients,
    e: &Execution,
    known: Option<&aws_sdk_iot::types::Job>,
) -> Result<Report, CliError> {
    let detail = &e.input["detail"];
    let mut r = Report {
        bucket: detail["bucket"]["name"].as_str().map(str::to_string),
        key: detail["object"]["key"].as_str().map(str::to_string),
        version_id: e.version_id().map(str::to_string),
        execution_arn: Some(e.arn.clone()),
        execution_status: Some(e.status.as_str().to_string()),
        ..Report::default()
    };
    let state = match e.final_state() {
        Some(s) => Some(s),
        None => {
            let p = c.progress(&e.arn).await?;
            if e.status == ExecutionStatus::Running {
                r.current_state = p.current_state;
            }
            p.latest
        }
    };
    if let Some(s) = &state {
        r.version_id = Some(s.source.version_id.clone());
        r.signing_job_id = s.signing.job_id.clone();
        r.stream_id = s.stream.as_ref().map(|x| x.stream_id.clone());
        if let Some(j) = &s.job {
            r.job_id = Some(j.job_id.clone());
        }
    }
    if e.status != ExecutionStatus::Running && e.status != ExecutionStatus::Succeeded {
        r.error = Some(
            e.error
                .clone()
                .unwrap_or_else(|| e.status.as_str().to_string()),
        );
        r.cause = e.cause.as_deref().map(readable_cause);
        // Clean Up removed this run's stream; don't send anyone looking for it.
        r.stream_id = None;
        r.next_step = Some(
            "fix what the error says and upload again (a new version starts a new run)".into(),
        );
    }
    if let Some(job_id) = r.job_id.clone() {
        match known {
            Some(j) => fill_job(&mut r, j),
            None => describe_job(c, &job_id, &mut r).await?,
        }
        let region = e.arn.split(':').nth(3).unwrap_or(&c.region).to_string();
        r.console_url = Some(console_url(&region, &job_id));
        r.next_step = Some(format!("watch the devices: ota status {job_id}"));
    }
    Ok(r)
}

async fn describe_job(c: &Clients, job_id: &str, r: &mut Report) -> Result<(), CliError> {
    let out = c
        .iot
        .describe_job()
        .job_id(job_id)
        .send()
        .await
        .map_err(aws("DescribeJob"))?;
    if let Some(j) = out.job() {
        fill_job(r, j);
    }
    Ok(())
}

/// The job's ARN, status and where its devices are.
fn fill_job(r: &mut Report, j: &aws_sdk_iot::types::Job) {
    r.job_arn = j.job_arn().map(str::to_string);
    r.job_status = j.status().map(|s| s.as_str().to_string());
    r.job_executions = j.job_process_details().map(|d| JobExecutions {
        queued: d.number_of_queued_things().unwrap_or(0),
        in_progress: d.number_of_in_progress_things().unwrap_or(0),
        succeeded: d.number_of_succeeded_things().unwrap_or(0),
        failed: d.number_of_failed_things().unwrap_or(0),
        rejected: d.number_of_rejected_things().unwrap_or(0),
        timed_out: d.number_of_timed_out_things().unwrap_or(0),
        canceled: d.number_of_canceled_things().unwrap_or(0),
        removed: d.number_of_removed_things().unwrap_or(0),
    });
}

/// A Lambda error's cause is its error JSON; the message is what a person
/// needs. Anything else is shown as it is.
pub fn readable_cause(cause: &str) -> String {
    serde_json::from_str::<serde_json::Value>(cause)
        .ok()
        .and_then(|v| v["errorMessage"].as_str().map(str::to_string))
        .unwrap_or_else(|| cause.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_error_causes_become_their_message() {
        let c =
            r#"{"errorType": "InvalidRequest", "errorMessage": "invalid OTA request: 1 problem"}"#;
        assert_eq!(readable_cause(c), "invalid OTA request: 1 problem");
        assert_eq!(readable_cause("States.Timeout"), "States.Timeout");
    }
}
