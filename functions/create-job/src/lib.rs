//! create-job: the job document and CreateJob with every configured field
//! (targets, selection, timeout, retries, scheduling and maintenance windows,
//! abort, rollout, presigned URLs, package versions) and tags naming the
//! source object and the execution. An identical existing job is success; a
//! different job with the same id is a Conflict.

use aws_sdk_iot::operation::create_job::builders::CreateJobFluentBuilder;
use aws_sdk_iot::types::{
    AbortAction, AbortConfig, AbortCriteria, ExponentialRolloutRate, JobEndBehavior,
    JobExecutionFailureType, JobExecutionsRetryConfig, JobExecutionsRolloutConfig,
    MaintenanceWindow, PresignedUrlConfig, RateIncreaseCriteria, RetryCriteria,
    RetryableFailureType, SchedulingConfig, Tag, TargetSelection, TimeoutConfig,
};
use ota_core::create_job::job_tags;
use ota_core::job_document::{self, FileFacts};
use ota_core::state::JobState;
use ota_core::values::RateIncrease;
use ota_core::{OtaError, OtaRequest, PipelineState};
use ota_lambda::{classify, is_already_exists, is_not_found};
use tracing::info;

pub struct Deps {
    pub iot: aws_sdk_iot::Client,
    /// The role IoT assumes to presign HTTP download URLs.
    pub ota_role_arn: String,
}

fn build_err(
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
        let mut b = JobExecutionsRetryConfig::builder();
        for c in &req.retry {
            b = b.criteria_list(
                RetryCriteria::builder()
                    .failure_type(RetryableFailureType::from(c.failure_type.as_str()))
                    .number_of_retries(c.number_of_retries as i32)
                    .build()
                    .map_err(build_err("RetryCriteria"))?,
            );
        }
        call = call
            .job_executions_retry_config(b.build().map_err(build_err("JobExecutionsRetryConfig"))?);
    }
    if let Some(s) = &req.schedule {
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
        call = call.scheduling_config(b.build());
    }
    if !req.abort.is_empty() {
        let mut b = AbortConfig::builder();
        for a in &req.abort {
            b = b.criteria_list(
                AbortCriteria::builder()
                    .failure_type(JobExecutionFailureType::from(a.failure_type.as_str()))
                    .action(AbortAction::Cancel)
                    .threshold_percentage(a.threshold_percentage())
                    .min_number_of_executed_things(
                        a.min_number_of_executed_things.min(i32::MAX as u32) as i32,
                    )
                    .build()
                    .map_err(build_err("AbortCriteria"))?,
            );
        }
        call = call.abort_config(b.build().map_err(build_err("AbortConfig"))?);
    }
    if let Some(r) = &req.rollout {
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
        call = call.job_executions_rollout_config(b.build());
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

pub async fn handle(mut state: PipelineState, deps: &Deps) -> Result<PipelineState, OtaError> {
    let req = &state.request;
    let src = &state.source;
    let span = ota_lambda::step_span("create_job", &state);
    let _enter = span.enter();
    let file = state
        .signed_file
        .as_ref()
        .ok_or_else(|| OtaError::Internal("create-job called before make-stream".into()))?;
    let facts = FileFacts {
        bucket: &src.bucket,
        key: &src.key,
        version_id: &src.version_id,
        region: &src.region,
        size: file.size,
        signature: &file.signature,
        signature_algorithm: &file.signature_algorithm,
        certfile: &state.signing.certfile,
        stream_id: state.stream.as_ref().map(|s| s.stream_id.as_str()),
    };
    let (document, text) = job_document::build(req, &facts)?;

    let mut call = configure(deps.iot.create_job(), req, &deps.ota_role_arn)?.document(&text);
    for (k, v) in job_tags(&src.bucket, &src.key, &src.version_id, &state.execution_id) {
        call = call.tags(
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(build_err("Tag"))?,
        );
    }
    let job = match call.send().await {
        Ok(out) => {
            info!(job_arn = out.job_arn().unwrap_or_default(), "job created");
            JobState {
                job_id: req.job_id.clone(),
                job_arn: out.job_arn().unwrap_or_default().to_string(),
                created: true,
            }
        }
        Err(e) if is_already_exists(&e) => existing_job(deps, req, &document).await?,
        Err(e) if is_not_found(&e) => {
            return Err(OtaError::ResourceNotFound(format!(
                "CreateJob: a target or package version does not exist: {}",
                aws_smithy_types::error::display::DisplayErrorContext(&e)
            )))
        }
        Err(e) => return Err(classify("CreateJob", &e)),
    };
    state.job = Some(job);
    Ok(state)
}

/// A job with this id exists: the same document and targets is this run's
/// job (a duplicate event or a retry), anything else a Conflict.
async fn existing_job(
    deps: &Deps,
    req: &OtaRequest,
    document: &serde_json::Value,
) -> Result<JobState, OtaError> {
    let doc = deps
        .iot
        .get_job_document()
        .job_id(&req.job_id)
        .send()
        .await
        .map_err(|e| classify("GetJobDocument", &e))?;
    let existing_doc: Option<serde_json::Value> =
        doc.document().and_then(|d| serde_json::from_str(d).ok());
    let described = deps
        .iot
        .describe_job()
        .job_id(&req.job_id)
        .send()
        .await
        .map_err(|e| classify("DescribeJob", &e))?;
    let job = described
        .job()
        .ok_or_else(|| OtaError::Internal("DescribeJob returned no job".into()))?;
    let mut have: Vec<&str> = job.targets().iter().map(String::as_str).collect();
    let mut want: Vec<&str> = req.targets.iter().map(String::as_str).collect();
    have.sort_unstable();
    want.sort_unstable();
    if existing_doc.as_ref() != Some(document) || have != want {
        return Err(OtaError::Conflict(format!(
            "job {} already exists with a different document or targets (another upload chose the same ota:job-id?)",
            req.job_id
        )));
    }
    info!("job already exists with the same document and targets");
    Ok(JobState {
        job_id: req.job_id.clone(),
        job_arn: job.job_arn().unwrap_or_default().to_string(),
        created: false,
    })
}
