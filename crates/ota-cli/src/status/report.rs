//! The report on one upload: what exists for it, where it is, what to do
//! next; as text or JSON.

use crate::aws::{console_url, Clients, Execution, Uploaded};
use crate::error::{aws, CliError};
use aws_sdk_sfn::types::ExecutionStatus;
use ota_aws::found;
use serde::Serialize;
use std::fmt::Write as _;

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
    /// With --devices: each device's execution (status::devices).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub devices: Option<Vec<super::devices::DeviceExecution>>,
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

impl JobExecutions {
    /// "  (3 succeeded, 1 failed)", or that no device has it yet.
    fn human(&self) -> String {
        let counts: Vec<String> = [
            (self.queued, "queued"),
            (self.in_progress, "in progress"),
            (self.succeeded, "succeeded"),
            (self.failed, "failed"),
            (self.rejected, "rejected"),
            (self.timed_out, "timed out"),
            (self.canceled, "canceled"),
            (self.removed, "removed"),
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
    }
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
                .map(JobExecutions::human)
                .unwrap_or_default();
            row("job", format!("{j}  {st}{counts}"));
        }
        if let Some(u) = &self.console_url {
            row("console", u.clone());
        }
        if let Some(d) = &self.devices {
            let table = super::devices::human(d);
            row("devices", format!("{}\n{}", d.len(), table.trim_end()));
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

/// Everything about one execution: the upload it ran for, how far it got,
/// the job and its executions, or the failure.
pub async fn report_for_execution(c: &Clients, e: &Execution) -> Result<Report, CliError> {
    report_with(c, e, None).await
}

/// The report for an execution; `known` is its job when the caller has
/// just described it (it is not asked for again).
pub(super) async fn report_with(
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
        r.next_step = Some(format!(
            "fix what the error says, then run it again: ota retry {} --version-id {} (or upload a new version)",
            r.key.as_deref().unwrap_or("KEY"),
            r.version_id.as_deref().unwrap_or("VERSION")
        ));
    }
    if let Some(job_id) = r.job_id.clone() {
        let exists = match known {
            Some(j) => {
                fill_job(&mut r, j);
                true
            }
            None => describe_job(c, &job_id, &mut r).await?,
        };
        if exists {
            let region = e.arn.split(':').nth(3).unwrap_or(&c.region).to_string();
            r.console_url = Some(console_url(&region, &job_id));
            r.next_step = Some(format!(
                "watch the rollout: ota watch {job_id}; each device: ota status {job_id} --devices"
            ));
        } else {
            // The run made it; someone deleted it since (ota delete).
            r.job_status = Some(DELETED.into());
            r.next_step = Some(format!(
                "the job was deleted; run the pipeline again with: ota retry {} --version-id {}",
                r.key.as_deref().unwrap_or("KEY"),
                r.version_id.as_deref().unwrap_or("VERSION")
            ));
        }
    }
    Ok(r)
}

/// `jobStatus` of a job the run made that no longer exists.
pub const DELETED: &str = "DELETED";

/// Fills in the job; false when IoT has no such job (any more).
async fn describe_job(c: &Clients, job_id: &str, r: &mut Report) -> Result<bool, CliError> {
    let out = c.iot.describe_job().job_id(job_id).send().await;
    let Some(out) =
        found(out, |e| e.is_resource_not_found_exception()).map_err(aws("DescribeJob"))?
    else {
        return Ok(false);
    };
    if let Some(j) = out.job() {
        fill_job(r, j);
    }
    Ok(true)
}

/// The job's ARN, status and where its devices are.
pub(super) fn fill_job(r: &mut Report, j: &aws_sdk_iot::types::Job) {
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
