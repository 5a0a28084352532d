//! Clients, and finding the pipeline's executions and jobs.

use crate::args::{GlobalArgs, StackDefaults};
use crate::error::{aws, CliError};
use aws_sdk_sfn::types::{ExecutionStatus, HistoryEvent};
use ota_aws::{collect_all, found};
use ota_core::PipelineState;
use serde_json::Value;

/// The tags template.yaml puts on the state machine, and the stack
/// parameter (or resource) each one carries; the infrastructure tests hold
/// the template to this list.
pub const PIPELINE_TAGS: &[(&str, &str)] = &[
    (TAG_FIRMWARE_BUCKET, "FirmwareBucket"),
    (TAG_UPLOAD_PREFIX, "UploadPrefix"),
    (TAG_SIGNED_PREFIX, "SignedPrefix"),
    (TAG_MANIFEST_PREFIX, "ManifestPrefix"),
    (TAG_MAX_SIGNING_WAIT_SECONDS, "MaxSigningWaitSeconds"),
    (TAG_DEFAULT_SIGNING_PROFILE, "DefaultSigningProfile"),
    (TAG_DEFAULT_TARGETS, "DefaultTargets"),
    (TAG_DEFAULT_PROTOCOLS, "DefaultProtocols"),
];
pub const TAG_FIRMWARE_BUCKET: &str = "ota:firmware-bucket";
pub const TAG_UPLOAD_PREFIX: &str = "ota:upload-prefix";
pub const TAG_SIGNED_PREFIX: &str = "ota:signed-prefix";
pub const TAG_MANIFEST_PREFIX: &str = "ota:manifest-prefix";
pub const TAG_MAX_SIGNING_WAIT_SECONDS: &str = "ota:max-signing-wait-seconds";
pub const TAG_DEFAULT_SIGNING_PROFILE: &str = "ota:default-signing-profile";
pub const TAG_DEFAULT_TARGETS: &str = "ota:default-targets";
pub const TAG_DEFAULT_PROTOCOLS: &str = "ota:default-protocols";

/// The clients one command needs, from one shared config.
pub struct Clients {
    pub region: String,
    pub s3: aws_sdk_s3::Client,
    /// For start-signing's profile check, before an upload.
    pub signer: aws_sdk_signer::Client,
    pub sfn: aws_sdk_sfn::Client,
    pub iot: aws_sdk_iot::Client,
}

impl Clients {
    /// Standard credential and region resolution; `--endpoint-url` (or
    /// AWS_ENDPOINT_URL, which aws-config also reads) for every service.
    pub async fn new(g: &GlobalArgs) -> Result<Clients, CliError> {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(r) = &g.region {
            loader = loader.region(aws_config::Region::new(r.clone()));
        }
        if let Some(e) = &g.endpoint_url {
            loader = loader.endpoint_url(e);
        }
        let config = loader.load().await;
        let region = config.region().map(|r| r.to_string()).ok_or_else(|| {
            CliError::Usage(
                "no AWS region: pass --region or set AWS_REGION (or a region in your AWS profile)"
                    .into(),
            )
        })?;
        // A custom endpoint (an emulator, a proxy) seldom serves
        // virtual-hosted bucket names; path style works on every S3.
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&config)
                .force_path_style(g.endpoint_url.is_some())
                .build(),
        );
        Ok(Clients {
            region,
            s3,
            signer: aws_sdk_signer::Client::new(&config),
            sfn: aws_sdk_sfn::Client::new(&config),
            iot: aws_sdk_iot::Client::new(&config),
        })
    }

    /// The pipeline's state machine: `--state-machine`, or the only state
    /// machine whose name contains OtaUpdateStateMachine (CloudFormation
    /// names it after the template's logical id, with the stack name and a
    /// random suffix around it).
    pub async fn state_machine(&self, g: &GlobalArgs) -> Result<String, CliError> {
        if let Some(arn) = &g.state_machine {
            return Ok(arn.clone());
        }
        let machines = collect_all(
            self.sfn
                .list_state_machines()
                .into_paginator()
                .items()
                .send(),
        )
        .await
        .map_err(aws("ListStateMachines"))?;
        let ours: Vec<String> = machines
            .iter()
            .filter(|m| m.name().contains("OtaUpdateStateMachine"))
            .map(|m| m.state_machine_arn().to_string())
            .collect();
        match ours.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(CliError::NotFound(format!(
                "no OTA pipeline state machine in {}: deploy the stack, or pass --state-machine (stack output StateMachineArn)",
                self.region
            ))),
            many => Err(CliError::Usage(format!(
                "{} OTA pipeline state machines in {}: pass --state-machine (stack output StateMachineArn) to pick one",
                many.len(),
                self.region
            ))),
        }
    }

    /// The deployed pipeline: its state machine and what the template tags it
    /// with (bucket, upload prefix, stack defaults).
    pub async fn pipeline(&self, g: &GlobalArgs) -> Result<Pipeline, CliError> {
        let state_machine = self.state_machine(g).await?;
        let out = self
            .sfn
            .list_tags_for_resource()
            .resource_arn(&state_machine)
            .send()
            .await
            .map_err(aws("ListTagsForResource"))?;
        let tag = |k: &str| {
            out.tags()
                .iter()
                .find(|t| t.key() == Some(k))
                .and_then(|t| t.value())
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        Ok(Pipeline {
            bucket: tag(TAG_FIRMWARE_BUCKET),
            upload_prefix: tag(TAG_UPLOAD_PREFIX),
            signed_prefix: tag(TAG_SIGNED_PREFIX),
            manifest_prefix: tag(TAG_MANIFEST_PREFIX),
            max_signing_wait_seconds: tag(TAG_MAX_SIGNING_WAIT_SECONDS)
                .and_then(|v| v.parse().ok()),
            defaults: StackDefaults {
                default_signing_profile: tag(TAG_DEFAULT_SIGNING_PROFILE),
                default_targets: tag(TAG_DEFAULT_TARGETS),
                default_protocols: tag(TAG_DEFAULT_PROTOCOLS),
            },
            state_machine,
        })
    }

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

/// The deployed pipeline, as its state machine's tags describe it.
#[derive(Debug, Clone)]
pub struct Pipeline {
    pub state_machine: String,
    pub bucket: Option<String>,
    pub upload_prefix: Option<String>,
    pub signed_prefix: Option<String>,
    pub manifest_prefix: Option<String>,
    /// How long the pipeline waits for the signer (MaxSigningWaitSeconds).
    pub max_signing_wait_seconds: Option<u64>,
    pub defaults: StackDefaults,
}

impl Pipeline {
    /// `--bucket`, or the pipeline's. Another bucket than the pipeline's
    /// is refused: nothing watches it, an upload there starts nothing.
    pub fn bucket(&self, given: Option<&String>) -> Result<String, CliError> {
        match (given, &self.bucket) {
            (Some(g), Some(ours)) if g != ours => Err(CliError::Usage(format!(
                "{g} is not the pipeline's bucket ({ours}): an upload there starts nothing (check --bucket and OTA_BUCKET)"
            ))),
            (Some(g), _) => Ok(g.clone()),
            (None, Some(ours)) => Ok(ours.clone()),
            (None, None) => Err(CliError::Usage(format!(
                "pass --bucket: the state machine {} does not say which bucket is the pipeline's",
                self.state_machine
            ))),
        }
    }

    /// The manifest prefix (the stack parameter's default when the state
    /// machine does not say).
    pub fn manifest_prefix(&self) -> &str {
        self.manifest_prefix.as_deref().unwrap_or("manifests/")
    }

    /// Refuses a key the pipeline would not run for: outside the upload
    /// prefix, or inside the signer's output prefix.
    pub fn check_key(&self, key: &str) -> Result<(), CliError> {
        if let Some(prefix) = &self.upload_prefix {
            if !key.starts_with(prefix.as_str()) {
                return Err(CliError::Usage(format!(
                    "{key} is not under the pipeline's upload prefix {prefix}: the upload would start nothing"
                )));
            }
        }
        if let Some(signed) = &self.signed_prefix {
            if key.starts_with(signed.as_str()) {
                return Err(CliError::Usage(format!(
                    "{key} is under the signer's output prefix {signed}: the pipeline ignores it"
                )));
            }
        }
        Ok(())
    }
}

/// An object version the command uploaded.
pub struct Uploaded {
    pub bucket: String,
    pub key: String,
    pub version_id: String,
    pub size: u64,
    /// When S3 wrote the version (Unix seconds), if it said.
    pub uploaded_at: Option<i64>,
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

/// The IoT console page of a job.
pub fn console_url(region: &str, job_id: &str) -> String {
    format!("https://{region}.console.aws.amazon.com/iot/home?region={region}#/jobhub/jobdetails/{job_id}")
}
