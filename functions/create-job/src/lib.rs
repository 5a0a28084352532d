//! create-job: the job document and CreateJob with every configured field
//! (targets, selection, timeout, retries, scheduling and maintenance windows,
//! abort, rollout, presigned URLs, package versions; [`configure`]) and tags
//! naming the source object and the execution; first, the package version
//! the upload registers as ([`register`]). An identical existing job is
//! success; a different job with the same id is a Conflict. The stream the
//! document names is confirmed (and restored when gone) right before and
//! right after CreateJob.

pub mod configure;
pub mod register;

use aws_sdk_iot::types::Tag;
use configure::build_err;
pub use configure::configure;
use ota_aws::classify;
use ota_core::create_job::{job_tags, made_by_run_tags};
use ota_core::job_document::{self, FileFacts};
use ota_core::request::reschedule::{reschedule, Moved};
use ota_core::state::JobState;
use ota_core::{OtaError, OtaRequest, PipelineState};
use tracing::{info, warn, Instrument};

pub struct Deps {
    pub iot: aws_sdk_iot::Client,
    /// The role IoT assumes to presign HTTP download URLs.
    pub ota_role_arn: String,
    /// The clock the schedule is re-checked against; tests fix it.
    pub now: fn() -> time::OffsetDateTime,
}

pub async fn handle(state: PipelineState, deps: &Deps) -> Result<PipelineState, OtaError> {
    let span = ota_lambda::step_span("create_job", &state);
    create(state, deps).instrument(span).await
}

async fn create(mut state: PipelineState, deps: &Deps) -> Result<PipelineState, OtaError> {
    let moved = reschedule_now(&mut state.request, deps)?;
    let req = &state.request;
    let src = &state.source;
    // Devices see `literal` (IoT Jobs replaces any substitution parameter
    // before a device reads it), so the device rules judge it; CreateJob
    // receives `sent` (ota_core::package_version::sent_document).
    let stream_id = state.stream.as_ref().map(|s| s.stream_id.as_str());
    let (literal, _) = match &state.release {
        Some(release) => {
            let files = ota_core::release::document_files(src, &release.files)?;
            job_document::build_files(req, stream_id, &files)?
        }
        None => {
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
                stream_id,
            };
            job_document::build(req, &facts)?
        }
    };
    let findings = device_findings(req, &literal)?;
    let document = ota_core::package_version::sent_document(req, &literal)?;
    let text = document.to_string();
    // Before and after CreateJob: a duplicate run's Clean Up may delete the
    // shared stream at any point; see ota_aws::stream for why both looks.
    let stream = state
        .stream
        .as_ref()
        .map(|_| ota_aws::stream::spec_for(&state, &deps.ota_role_arn));
    if let Some(spec) = &stream {
        ota_aws::stream::confirm(&deps.iot, spec, "before CreateJob").await?;
    }
    register::register(&deps.iot, &state, &text).await?;

    let mut call = configure(deps.iot.create_job(), req, &deps.ota_role_arn)?.document(&text);
    let mut tags = job_tags(&src.bucket, &src.key, &src.version_id, &state.execution_id);
    tags.extend(made_by_run_tags(&state));
    for m in &moved {
        tags.push((format!("ota:{}-moved", m.which), m.tag_value()));
    }
    for (k, v) in tags {
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
                schedule_moved: moved.iter().map(Moved::tag_value).collect(),
                device_findings: findings,
            }
        }
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_already_exists_exception()) =>
        {
            JobState {
                device_findings: findings,
                ..existing_job(deps, req, &document).await?
            }
        }
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            return Err(OtaError::ResourceNotFound(format!(
                "CreateJob: a target or package version does not exist: {}",
                aws_smithy_types::error::display::DisplayErrorContext(&e)
            )))
        }
        Err(e) => return Err(classify("CreateJob", &e)),
    };
    if let Some(spec) = &stream {
        ota_aws::stream::confirm(&deps.iot, spec, "after CreateJob").await?;
    }
    state.job = Some(job);
    Ok(state)
}

/// What the device libraries would reject or misread in this document, the
/// signature now known (ota_core::devices): for the families `ota:devices`
/// names, InvalidRequest before CreateJob (Clean Up then removes the
/// stream); with none named, a warning per finding of the families that
/// read the document's format, and the lines for the execution's output.
fn device_findings(
    req: &OtaRequest,
    document: &serde_json::Value,
) -> Result<Vec<String>, OtaError> {
    let findings =
        ota_core::devices::findings_for(&req.devices, req.format, &req.job_id, document, true);
    if !req.devices.is_empty() && !findings.is_empty() {
        let field = req.devices_source.as_deref().unwrap_or("ota:devices");
        return Err(ota_core::devices::refusal(&findings, field));
    }
    ota_aws::device_log::warn_findings(&findings);
    Ok(findings.iter().map(ToString::to_string).collect())
}

/// The schedule as IoT will judge it now (see ota_core's reschedule): an
/// offset that became too close moves (logged, returned for the job's tags
/// and the output); a fixed time that did is InvalidRequest, before CreateJob.
fn reschedule_now(req: &mut OtaRequest, deps: &Deps) -> Result<Vec<Moved>, OtaError> {
    let Some(schedule) = &req.schedule else {
        return Ok(Vec::new());
    };
    let (schedule, moved) = reschedule(schedule, (deps.now)())?;
    for m in &moved {
        warn!(which = m.which, field = %m.field, from = %m.from, to = %m.to, "scheduled time moved: IoT needs it at least 30 minutes after CreateJob");
    }
    req.schedule = Some(schedule);
    Ok(moved)
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
        schedule_moved: Vec::new(),
        device_findings: Vec::new(),
    })
}
