//! The executions uploads start: finding them by their upload event, and
//! waiting for them to finish.

use crate::Local;
use aws_sdk_sfn::types::ExecutionStatus;
use serde_json::Value;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A finished execution.
#[derive(Debug)]
pub struct Finished {
    pub arn: String,
    pub status: ExecutionStatus,
    pub output: Value,
    pub error: String,
    pub cause: String,
}

impl Finished {
    /// Panics, with the execution's error and cause, unless it succeeded.
    pub fn assert_succeeded(&self) {
        assert_eq!(
            self.status,
            ExecutionStatus::Succeeded,
            "{}: {}",
            self.error,
            self.cause
        );
    }
}

impl Local {
    /// Every execution of the state machine, every page (the emulator, like
    /// AWS, pages long lists).
    async fn all_executions(&self) -> Vec<aws_sdk_sfn::types::ExecutionListItem> {
        self.sfn
            .list_executions()
            .state_machine_arn(&self.state_machine)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .expect("ListExecutions")
    }

    /// An execution and its input (the upload event) as JSON.
    async fn describe(
        &self,
        arn: &str,
    ) -> (
        aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput,
        Value,
    ) {
        let d = self
            .sfn
            .describe_execution()
            .execution_arn(arn)
            .send()
            .await
            .expect("DescribeExecution");
        let input = serde_json::from_str(d.input().unwrap_or("{}")).unwrap_or(Value::Null);
        (d, input)
    }

    /// Every execution whose input is the upload event for (key, version).
    pub async fn executions_for(&self, key: &str, version: Option<&str>) -> Vec<(String, Value)> {
        let executions = self.all_executions().await;
        let mut out = Vec::new();
        for e in &executions {
            let (_, input) = self.describe(e.execution_arn()).await;
            let obj = &input["detail"]["object"];
            if obj["key"] == key && version.is_none_or(|v| obj["version-id"] == v) {
                out.push((e.execution_arn().to_string(), input));
            }
        }
        out
    }

    /// Every finished execution, by the (key, version id) of the upload event
    /// it carries: one listing (every page) and one DescribeExecution each.
    pub async fn finished_executions(&self) -> HashMap<(String, String), Vec<Finished>> {
        let executions = self.all_executions().await;
        let mut out: HashMap<(String, String), Vec<Finished>> = HashMap::new();
        for e in executions
            .iter()
            .filter(|e| *e.status() != ExecutionStatus::Running)
        {
            let (d, input) = self.describe(e.execution_arn()).await;
            let obj = &input["detail"]["object"];
            let id = (
                obj["key"].as_str().unwrap_or_default().to_string(),
                obj["version-id"].as_str().unwrap_or_default().to_string(),
            );
            out.entry(id).or_default().push(Finished {
                arn: e.execution_arn().to_string(),
                status: d.status().clone(),
                output: serde_json::from_str(d.output().unwrap_or("null")).unwrap_or(Value::Null),
                error: d.error().unwrap_or_default().to_string(),
                cause: d.cause().unwrap_or_default().to_string(),
            });
        }
        out
    }

    /// Waits until every (key, version, count) has `count` finished
    /// executions; returns them in the same order.
    pub async fn wait_for_all(
        &self,
        wanted: &[(&str, &str, usize)],
        within: Duration,
    ) -> Vec<Vec<Finished>> {
        let deadline = Instant::now() + within;
        loop {
            let mut all = self.finished_executions().await;
            let ready = wanted.iter().all(|(k, v, n)| {
                all.get(&(k.to_string(), v.to_string())).map_or(0, Vec::len) >= *n
            });
            if ready {
                return wanted
                    .iter()
                    .map(|(k, v, _)| {
                        all.remove(&(k.to_string(), v.to_string()))
                            .unwrap_or_default()
                    })
                    .collect();
            }
            assert!(
                Instant::now() < deadline,
                "not every execution finished within {within:?}: {wanted:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits for the execution(s) of (key, version) to finish; `count` of them.
    pub async fn wait_for(&self, key: &str, version: &str, count: usize) -> Vec<Finished> {
        self.wait_for_all(&[(key, version, count)], Duration::from_secs(90))
            .await
            .remove(0)
    }

    /// Waits for one successful execution and returns the job id it created.
    pub async fn job_for(&self, key: &str, version: &str) -> String {
        let done = self.wait_for(key, version, 1).await;
        let f = &done[0];
        f.assert_succeeded();
        f.output["job"]["jobId"]
            .as_str()
            .expect("job id in the output")
            .to_string()
    }
}
