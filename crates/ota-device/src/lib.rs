//! A reference device agent for the pipeline's jobs, for canaries and
//! tests: it takes the next job the way a device does, judges the document
//! with the acceptance rules of the device library it stands in for
//! (ota_core::devices), downloads the file, checks it and reports.
//!
//! Transport ([`jobs`]): the IoT Jobs device API over HTTPS
//! (`iot-jobs-data`, SigV4 from the usual credential chain), or its MQTT
//! topics over a [`mqtt::MqttLink`] (mutual TLS, or WebSocket signed with
//! SigV4), which also carries MQTT file streams ([`mqtt::stream`]). Over
//! HTTPS only, a job the library would stream is left untouched
//! ([`AgentError::MqttOnly`]).
//!
//! The steps, one module each: [`plan`] (the document -> what to fetch and
//! check), [`download`] (HTTP with Range resume), [`verify`] (size and
//! signature).

pub mod download;
pub mod jobs;
pub mod mqtt;
pub mod plan;
pub mod verify;

use aws_sdk_iotjobsdataplane::types::JobExecutionStatus;
use ota_core::devices::DeviceFamily;
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
    /// Which files of an afr_ota document to take (the first, or every
    /// one as a Jobs-parser application iterating the files would).
    pub files: plan::Files,
}

/// One file downloaded and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDone {
    /// Where it was written.
    pub path: PathBuf,
    /// How it was checked: `signature` or `size`.
    pub checked: &'static str,
    /// What the MQTT stream download took (None: it came over HTTP).
    pub streamed: Option<mqtt::stream::StreamStats>,
    /// Over HTTP: the byte offsets Range requests resumed from after a
    /// dropped connection.
    pub resumed_at: Vec<u64>,
}

/// How a job ended for this device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing pending for the thing.
    NoJob,
    /// Reported SUCCEEDED: every file taken was written and checked, in
    /// the document's order.
    Succeeded {
        job_id: String,
        files: Vec<FileDone>,
    },
    /// Reported FAILED, with the reason sent in statusDetails.
    Failed { job_id: String, reason: String },
}

impl Outcome {
    /// The file of a job that succeeded with exactly one.
    pub fn only_file(&self) -> Option<&FileDone> {
        match self {
            Outcome::Succeeded { files, .. } if files.len() == 1 => files.first(),
            _ => None,
        }
    }
}

/// What the agent is doing, for a person watching (`ota device` prints
/// one line per step).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The document passed the family's rules; the job is IN_PROGRESS.
    Started { job_id: String },
    /// The download began (`from`: the stream or the URL's host).
    Downloading {
        job_id: String,
        from: String,
        size: u64,
    },
    /// A progress update was sent (percent of the file).
    Progress { job_id: String, percent: u64 },
    /// A file is written and was checked (`checked`: signature or size).
    Verified {
        job_id: String,
        file_name: String,
        checked: &'static str,
    },
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Step::Started { job_id } => write!(f, "{job_id}: document accepted, IN_PROGRESS"),
            Step::Downloading { job_id, from, size } => {
                write!(f, "{job_id}: downloading {size} bytes from {from}")
            }
            Step::Progress { job_id, percent } => write!(f, "{job_id}: {percent}%"),
            Step::Verified {
                job_id,
                file_name,
                checked,
            } => write!(f, "{job_id}: {file_name}: {checked} verified"),
        }
    }
}

/// Called with each step.
pub type StepHook = std::sync::Arc<dyn Fn(&Step) + Send + Sync>;

/// Why the agent could not run a job (nothing was reported for it).
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("{operation}: {message}")]
    Jobs {
        operation: &'static str,
        message: String,
    },
    #[error("job {0} would be downloaded over its MQTT stream, and this agent is connected over HTTPS only; the job was left pending")]
    MqttOnly(String),
    /// The library would hand this job to the application, not update
    /// (the FreeRTOS agent's custom-job callback): left pending for it.
    #[error("job {0} is not an update in this family's document format; it was left pending for the application")]
    NotAnUpdate(String),
    #[error("{0}")]
    Setup(String),
}

fn jobs_error(e: jobs::JobsError) -> AgentError {
    AgentError::Jobs {
        operation: e.operation,
        message: e.message,
    }
}

/// The agent: its Jobs transport and what it is.
pub struct Agent {
    pub jobs: jobs::Jobs,
    pub config: DeviceConfig,
    pub http: download::Http,
    /// The MQTT connection, for streams (None: HTTPS only).
    pub mqtt: Option<std::sync::Arc<mqtt::MqttLink>>,
    pub stream: mqtt::stream::StreamOptions,
    /// Told each step (None: the steps are only traced).
    pub on_step: Option<StepHook>,
}

impl Agent {
    fn step(&self, step: Step) {
        tracing::info!(%step, "step");
        if let Some(hook) = &self.on_step {
            hook(&step);
        }
    }

    /// An agent on the HTTPS Jobs device API (downloads over HTTP only).
    pub fn new(
        jobs: aws_sdk_iotjobsdataplane::Client,
        config: DeviceConfig,
    ) -> Result<Agent, AgentError> {
        Ok(Agent {
            jobs: jobs::Jobs::Http(jobs),
            config,
            http: download::Http::new()?,
            mqtt: None,
            stream: mqtt::stream::StreamOptions::default(),
            on_step: None,
        })
    }

    /// An agent on MQTT: the Jobs topics, and MQTT file streams.
    pub fn over_mqtt(
        link: std::sync::Arc<mqtt::MqttLink>,
        config: DeviceConfig,
        stream: mqtt::stream::StreamOptions,
    ) -> Result<Agent, AgentError> {
        let timeout = stream.request_timeout;
        Ok(Agent {
            jobs: jobs::Jobs::Mqtt {
                link: link.clone(),
                timeout,
            },
            config,
            http: download::Http::new()?,
            mqtt: Some(link),
            stream,
            on_step: None,
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
            .describe_next(&self.config.thing)
            .await
            .map_err(jobs_error)?;
        let Some(execution) = next else {
            return Ok(Outcome::NoJob);
        };
        let job_id = execution.job_id.clone();
        tracing::Span::current().record("job_id", job_id.as_str());
        let document = execution.document;
        let judged = plan::plan_files(
            self.config.family,
            &self.config.nrf_limits,
            &job_id,
            &document,
            self.mqtt.is_some(),
            self.config.files,
        );
        match judged {
            Err(plan::Refusal::MqttOnly) => return Err(AgentError::MqttOnly(job_id)),
            Err(plan::Refusal::NotAnUpdate) => return Err(AgentError::NotAnUpdate(job_id)),
            _ => {}
        }
        self.start(&job_id).await?;
        let plans = match judged {
            Ok(p) if !p.is_empty() => p,
            Ok(_) => {
                return self
                    .fail(&job_id, "the document lists no files".into())
                    .await
            }
            Err(r) => return self.fail(&job_id, r.to_string()).await,
        };
        self.step(Step::Started {
            job_id: job_id.clone(),
        });
        let mut progress = Progress {
            total: plans.iter().map(|p| p.size).sum::<u64>().max(1),
            before: 0,
            reported: 0,
            step: self.config.progress_step_percent.max(1),
        };
        let mut files: Vec<FileDone> = Vec::new();
        for plan in &plans {
            match self.take_file(&job_id, plan, &mut progress).await {
                Ok(done) => files.push(done),
                Err(reason) => {
                    // Nothing unverified is left where the device would
                    // boot it: not this file, not the ones before it.
                    for f in &files {
                        let _ = tokio::fs::remove_file(&f.path).await;
                    }
                    return self.fail(&job_id, reason).await;
                }
            }
        }
        let checked = files[0].checked;
        let count = files.len().to_string();
        self.report(
            &job_id,
            JobExecutionStatus::Succeeded,
            &[("checked", checked), ("files", &count)],
        )
        .await?;
        tracing::info!(checked, files = files.len(), "succeeded");
        Ok(Outcome::Succeeded { job_id, files })
    }

    /// Downloads one file of the job and checks it; the reason to report
    /// FAILED otherwise (the file is then removed).
    async fn take_file(
        &self,
        job_id: &str,
        plan: &plan::Plan,
        progress: &mut Progress,
    ) -> Result<FileDone, String> {
        self.step(Step::Downloading {
            job_id: job_id.to_string(),
            from: plan.source_shown(),
            size: plan.size,
        });
        let path = self.config.out_dir.join(&plan.file_name);
        let on_bytes = async |done: u64| {
            if let Some(percent) = progress.crossed(done) {
                self.progress(job_id, percent).await;
            }
        };
        let downloaded = match (&plan.source, &self.mqtt) {
            (plan::Source::Http { url }, _) => self
                .http
                .fetch(url, &path, plan.size, on_bytes)
                .await
                .map(|resumed| (None, resumed)),
            (plan::Source::Stream { stream, file_id }, Some(link)) => mqtt::stream::download(
                link,
                stream,
                *file_id,
                plan.size,
                &path,
                &self.stream,
                on_bytes,
            )
            .await
            .map(|stats| {
                tracing::info!(?stats, "streamed");
                (Some(stats), Vec::new())
            }),
            (plan::Source::Stream { .. }, None) => Err("no MQTT connection".to_string()),
        };
        progress.before += plan.size;
        let checked = match downloaded {
            Ok(d) => verify::check(plan, &path, self.config.signer_cert.as_deref())
                .await
                .map(|checked| (d, checked)),
            Err(e) => Err(format!("download failed: {e}")),
        };
        match checked {
            Ok(((streamed, resumed_at), checked)) => {
                self.step(Step::Verified {
                    job_id: job_id.to_string(),
                    file_name: plan.file_name.clone(),
                    checked,
                });
                Ok(FileDone {
                    path,
                    checked,
                    streamed,
                    resumed_at,
                })
            }
            Err(reason) => {
                let _ = tokio::fs::remove_file(&path).await;
                Err(reason)
            }
        }
    }

    /// StartNextPendingJobExecution: the job becomes IN_PROGRESS for this
    /// thing (the one DescribeJobExecution showed: the queue's head).
    async fn start(&self, job_id: &str) -> Result<(), AgentError> {
        let started = self
            .jobs
            .start_next(&self.config.thing, &[("progress", "0%")])
            .await
            .map_err(jobs_error)?
            .unwrap_or_default();
        let started = started.as_str();
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
        self.step(Step::Progress {
            job_id: job_id.to_string(),
            percent,
        });
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
        self.jobs
            .update(&self.config.thing, job_id, status, details)
            .await
            .map_err(jobs_error)
    }
}

/// Progress over every file of a job: a percent is reported each time the
/// bytes done cross another `step`, short of 100 (SUCCEEDED says that).
struct Progress {
    total: u64,
    /// The bytes of the files before this one.
    before: u64,
    reported: u64,
    step: u64,
}

impl Progress {
    /// The percent to report now that `done` bytes of this file are in.
    fn crossed(&mut self, done: u64) -> Option<u64> {
        let percent = (self.before + done) * 100 / self.total;
        if percent >= self.reported + self.step && percent < 100 {
            self.reported = percent - percent % self.step;
            return Some(self.reported);
        }
        None
    }
}
