//! The request's advanced configuration as CreateJob's fields, one builder
//! per block (each only when the request sets it).

use aws_sdk_iot::operation::create_job::builders::CreateJobFluentBuilder;
use aws_sdk_iot::types::{
    AbortAction, AbortConfig, AbortCriteria, ExponentialRolloutRate, JobEndBehavior,
    JobExecutionFailureType, JobExecutionsRetryConfig, JobExecutionsRolloutConfig,
    MaintenanceWindow, PresignedUrlConfig, RateIncreaseCriteria, RetryCriteria,
    RetryableFailureType, SchedulingConfig, TargetSelection, TimeoutConfig,
};
use ota_core::request::Schedule;
use ota_core::values::{AbortCriterion, RateIncrease, RetryCriterion, Rollout};
use ota_core::{OtaError, OtaRequest};

pub(crate) fn build_err(
    what: &str,
) -> impl Fn(aws_smithy_types::error::operation::BuildError) -> OtaError + '_ {
    move |e| OtaError::Internal(format!("building {what}: {e}"))
}

/// Adds every configured field of the request to CreateJob.
pub fn configure(
    mut call: CreateJobFluentBuilder,
    req: &OtaRequest,
    ota_role_arn: &str,
) -> Result<CreateJobFluentBuilder, OtaError> {
    call = call
        .job_id(&req.job_id)
        .description(&req.description)
        .target_selection(TargetSelection::from(req.target_selection.as_str()));
    for t in &req.targets {
        call = call.targets(t);
    }
    if let Some(m) = req.timeout_minutes {
        call = call.timeout_config(
            TimeoutConfig::builder()
                .in_progress_timeout_in_minutes(i64::from(m))
                .build(),
        );
    }
    if !req.retry.is_empty() {
        call = call.job_executions_retry_config(retry_config(&req.retry)?);
    }
    if let Some(s) = &req.schedule {
        call = call.scheduling_config(scheduling_config(s)?);
    }
    if !req.abort.is_empty() {
        call = call.abort_config(abort_config(&req.abort)?);
    }
    if let Some(r) = &req.rollout {
        call = call.job_executions_rollout_config(rollout_config(r)?);
    }
    if let Some(secs) = req.presigned_expiry_seconds {
        call = call.presigned_url_config(
            PresignedUrlConfig::builder()
                .role_arn(ota_role_arn)
                .expires_in_sec(i64::from(secs))
                .build(),
        );
    }
    for p in &req.package_versions {
        call = call.destination_package_versions(p);
    }
    Ok(call)
}

fn retry_config(list: &[RetryCriterion]) -> Result<JobExecutionsRetryConfig, OtaError> {
    let mut b = JobExecutionsRetryConfig::builder();
    for c in list {
        b = b.criteria_list(
            RetryCriteria::builder()
                .failure_type(RetryableFailureType::from(c.failure_type.as_str()))
                .number_of_retries(c.number_of_retries as i32)
                .build()
                .map_err(build_err("RetryCriteria"))?,
        );
    }
    b.build().map_err(build_err("JobExecutionsRetryConfig"))
}

fn scheduling_config(s: &Schedule) -> Result<SchedulingConfig, OtaError> {
    let mut b = SchedulingConfig::builder();
    if let Some(t) = &s.start_time {
        b = b.start_time(t);
    }
    if let Some(t) = &s.end_time {
        b = b.end_time(t);
    }
    if let Some(e) = s.end_behavior {
        b = b.end_behavior(JobEndBehavior::from(e.as_str()));
    }
    for w in &s.maintenance_windows {
        b = b.maintenance_windows(
            MaintenanceWindow::builder()
                .start_time(&w.start_time)
                .duration_in_minutes(w.duration_in_minutes as i32)
                .build()
                .map_err(build_err("MaintenanceWindow"))?,
        );
    }
    Ok(b.build())
}

fn abort_config(list: &[AbortCriterion]) -> Result<AbortConfig, OtaError> {
    let mut b = AbortConfig::builder();
    for a in list {
        b = b.criteria_list(
            AbortCriteria::builder()
                .failure_type(JobExecutionFailureType::from(a.failure_type.as_str()))
                .action(AbortAction::Cancel)
                .threshold_percentage(a.threshold_percentage())
                .min_number_of_executed_things(
                    a.min_number_of_executed_things.min(i32::MAX as u32) as i32
                )
                .build()
                .map_err(build_err("AbortCriteria"))?,
        );
    }
    b.build().map_err(build_err("AbortConfig"))
}

fn rollout_config(r: &Rollout) -> Result<JobExecutionsRolloutConfig, OtaError> {
    let mut b = JobExecutionsRolloutConfig::builder();
    if let Some(m) = r.maximum_per_minute {
        b = b.maximum_per_minute(m as i32);
    }
    if let Some(e) = &r.exponential_rate {
        let criteria = match e.criteria {
            RateIncrease::NotifiedThings(n) => RateIncreaseCriteria::builder()
                .number_of_notified_things(n.min(i32::MAX as u32) as i32),
            RateIncrease::SucceededThings(n) => RateIncreaseCriteria::builder()
                .number_of_succeeded_things(n.min(i32::MAX as u32) as i32),
        }
        .build();
        b = b.exponential_rate(
            ExponentialRolloutRate::builder()
                .base_rate_per_minute(e.base_rate_per_minute as i32)
                .increment_factor(e.increment_factor())
                .rate_increase_criteria(criteria)
                .build()
                .map_err(build_err("ExponentialRolloutRate"))?,
        );
    }
    Ok(b.build())
}
