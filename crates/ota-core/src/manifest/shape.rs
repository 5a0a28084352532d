//! The manifest's JSON shape, as serde reads it: CreateJob's field names,
//! no field it does not know (`deny_unknown_fields`), each value still raw
//! text or number for `fields` to check.

use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct Manifest {
    pub(super) targets: Option<Vec<String>>,
    pub(super) target_selection: Option<String>,
    pub(super) description: Option<String>,
    pub(super) protocols: Option<Vec<String>>,
    pub(super) file_path: Option<String>,
    pub(super) file_type: Option<i64>,
    pub(super) devices: Option<Vec<String>>,
    pub(super) document_format: Option<String>,
    pub(super) firmware_version: Option<String>,
    pub(super) signing_profile: Option<String>,
    pub(super) custom_code_signing: Option<CustomCodeSigning>,
    pub(super) timeout_config: Option<TimeoutConfig>,
    pub(super) job_executions_retry_config: Option<CriteriaList<RetryEntry>>,
    pub(super) scheduling_config: Option<SchedulingConfig>,
    pub(super) abort_config: Option<CriteriaList<AbortEntry>>,
    pub(super) job_executions_rollout_config: Option<RolloutConfig>,
    pub(super) presigned_url_config: Option<PresignedUrlConfig>,
    pub(super) destination_package_versions: Option<Vec<String>>,
    pub(super) register_package: Option<String>,
    pub(super) register_default: Option<bool>,
    pub(super) document_values: Option<String>,
    pub(super) job_id: Option<String>,
    /// Only in a release manifest (super::release).
    pub(super) files: Option<Vec<FileEntry>>,
}

/// One file of a release manifest.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct FileEntry {
    pub(super) key: String,
    pub(super) version_id: Option<String>,
    pub(super) file_path: Option<String>,
    pub(super) file_type: Option<i64>,
    pub(super) signing_profile: Option<String>,
    pub(super) custom_code_signing: Option<CustomCodeSigning>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct CustomCodeSigning {
    pub(super) signature: Option<String>,
    pub(super) signature_algorithm: Option<String>,
    pub(super) certfile: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct TimeoutConfig {
    pub(super) in_progress_timeout_in_minutes: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct CriteriaList<T> {
    pub(super) criteria_list: Vec<T>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct RetryEntry {
    pub(super) failure_type: String,
    pub(super) number_of_retries: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct AbortEntry {
    pub(super) failure_type: String,
    pub(super) action: String,
    pub(super) threshold_percentage: f64,
    pub(super) min_number_of_executed_things: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct SchedulingConfig {
    pub(super) start_time: Option<String>,
    pub(super) end_time: Option<String>,
    pub(super) end_behavior: Option<String>,
    pub(super) maintenance_windows: Option<Vec<WindowEntry>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct WindowEntry {
    pub(super) start_time: String,
    pub(super) duration_in_minutes: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct RolloutConfig {
    pub(super) maximum_per_minute: Option<i64>,
    pub(super) exponential_rate: Option<ExponentialEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct ExponentialEntry {
    pub(super) base_rate_per_minute: i64,
    pub(super) increment_factor: f64,
    pub(super) rate_increase_criteria: RateIncreaseEntry,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct RateIncreaseEntry {
    pub(super) number_of_notified_things: Option<i64>,
    pub(super) number_of_succeeded_things: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct PresignedUrlConfig {
    pub(super) expires_in_sec: i64,
}
