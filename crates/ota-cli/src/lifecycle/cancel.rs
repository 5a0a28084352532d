//! `ota cancel KEY|JOB_ID [--force] [--comment TEXT] [--reason-code CODE]`:
//! CancelJob on a job the pipeline made. Without --force IoT cancels only
//! QUEUED executions; devices already IN_PROGRESS may finish (and the
//! stream stays for them). With --force those are canceled too, with the
//! warning AWS gives for it.

use super::{resolve, PipelineJob};
use crate::args::{CancelArgs, GlobalArgs};
use crate::aws::Clients;
use crate::error::{aws, CliError};
use aws_sdk_iot::types::JobStatus;
use ota_core::error::{Problem, Problems};
use serde_json::{json, Value};
use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};

/// CancelJob's `comment`: "Length Constraints: Maximum length of 2028.
/// Pattern: [^\p{C}]+" (IoT API reference, CancelJob, Request Body).
pub const MAX_COMMENT_CHARS: usize = 2028;
/// CancelJob's `reasonCode`: "Maximum length of 128. Pattern:
/// [\p{Upper}\p{Digit}_]+" (same page). In the Java regex syntax AWS's
/// models use, \p{Upper} and \p{Digit} are the POSIX classes [A-Z] and [0-9].
pub const MAX_REASON_CODE_CHARS: usize = 128;

/// The warning the CancelJob reference gives for `force`.
pub const FORCE_WARNING: &str = "canceling executions that are IN_PROGRESS leaves those devices unable to update their job execution status: make sure each of them can recover to a valid state";

/// Every problem with --comment and --reason-code, before any AWS call.
pub fn check(comment: Option<&str>, reason_code: Option<&str>) -> Result<(), CliError> {
    let mut problems = Vec::new();
    if let Some(c) = comment {
        if c.is_empty() {
            problems.push(("--comment", "must not be empty".to_string()));
        } else if c.chars().count() > MAX_COMMENT_CHARS {
            problems.push((
                "--comment",
                format!(
                    "is {} characters; CancelJob allows at most {MAX_COMMENT_CHARS}",
                    c.chars().count()
                ),
            ));
        } else if let Some(bad) = c
            .chars()
            .find(|ch| ch.general_category_group() == GeneralCategoryGroup::Other)
        {
            problems.push((
                "--comment",
                format!("contains {bad:?} (U+{:04X}), a control or format character, which CancelJob refuses ([^\\p{{C}}]+)", bad as u32),
            ));
        }
    }
    if let Some(r) = reason_code {
        if r.is_empty() || r.chars().count() > MAX_REASON_CODE_CHARS {
            problems.push((
                "--reason-code",
                format!("must be 1 to {MAX_REASON_CODE_CHARS} characters"),
            ));
        } else if !r
            .chars()
            .all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit() || ch == '_')
        {
            problems.push((
                "--reason-code",
                format!("{r:?}: only A-Z, 0-9 and _ (e.g. BAD_RELEASE)"),
            ));
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(CliError::Invalid(Problems(
        problems
            .into_iter()
            .map(|(field, message)| Problem {
                field: field.to_string(),
                message,
            })
            .collect(),
    )))
}

pub async fn run(g: &GlobalArgs, a: &CancelArgs) -> Result<Value, CliError> {
    check(a.comment.as_deref(), a.reason_code.as_deref())?;
    let c = Clients::new(g).await?;
    let job = resolve(&c, g, &a.job).await?;
    cancel(&c, &job, a).await
}

/// CancelJob, then how many devices are still IN_PROGRESS.
pub async fn cancel(c: &Clients, job: &PipelineJob, a: &CancelArgs) -> Result<Value, CliError> {
    check(a.comment.as_deref(), a.reason_code.as_deref())?;
    match &job.status {
        JobStatus::Canceled => {
            return Ok(report(
                job,
                "CANCELED",
                None,
                a.force,
                "it was already canceled",
            ))
        }
        JobStatus::InProgress | JobStatus::Scheduled => {}
        other => {
            return Err(CliError::Refused(format!(
                "job {} is {}: only a SCHEDULED or IN_PROGRESS job can be canceled",
                job.job_id,
                other.as_str()
            )))
        }
    }
    let sent = c
        .iot
        .cancel_job()
        .job_id(&job.job_id)
        .set_comment(a.comment.clone())
        .set_reason_code(a.reason_code.clone())
        .force(a.force)
        .send()
        .await;
    if let Err(e) = sent {
        // The job ended between DescribeJob and CancelJob.
        if e.as_service_error()
            .is_some_and(|s| s.is_invalid_request_exception())
        {
            return Err(CliError::Refused(format!(
                "job {} cannot be canceled now: {}",
                job.job_id,
                aws_smithy_types::error::display::DisplayErrorContext(&e)
            )));
        }
        return Err(aws("CancelJob")(e));
    }
    let after = c
        .iot
        .describe_job()
        .job_id(&job.job_id)
        .send()
        .await
        .map_err(aws("DescribeJob"))?;
    let j = after.job();
    let status = j
        .and_then(|j| j.status())
        .map_or("CANCELED", |s| s.as_str())
        .to_string();
    let in_progress = j
        .and_then(|j| j.job_process_details())
        .and_then(|d| d.number_of_in_progress_things());
    Ok(report(job, &status, in_progress, a.force, "canceled"))
}

fn report(
    job: &PipelineJob,
    status: &str,
    in_progress: Option<i32>,
    force: bool,
    what: &str,
) -> Value {
    let mut warnings = Vec::new();
    if force {
        warnings.push(FORCE_WARNING.to_string());
    }
    if let Some(n) = in_progress.filter(|n| *n > 0) {
        warnings.push(format!("{n} device(s) were IN_PROGRESS and may finish the update; ota cancel --force cancels them too"));
    }
    json!({
        "jobId": job.job_id,
        "jobArn": job.job_arn,
        "status": status,
        "force": force,
        "inProgressThings": in_progress,
        "result": what,
        "warnings": warnings,
    })
}

/// The line a person reads.
pub fn human(v: &Value) -> String {
    format!(
        "job {}: {} (status {})\n",
        v["jobId"].as_str().unwrap_or_default(),
        v["result"].as_str().unwrap_or_default(),
        v["status"].as_str().unwrap_or_default()
    )
}
