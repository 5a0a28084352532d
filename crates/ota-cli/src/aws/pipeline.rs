//! The deployed pipeline, found by its state machine, and what the template
//! tags that state machine with (bucket, prefixes, stack defaults).

use super::Clients;
use crate::args::{GlobalArgs, StackDefaults};
use crate::error::{aws, CliError};
use ota_aws::collect_all;

/// The tags template.yaml puts on the state machine, and the stack
/// parameter (or resource) each one carries; the infrastructure tests hold
/// the template to this list.
pub const PIPELINE_TAGS: &[(&str, &str)] = &[
    (TAG_FIRMWARE_BUCKET, "FirmwareBucket"),
    (TAG_UPLOAD_PREFIX, "UploadPrefix"),
    (TAG_SIGNED_PREFIX, "SignedPrefix"),
    (TAG_MANIFEST_PREFIX, "ManifestPrefix"),
    (TAG_RELEASE_PREFIX, "ReleasePrefix"),
    (TAG_MAX_SIGNING_WAIT_SECONDS, "MaxSigningWaitSeconds"),
    (TAG_DEFAULT_SIGNING_PROFILE, "DefaultSigningProfile"),
    (TAG_DEFAULT_TARGETS, "DefaultTargets"),
    (TAG_DEFAULT_PROTOCOLS, "DefaultProtocols"),
    (TAG_DEFAULT_DOCUMENT_FORMAT, "DefaultDocumentFormat"),
    (TAG_DEFAULT_DEVICES, "DefaultDevices"),
];
pub const TAG_FIRMWARE_BUCKET: &str = "ota:firmware-bucket";
pub const TAG_UPLOAD_PREFIX: &str = "ota:upload-prefix";
pub const TAG_SIGNED_PREFIX: &str = "ota:signed-prefix";
pub const TAG_MANIFEST_PREFIX: &str = "ota:manifest-prefix";
pub const TAG_RELEASE_PREFIX: &str = "ota:release-prefix";
pub const TAG_MAX_SIGNING_WAIT_SECONDS: &str = "ota:max-signing-wait-seconds";
pub const TAG_DEFAULT_SIGNING_PROFILE: &str = "ota:default-signing-profile";
pub const TAG_DEFAULT_TARGETS: &str = "ota:default-targets";
pub const TAG_DEFAULT_PROTOCOLS: &str = "ota:default-protocols";
pub const TAG_DEFAULT_DOCUMENT_FORMAT: &str = "ota:default-document-format";
pub const TAG_DEFAULT_DEVICES: &str = "ota:default-devices";

impl Clients {
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
            release_prefix: tag(TAG_RELEASE_PREFIX),
            max_signing_wait_seconds: tag(TAG_MAX_SIGNING_WAIT_SECONDS)
                .and_then(|v| v.parse().ok()),
            defaults: StackDefaults {
                default_signing_profile: tag(TAG_DEFAULT_SIGNING_PROFILE),
                default_targets: tag(TAG_DEFAULT_TARGETS),
                default_protocols: tag(TAG_DEFAULT_PROTOCOLS),
                default_document_format: tag(TAG_DEFAULT_DOCUMENT_FORMAT),
                default_devices: tag(TAG_DEFAULT_DEVICES),
            },
            state_machine,
        })
    }
}

/// The deployed pipeline, as its state machine's tags describe it.
#[derive(Debug, Clone)]
pub struct Pipeline {
    pub state_machine: String,
    pub bucket: Option<String>,
    pub upload_prefix: Option<String>,
    pub signed_prefix: Option<String>,
    pub manifest_prefix: Option<String>,
    /// Where release manifests (multi-file updates) go (ReleasePrefix).
    pub release_prefix: Option<String>,
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
    /// prefix, or inside the signer's output or manifest prefix.
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
        if key.starts_with(self.manifest_prefix()) {
            return Err(CliError::Usage(format!(
                "{key} is under the pipeline's manifest prefix {}: the pipeline refuses it as firmware",
                self.manifest_prefix()
            )));
        }
        Ok(())
    }
}
