//! Finding the execution an upload started, and how far it got.

use super::Clients;
use crate::error::{aws, CliError};
use aws_sdk_sfn::types::{ExecutionStatus, HistoryEvent};
use ota_aws::found;
use ota_core::PipelineState;
use serde_json::Value;

impl Clients {
    /// The newest execution whose upload event is `wanted`, looking at the
    /// newest `scan` executions, and its input. Executions listed in `skip`
    /// are not described (they were not ours before); those that are not
    /// ours are added to it, for callers that poll.
    pub async fn find_execution(
        &self,
        state_machine: &str,
        wanted: &Wanted<'_>,
        scan: usize,
        skip: &mut std::collections::HashSet<String>,
    ) -> Result<Option<Execution>, CliError> {
        let mut pages = self
            .sfn
            .list_executions()
            .state_machine_arn(state_machine)
            .into_paginator()
            .send();
        let mut seen = 0usize;
        let mut found: Option<Execution> = None;
        while let Some(page) = pages.next().await {
            let page = page.map_err(aws("ListExecutions"))?;
            let mut newer_on_page = false;
            for item in page.executions() {
                seen += 1;
                let arn = item.execution_arn();
                // Started before the upload: not its execution.
                if wanted
                    .not_before
                    .is_some_and(|t| item.start_date().secs() < t)
                {
                    continue;
                }
                newer_on_page = true;
                if skip.contains(arn) {
                    continue;
                }
                let e = self.describe_execution(arn).await?;
                let obj = &e.input["detail"]["object"];
                let ours = e.input["detail"]["bucket"]["name"] == wanted.bucket
                    && obj["key"] == wanted.key
                    && wanted.version.is_none_or(|v| obj["version-id"] == v);
                if !ours {
                    // Not ours now, not ours later: never describe it again.
                    skip.insert(arn.to_string());
                    continue;
                }
                // Keep the newest match, whatever order the listing has.
                if found.as_ref().is_none_or(|f| e.start_date > f.start_date) {
                    found = Some(e);
                }
            }
            // Listings are newest first: a page with nothing started since
            // the upload means the rest is older still.
            if seen >= scan || (wanted.not_before.is_some() && !newer_on_page) {
                break;
            }
        }
        Ok(found)
    }

    pub async fn describe_execution(&self, arn: &str) -> Result<Execution, CliError> {
        self.describe_execution_if_kept(arn)
            .await?
            .ok_or_else(|| CliError::NotFound(format!("no execution {arn}")))
    }

    /// None when Step Functions no longer has it (closed executions are
    /// kept for 90 days).
    pub async fn describe_execution_if_kept(
        &self,
        arn: &str,
    ) -> Result<Option<Execution>, CliError> {
        let described = self
            .sfn
            .describe_execution()
            .execution_arn(arn)
            .send()
            .await;
        let Some(d) = found(described, |e| e.is_execution_does_not_exist())
            .map_err(aws("DescribeExecution"))?
        else {
            return Ok(None);
        };
        Ok(Some(Execution {
            arn: arn.to_string(),
            status: d.status().clone(),
            start_date: d.start_date().secs(),
            stop_date: d.stop_date().map(|t| t.secs()),
            input: d
                .input()
                .and_then(|i| serde_json::from_str(i).ok())
                .unwrap_or(Value::Null),
            output: d.output().and_then(|o| serde_json::from_str(o).ok()),
            error: d.error().map(str::to_string),
            cause: d.cause().map(str::to_string),
        }))
    }

    /// The state the execution is in now (the last state it entered), and
    /// the newest pipeline state a step returned (what exists so far).
    pub async fn progress(&self, arn: &str) -> Result<Progress, CliError> {
        let mut pages = self
            .sfn
            .get_execution_history()
            .execution_arn(arn)
            .reverse_order(true)
            .into_paginator()
            .send();
        let mut p = Progress::default();
        while let Some(page) = pages.next().await {
            let page = page.map_err(aws("GetExecutionHistory"))?;
            for ev in page.events() {
                if p.current_state.is_none() {
                    p.current_state = entered(ev);
                }
                if p.latest.is_none() {
                    p.latest = step_output(ev);
                }
                if p.current_state.is_some() && p.latest.is_some() {
                    return Ok(p);
                }
            }
        }
        Ok(p)
    }
}

/// A state the execution entered.
fn entered(ev: &HistoryEvent) -> Option<String> {
    ev.state_entered_event_details()
        .map(|d| d.name().to_string())
}

/// The pipeline state a Lambda step returned, if this event is one.
fn step_output(ev: &HistoryEvent) -> Option<PipelineState> {
    let text = ev
        .task_succeeded_event_details()
        .and_then(|d| d.output())
        .or_else(|| {
            ev.lambda_function_succeeded_event_details()
                .and_then(|d| d.output())
        })?;
    serde_json::from_str(text).ok()
}

/// Which upload's execution to find.
#[derive(Debug, Clone, Copy)]
pub struct Wanted<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub version: Option<&'a str>,
    /// Unix seconds: executions started earlier are not this upload's.
    pub not_before: Option<i64>,
}

#[derive(Debug, Default)]
pub struct Progress {
    pub current_state: Option<String>,
    pub latest: Option<PipelineState>,
}

#[derive(Debug, Clone)]
pub struct Execution {
    pub arn: String,
    pub status: ExecutionStatus,
    pub start_date: i64,
    pub stop_date: Option<i64>,
    /// The upload event that started it.
    pub input: Value,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub cause: Option<String>,
}

impl Execution {
    /// The final pipeline state of a successful run.
    pub fn final_state(&self) -> Option<PipelineState> {
        self.output
            .clone()
            .and_then(|o| serde_json::from_value(o).ok())
    }

    pub fn version_id(&self) -> Option<&str> {
        self.input["detail"]["object"]["version-id"].as_str()
    }
}
