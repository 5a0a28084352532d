//! make-stream: the signed object -> size, signature, algorithm; CreateStream
//! over the exact uploaded version ([`make`]). Also the state machine's Clean
//! Up step ([`clean_up`]): it removes a stream this execution created when no
//! job was created, and the draft package version it registered; and the scheduled clean-up sweep ([`sweep`]): a job's
//! stream and signed object once the job has ended. And the
//! `PackageShadowUpdates` stack option's custom resource ([`package_shadow`],
//! answered through [`custom_resource`]).

pub mod clean_up;
pub mod custom_resource;
pub mod make;
pub mod package_shadow;
pub mod sweep;

use ota_core::{OtaError, PipelineState};
use serde::{Deserialize, Serialize};

pub struct Deps {
    pub s3: aws_sdk_s3::Client,
    pub iot: aws_sdk_iot::Client,
    /// The role IoT assumes to read the firmware for the stream.
    pub ota_role_arn: String,
    /// The sweep: which jobs carry a tag (GetResources).
    pub tagging: aws_sdk_resourcegroupstagging::Client,
    /// The sweep: where a signing job put its output (DescribeSigningJob).
    pub signer: aws_sdk_signer::Client,
    /// The sweep: "OTA Update Completed" (PutEvents).
    pub events: aws_sdk_eventbridge::Client,
    /// PackageShadowUpdates: the answer to CloudFormation, and how long to
    /// wait for IAM to settle.
    pub package_shadow: package_shadow::Settings,
}

/// What the state machine sends: the pipeline state, or (from the Clean Up
/// step) `{"cleanUp": {"state": ...}}`; or, from the CleanUpSchedule,
/// `{"sweep": {}}`; or, from CloudFormation, the PackageShadowUpdatesSetting
/// custom resource's request (`RequestType`, `ResponseURL`...).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum MakeStreamInput {
    CleanUp {
        #[serde(rename = "cleanUp")]
        clean_up: CleanUpRequest,
    },
    Sweep {
        sweep: SweepRequest,
    },
    PackageShadow(Box<custom_resource::CustomResourceRequest>),
    Make(Box<PipelineState>),
}

/// The sweep takes no parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepRequest {}

impl ota_lambda::RunSpan for MakeStreamInput {
    fn run_span(&self) -> tracing::Span {
        match self {
            MakeStreamInput::Make(s) => s.run_span(),
            MakeStreamInput::Sweep { .. } => tracing::info_span!("run", mode = "sweep"),
            MakeStreamInput::PackageShadow(r) => tracing::info_span!(
                "run",
                mode = "package-shadow-updates",
                request_type = ?r.request_type,
                stack_id = %r.stack_id,
                request_id = %r.request_id
            ),
            MakeStreamInput::CleanUp { clean_up } => {
                // A pipeline state, or the original event when start-signing
                // failed: take the ids from wherever they are.
                let v = &clean_up.state;
                let at = |paths: &[&str]| {
                    paths
                        .iter()
                        .find_map(|p| v.pointer(p).and_then(|x| x.as_str()))
                        .map(str::to_string)
                };
                tracing::info_span!(
                    "step",
                    step = "run",
                    bucket = at(&["/source/bucket", "/event/detail/bucket/name"]),
                    key = at(&["/source/key", "/event/detail/object/key"]),
                    version_id = at(&["/source/versionId", "/event/detail/object/version-id"]),
                    execution_id = at(&["/executionId"]),
                    job_id = at(&["/request/jobId"])
                )
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct CleanUpRequest {
    /// Whatever state the failed step had: a full pipeline state, or the
    /// original event when start-signing itself failed.
    pub state: serde_json::Value,
}

#[derive(Debug, Serialize, PartialEq)]
#[serde(untagged)]
pub enum MakeStreamOutput {
    Made(Box<PipelineState>),
    CleanedUp(CleanUpReport),
    Swept(sweep::SweepReport),
    PackageShadow(package_shadow::PackageShadowReport),
}

#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CleanUpReport {
    /// The stream deleted, if any.
    pub deleted_stream: Option<String>,
    /// The draft package version deleted (`ota:register-package`), if any:
    /// `NAME@VERSION`. A published version is never deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_package_version: Option<String>,
    /// Why nothing (more) was deleted.
    pub note: String,
}

pub async fn handle(input: MakeStreamInput, deps: &Deps) -> Result<MakeStreamOutput, OtaError> {
    match input {
        MakeStreamInput::Make(state) => make::make(*state, deps)
            .await
            .map(|s| MakeStreamOutput::Made(Box::new(s))),
        MakeStreamInput::CleanUp { clean_up } => clean_up::clean_up_stream(clean_up, deps)
            .await
            .map(MakeStreamOutput::CleanedUp),
        MakeStreamInput::Sweep { .. } => sweep::sweep(deps).await.map(MakeStreamOutput::Swept),
        MakeStreamInput::PackageShadow(request) => package_shadow::answer(*request, deps)
            .await
            .map(MakeStreamOutput::PackageShadow),
    }
}
