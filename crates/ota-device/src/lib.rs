//! A reference device agent for the pipeline's jobs, for canaries and
//! tests: it takes the next job the way a device does, judges the document
//! with the acceptance rules of the device library it stands in for
//! (ota_core::devices), downloads the file, checks it and reports.
//!
//! Transport: the IoT Jobs device API over HTTPS (`iot-jobs-data`:
//! DescribeJobExecution `$next`, StartNextPendingJobExecution,
//! UpdateJobExecution), signed with SigV4 from the usual credential chain.
//! The FreeRTOS agent speaks the same operations over MQTT topics; MQTT
//! (notify-next, mutual TLS) and MQTT file streams are not built yet, so a
//! job whose document offers only an MQTT stream is left untouched
//! ([`AgentError::MqttOnly`]).
//!
//! The steps, one module each: [`plan`] (the document -> what to fetch and
//! check), [`download`] (HTTP with Range resume), [`verify`] (size and
//! signature).

pub mod download;
pub mod plan;
pub mod verify;

use aws_sdk_iotjobsdataplane::types::JobExecutionStatus;
use ota_core::devices::DeviceFamily;
use std::collections::HashMap;
use std::path::PathBuf;
use tracing::Instrument;

/// What the agent was told about itself.
#[derive(Debug, Clone)]
pub struct DeviceConfig {
    pub thing: String,
    /// The device library it behaves as.
    pub family: DeviceFamily,
    /// The code-signing certificate (PEM), for afr_ota families.
    pub signer_cert: Option<Vec<u8>>,
    /// Where downloaded files go (the stand-in for flash).
    pub out_dir: PathBuf,
    /// How often a progress update is sent, in percent of the file.
    pub progress_step_percent: u64,
    /// As `nrf-aws-fota`: the Kconfig buffer sizes the device was built with.
    pub nrf_limits: ota_core::devices::NrfLimits,
}

/// How a job ended for this device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing pending for the thing.
    NoJob,
    /// Reported SUCCEEDED: the file is at `path`, `checked` says how it
    /// was checked (signature or size).
    Succeeded {
        job_id: String,
        path: PathBuf,
        checked: &'static str,
    },
    /// Reported FAILED, with the reason sent in statusDetails.
    Failed { job_id: String, reason: String },
}

/// Why the agent could not run a job (nothing was reported for it).
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("{operation}: {message}")]
    Jobs {
        operation: &'static str,
        message: String,
    },
    #[error("job {0} offers only an MQTT stream; this agent downloads over HTTP only (MQTT file streams are not built yet), so the job was left pending")]
    MqttOnly(String),
    /// The library would hand this job to the application, not update
    /// (the FreeRTOS agent's custom-job callback): left pending for it.
    #[error("job {0} is not an update in this family's document format; it was left pending for the application")]
    NotAnUpdate(String),
    #[error("{0}")]
    Setup(String),
}

fn jobs_err<E: std::error::Error + 'static>(
    operation: &'static str,
) -> impl Fn(aws_sdk_iotjobsdataplane::error::SdkError<E>) -> AgentError {
    move |e| AgentError::Jobs {
        operation,
        message: aws_smithy_types::error::display::DisplayErrorContext(&e).to_string(),
    }
}

/// The agent: the Jobs device client and what it is.
pub struct Agent {
    pub jobs: aws_sdk_iotjobsdataplane::Client,
    pub config: DeviceConfig,
    pub http: download::Http,
}

impl Agent {
    pub fn new(
        jobs: aws_sdk_iotjobsdataplane::Client,
        config: DeviceConfig,
    ) -> Result<Agent, AgentError> {
        Ok(Agent {
            jobs,
            config,
            http: download::Http::new()?,
        })
    }

    /// Takes the thing's next pending job, if any, and sees it through.
    pub async fn run_once(&self) -> Result<Outcome, AgentError> {
        let span = tracing::info_span!("device", thing = %self.config.thing, family = %self.config.family, job_id = tracing::field::Empty);
        self.run_once_in_span().instrument(span).await
    }

    async fn run_once_in_span(&self) -> Result<Outcome, AgentError> {
        // Look first (DescribeJobExecution of $next changes nothing), so a
        // job this agent cannot download is left for a real device.
        let next = self
            .jobs
            .describe_job_execution()
            .thing_name(&self.config.thing)
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
            Err(e) => return Err(jobs_err("DescribeJobExecution")(e)),
        };
        let Some(execution) = execution else {
            return Ok(Outcome::NoJob);
        };
        let job_id = execution.job_id().unwrap_or_default().to_string();
        tracing::Span::current().record("job_id", job_id.as_str());
        let text = execution.job_document().unwrap_or("{}");
        let document: serde_json::Value =
            serde_json::from_str(text).unwrap_or(serde_json::Value::Null);
        let judged = plan::plan(
            self.config.family,
            &self.config.nrf_limits,
            &job_id,
            &document,
        );
        match judged {
            Err(plan::Refusal::MqttOnly) => return Err(AgentError::MqttOnly(job_id)),
            Err(plan::Refusal::NotAnUpdate) => return Err(AgentError::NotAnUpdate(job_id)),
            _ => {}
        }
        self.start(&job_id).await?;
        let plan = match judged {
            Ok(p) => p,
            Err(r) => return self.fail(&job_id, r.to_string()).await,
        };
        tracing::info!(url_host = plan.url_host(), size = plan.size, "downloading");
        let path = self.config.out_dir.join(&plan.file_name);
        let step = self.config.progress_step_percent.max(1);
        let mut reported = 0u64;
        let size = plan.size.max(1);
        let downloaded = self
            .http
            .fetch(&plan.url, &path, plan.size, async |done: u64| {
                let percent = done * 100 / size;
                if percent >= reported + step && percent < 100 {
                    reported = percent - percent % step;
                    self.progress(&job_id, reported).await;
                }
            })
            .await;
        if let Err(e) = downloaded {
            // No partial image is left where the device would boot it.
            let _ = tokio::fs::remove_file(&path).await;
            return self.fail(&job_id, format!("download failed: {e}")).await;
        }
        match verify::check(&plan, &path, self.config.signer_cert.as_deref()).await {
            Ok(checked) => {
                self.report(
                    &job_id,
                    JobExecutionStatus::Succeeded,
                    &[("checked", checked)],
                )
                .await?;
                tracing::info!(checked, path = %path.display(), "succeeded");
                Ok(Outcome::Succeeded {
                    job_id,
                    path,
                    checked,
                })
            }
            Err(reason) => {
                // Nothing unverified is left where the device would boot it.
                let _ = tokio::fs::remove_file(&path).await;
                self.fail(&job_id, reason).await
            }
        }
    }

    /// StartNextPendingJobExecution: the job becomes IN_PROGRESS for this
    /// thing (the one DescribeJobExecution showed: the queue's head).
    async fn start(&self, job_id: &str) -> Result<(), AgentError> {
        let out = self
            .jobs
            .start_next_pending_job_execution()
            .thing_name(&self.config.thing)
            .status_details("progress", "0%")
            .send()
            .await
            .map_err(jobs_err("StartNextPendingJobExecution"))?;
        let started = out.execution().and_then(|e| e.job_id()).unwrap_or_default();
        if started != job_id {
            // The queue changed between the look and the start: the job
            // IoT started was never judged, so it is not left IN_PROGRESS.
            let reason = format!("the agent looked at job {job_id} but IoT started this one; it was not judged, run the agent again");
            if !started.is_empty() {
                self.report(started, JobExecutionStatus::Failed, &[("reason", &reason)])
                    .await?;
            }
            return Err(AgentError::Setup(format!(
                "started job {started}, but the next job was {job_id} (the queue changed); {started} was reported FAILED"
            )));
        }
        Ok(())
    }

    async fn progress(&self, job_id: &str, percent: u64) {
        let details = format!("{percent}%");
        if let Err(e) = self
            .report(
                job_id,
                JobExecutionStatus::InProgress,
                &[("progress", &details)],
            )
            .await
        {
            // Progress is informative: the download goes on.
            tracing::warn!(error = %e, "progress update failed");
        }
    }

    async fn fail(&self, job_id: &str, reason: String) -> Result<Outcome, AgentError> {
        tracing::warn!(%reason, "failed");
        // statusDetails values are at most 1024 characters.
        let shown: String = reason.chars().take(1000).collect();
        self.report(job_id, JobExecutionStatus::Failed, &[("reason", &shown)])
            .await?;
        Ok(Outcome::Failed {
            job_id: job_id.to_string(),
            reason,
        })
    }

    async fn report(
        &self,
        job_id: &str,
        status: JobExecutionStatus,
        details: &[(&str, &str)],
    ) -> Result<(), AgentError> {
        let details: HashMap<String, String> = details
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.jobs
            .update_job_execution()
            .thing_name(&self.config.thing)
            .job_id(job_id)
            .status(status)
            .set_status_details(Some(details))
            .send()
            .await
            .map_err(jobs_err("UpdateJobExecution"))?;
        Ok(())
    }
}
