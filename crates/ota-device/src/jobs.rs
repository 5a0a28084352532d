//! The three IoT Jobs device operations the agent uses, over either
//! transport: the HTTPS device API (`iot-jobs-data`, SigV4) or the reserved
//! MQTT topics (developer guide, "Jobs device MQTT API"):
//!
//! | operation | HTTPS | MQTT request topic (answer on `/accepted` or `/rejected`) |
//! |---|---|---|
//! | look at the next job | DescribeJobExecution `$next` | `$aws/things/T/jobs/$next/get` |
//! | start it | StartNextPendingJobExecution | `$aws/things/T/jobs/start-next` |
//! | report | UpdateJobExecution | `$aws/things/T/jobs/JOB/update` |
//!
//! Over MQTT the document arrives as a JSON object (over HTTPS, a string).

use crate::mqtt::{MqttError, MqttLink};
use aws_sdk_iotjobsdataplane::types::JobExecutionStatus;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A job execution as the device sees it.
#[derive(Debug, Clone)]
pub struct Execution {
    pub job_id: String,
    pub document: Value,
    pub execution_number: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
#[error("{operation}: {message}")]
pub struct JobsError {
    pub operation: &'static str,
    pub message: String,
}

pub enum Jobs {
    Http(aws_sdk_iotjobsdataplane::Client),
    Mqtt {
        link: Arc<MqttLink>,
        timeout: Duration,
    },
}

fn sdk_err<E: std::error::Error + 'static>(
    operation: &'static str,
) -> impl Fn(aws_sdk_iotjobsdataplane::error::SdkError<E>) -> JobsError {
    move |e| JobsError {
        operation,
        message: aws_smithy_types::error::display::DisplayErrorContext(&e).to_string(),
    }
}

fn mqtt_err(operation: &'static str) -> impl Fn(MqttError) -> JobsError {
    move |e| JobsError {
        operation,
        message: e.to_string(),
    }
}

/// A client token no other request of this process uses (at most 64
/// characters, as AWS IoT allows).
fn client_token(thing: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let short: String = thing.chars().take(40).collect();
    format!("{short}-{}-{n}", std::process::id())
}

impl Jobs {
    /// The thing's next pending execution with its document, if any.
    pub async fn describe_next(&self, thing: &str) -> Result<Option<Execution>, JobsError> {
        const OP: &str = "DescribeJobExecution $next";
        match self {
            Jobs::Http(jobs) => {
                let next = jobs
                    .describe_job_execution()
                    .thing_name(thing)
                    .job_id("$next")
                    .include_job_document(true)
                    .send()
                    .await;
                let execution = match next {
                    Ok(out) => out.execution().cloned(),
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|s| s.is_resource_not_found_exception()) =>
                    {
                        None
                    }
                    Err(e) => return Err(sdk_err(OP)(e)),
                };
                Ok(execution.map(|e| Execution {
                    job_id: e.job_id().unwrap_or_default().to_string(),
                    document: serde_json::from_str(e.job_document().unwrap_or("{}"))
                        .unwrap_or(Value::Null),
                    execution_number: e.execution_number(),
                }))
            }
            Jobs::Mqtt { .. } => {
                let answer = self
                    .mqtt(OP, thing, "$next/get", json!({"includeJobDocument": true}))
                    .await?;
                Ok(execution_of(&answer))
            }
        }
    }

    /// Starts the next pending execution; the job id IoT started, if any.
    pub async fn start_next(
        &self,
        thing: &str,
        details: &[(&str, &str)],
    ) -> Result<Option<String>, JobsError> {
        const OP: &str = "StartNextPendingJobExecution";
        match self {
            Jobs::Http(jobs) => {
                let out = jobs
                    .start_next_pending_job_execution()
                    .thing_name(thing)
                    .set_status_details(Some(to_map(details)))
                    .send()
                    .await
                    .map_err(sdk_err(OP))?;
                Ok(out.execution().and_then(|e| e.job_id()).map(str::to_string))
            }
            Jobs::Mqtt { .. } => {
                let answer = self
                    .mqtt(
                        OP,
                        thing,
                        "start-next",
                        json!({"statusDetails": to_map(details)}),
                    )
                    .await?;
                Ok(execution_of(&answer).map(|e| e.job_id))
            }
        }
    }

    /// Reports `status` with `details` (values at most 1024 characters).
    pub async fn update(
        &self,
        thing: &str,
        job_id: &str,
        status: JobExecutionStatus,
        details: &[(&str, &str)],
    ) -> Result<(), JobsError> {
        const OP: &str = "UpdateJobExecution";
        match self {
            Jobs::Http(jobs) => {
                jobs.update_job_execution()
                    .thing_name(thing)
                    .job_id(job_id)
                    .status(status)
                    .set_status_details(Some(to_map(details)))
                    .send()
                    .await
                    .map_err(sdk_err(OP))?;
                Ok(())
            }
            Jobs::Mqtt { .. } => {
                let body = json!({"status": status.as_str(), "statusDetails": to_map(details)});
                self.mqtt(OP, thing, &format!("{job_id}/update"), body)
                    .await
                    .map(|_| ())
            }
        }
    }

    /// One request over MQTT: the accepted answer, or the rejected one as
    /// an error with its code and message.
    async fn mqtt(
        &self,
        operation: &'static str,
        thing: &str,
        suffix: &str,
        mut body: Value,
    ) -> Result<Value, JobsError> {
        let Jobs::Mqtt { link, timeout } = self else {
            return Err(JobsError {
                operation,
                message: "not an MQTT connection".into(),
            });
        };
        let token = client_token(thing);
        body["clientToken"] = Value::String(token.clone());
        let topic = format!("$aws/things/{thing}/jobs/{suffix}");
        let payload = serde_json::to_vec(&body).map_err(|e| JobsError {
            operation,
            message: e.to_string(),
        })?;
        let (answer_topic, answer) = link
            .request(topic, token, payload, *timeout)
            .await
            .map_err(mqtt_err(operation))?;
        let answer: Value = serde_json::from_slice(&answer).unwrap_or(Value::Null);
        if answer_topic.ends_with("/rejected") {
            return Err(JobsError {
                operation,
                message: format!(
                    "rejected: {} {}",
                    answer["code"].as_str().unwrap_or("?"),
                    answer["message"].as_str().unwrap_or_default()
                ),
            });
        }
        Ok(answer)
    }
}

fn to_map(details: &[(&str, &str)]) -> HashMap<String, String> {
    details
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The `execution` member of an accepted answer or a notify-next.
fn execution_of(answer: &Value) -> Option<Execution> {
    let e = answer.get("execution")?.as_object()?;
    let job_id = e.get("jobId")?.as_str()?.to_string();
    Some(Execution {
        job_id,
        document: e
            .get("jobDocument")
            .cloned()
            .unwrap_or(Value::Object(Map::new())),
        execution_number: e.get("executionNumber").and_then(Value::as_i64),
    })
}
