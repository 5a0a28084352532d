//! `ota status ... --devices`: where each device is with the job
//! (ListJobExecutionsForJob), and for the ones that did not succeed the
//! statusDetails they reported (DescribeJobExecution): the reason a device
//! gives for FAILED or REJECTED is what a fleet engineer looks for first.

use crate::aws::Clients;
use crate::error::{aws, CliError};
use aws_sdk_iot::types::JobExecutionStatus;
use ota_aws::{collect_all, found};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// At most this many DescribeJobExecution calls per report: the reasons of
/// the first ones, in thing-name order (the rest show their status only).
pub const MAX_DESCRIBED: usize = 100;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DeviceExecution {
    pub thing: String,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution_number: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_attempt: Option<i32>,
    /// What the device reported with its last update (statusDetails).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub status_details: BTreeMap<String, String>,
}

/// States whose statusDetails say why a device did not finish.
fn worth_describing(s: &JobExecutionStatus) -> bool {
    matches!(
        s,
        JobExecutionStatus::Failed | JobExecutionStatus::Rejected | JobExecutionStatus::TimedOut
    )
}

/// Every device's execution of `job_id`, sorted by thing name.
pub async fn device_executions(
    c: &Clients,
    job_id: &str,
) -> Result<Vec<DeviceExecution>, CliError> {
    let pages = collect_all(
        c.iot
            .list_job_executions_for_job()
            .job_id(job_id)
            .into_paginator()
            .send(),
    )
    .await
    .map_err(aws("ListJobExecutionsForJob"))?;
    let mut out: Vec<(DeviceExecution, bool)> = pages
        .iter()
        .flat_map(|p| p.execution_summaries())
        .map(|e| {
            let summary = e.job_execution_summary();
            let status = summary.and_then(|s| s.status());
            let thing = e.thing_arn().unwrap_or_default();
            (
                DeviceExecution {
                    thing: thing.rsplit('/').next().unwrap_or(thing).to_string(),
                    status: status.map_or("UNKNOWN", |s| s.as_str()).to_string(),
                    execution_number: summary.and_then(|s| s.execution_number()),
                    retry_attempt: summary.and_then(|s| s.retry_attempt()),
                    status_details: BTreeMap::new(),
                },
                status.is_some_and(worth_describing),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.thing.cmp(&b.0.thing));
    for (d, _) in out.iter_mut().filter(|(_, w)| *w).take(MAX_DESCRIBED) {
        let described = c
            .iot
            .describe_job_execution()
            .job_id(job_id)
            .thing_name(&d.thing)
            .send()
            .await;
        let details = found(described, |e| e.is_resource_not_found_exception())
            .map_err(aws("DescribeJobExecution"))?
            .and_then(|o| o.execution)
            .and_then(|e| e.status_details)
            .and_then(|s| s.details_map);
        if let Some(m) = details {
            d.status_details = m.into_iter().collect();
        }
    }
    Ok(out.into_iter().map(|(d, _)| d).collect())
}

/// One line per device: name, status and what it reported.
pub fn human(devices: &[DeviceExecution]) -> String {
    let mut s = String::new();
    let width = devices.iter().map(|d| d.thing.len()).max().unwrap_or(0);
    for d in devices {
        let details: Vec<String> = d
            .status_details
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let line = format!(
            "  {:<width$}  {:<11} {}",
            d.thing,
            d.status,
            details.join(" ")
        );
        let _ = writeln!(s, "{}", line.trim_end());
    }
    if devices.is_empty() {
        s.push_str("  (no device has this job yet)\n");
    }
    s
}
