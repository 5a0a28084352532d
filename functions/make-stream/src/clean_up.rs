//! Clean Up: after a failed run, delete the draft package version it
//! registered, and the stream this execution created,
//! unless a job uses it or another execution made it; and if a job that uses
//! it appears while it is being deleted (a duplicate run's create-job), put
//! it back (ota_aws::stream says why both sides look after they act).

use crate::{CleanUpReport, CleanUpRequest, Deps};
use ota_aws::package_draft::{delete_own_draft, DraftCleanUp};
use ota_aws::stream::{self, StreamSpec};
use ota_aws::{classify, found};
use ota_core::package_version::PackageRegistration;
use ota_core::{OtaError, PipelineState};
use serde_json::Value;
use tracing::{info, warn, Instrument};

fn report(deleted: Option<String>, note: &str) -> CleanUpReport {
    CleanUpReport {
        deleted_stream: deleted,
        deleted_package_version: None,
        note: note.to_string(),
    }
}

/// What Clean Up needs to know about the failed run.
struct Target {
    spec: StreamSpec,
    job_id: String,
}

/// The run's stream and job from the state the failed step left. A state
/// that is not a full PipelineState (a newer or older shape, a partial one)
/// is read field by field: "cannot parse" must never pass for "nothing was
/// created". Only the upload event itself (what Start Signing's Catch
/// passes on) means nothing was created; a state that is neither is an
/// InternalError.
fn target(state: &Value, role_arn: &str) -> Result<Option<Target>, OtaError> {
    if let Ok(s) = serde_json::from_value::<PipelineState>(state.clone()) {
        if !s.request.uses_mqtt() {
            return Ok(None);
        }
        return Ok(Some(Target {
            spec: stream::spec_for(&s, role_arn),
            job_id: s.request.job_id.clone(),
        }));
    }
    let text = |p: &str| state.pointer(p).and_then(Value::as_str);
    if let (Some(bucket), Some(key), Some(version), Some(execution), Some(job_id)) = (
        text("/source/bucket"),
        text("/source/key"),
        text("/source/versionId"),
        text("/executionId"),
        text("/request/jobId"),
    ) {
        warn!("the state is not a complete pipeline state; cleaning up by its ids");
        return Ok(Some(Target {
            spec: StreamSpec::of_run(
                (bucket, key, version),
                execution,
                job_id,
                text("/stream/streamId"),
                role_arn,
            ),
            job_id: job_id.into(),
        }));
    }
    // Start Signing's Catch keeps the state's input: the EventBridge event
    // itself (its `source` is the text "aws.s3", not an object).
    if state.get("detail-type").is_some() && !state["source"].is_object() {
        return Ok(None);
    }
    Err(OtaError::Internal(
        "Clean Up cannot tell from the failed step's state which stream this run may have created (no source, request.jobId or executionId); nothing was deleted".into(),
    ))
}

pub async fn clean_up_stream(req: CleanUpRequest, deps: &Deps) -> Result<CleanUpReport, OtaError> {
    let draft = remove_own_draft(&req.state, deps).await?;
    let mut report = clean_up_own_stream(req, deps).await?;
    report.deleted_package_version = draft;
    Ok(report)
}

/// The draft package version this object version's run registered
/// (`ota:register-package`): a run that failed after CreatePackageVersion
/// and before its publish leaves one. A published version, or a draft made
/// for another upload, is kept (ota_aws::package_draft).
async fn remove_own_draft(state: &Value, deps: &Deps) -> Result<Option<String>, OtaError> {
    let reg = state
        .pointer("/request/packageRegistration")
        .cloned()
        .map(serde_json::from_value::<PackageRegistration>)
        .transpose()
        .map_err(|e| {
            OtaError::Internal(format!(
                "Clean Up cannot read the run's package registration ({e}); nothing was deleted"
            ))
        })?;
    let text = |p: &str| state.pointer(p).and_then(Value::as_str);
    let (Some(reg), Some(key), Some(version)) =
        (reg, text("/source/key"), text("/source/versionId"))
    else {
        return Ok(None);
    };
    let span = tracing::info_span!("step", step = "clean_up", package_version = %reg.arn);
    let outcome = delete_own_draft(&deps.iot, &reg, key, version)
        .instrument(span)
        .await?;
    Ok((outcome == DraftCleanUp::Deleted)
        .then(|| format!("{}@{}", reg.package_name, reg.version_name)))
}

async fn clean_up_own_stream(req: CleanUpRequest, deps: &Deps) -> Result<CleanUpReport, OtaError> {
    let Some(target) = target(&req.state, &deps.ota_role_arn)? else {
        return Ok(report(
            None,
            "nothing to clean up: the run failed before making a stream, or uses no MQTT",
        ));
    };
    let span = tracing::info_span!(
        "step",
        step = "clean_up",
        stream_id = %target.spec.stream_id,
        job_id = %target.job_id
    );
    remove_own_stream(&target, deps).instrument(span).await
}

async fn remove_own_stream(target: &Target, deps: &Deps) -> Result<CleanUpReport, OtaError> {
    let spec = &target.spec;
    if job_uses_stream(target, deps).await? {
        return Ok(report(None, "the job exists and uses the stream"));
    }
    let existing = match stream::describe(&deps.iot, spec).await {
        Ok(None) => return Ok(report(None, "no stream was created")),
        Ok(Some(info)) => info,
        Err(OtaError::Conflict(_)) => {
            return Ok(report(None, "the stream with this id serves other files"))
        }
        Err(e) => return Err(e),
    };
    if existing.description() != Some(spec.description.as_str()) {
        warn!("stream exists but another execution created it; leaving it");
        return Ok(report(None, "the stream belongs to another execution"));
    }
    let deleted = deps
        .iot
        .delete_stream()
        .stream_id(&spec.stream_id)
        .send()
        .await;
    let gone = found(deleted, |e| e.is_resource_not_found_exception())
        .map_err(|e| classify("DeleteStream", &e))?;
    // Look again: a duplicate run's create-job may have made the job between
    // the first look and the delete. Its own check after CreateJob covers a
    // delete that comes later than that check; this one covers the rest.
    if job_uses_stream(target, deps).await? {
        stream::ensure(&deps.iot, spec).await?;
        warn!("a job that uses the stream appeared during clean-up: restored the stream");
        return Ok(report(
            None,
            "deleted the stream, then restored it: a job created meanwhile uses it",
        ));
    }
    match gone {
        Some(_) => {
            info!("deleted the stream this execution created");
            Ok(report(
                Some(spec.stream_id.clone()),
                "deleted the stream this execution created",
            ))
        }
        None => Ok(report(None, "the stream was already gone")),
    }
}

/// A job whose document names the stream uses it: keep it. (A job with the
/// same id that names another stream is a conflicting job, not ours.)
async fn job_uses_stream(target: &Target, deps: &Deps) -> Result<bool, OtaError> {
    let doc = deps
        .iot
        .get_job_document()
        .job_id(&target.job_id)
        .send()
        .await;
    let doc = found(doc, |e| e.is_resource_not_found_exception())
        .map_err(|e| classify("GetJobDocument", &e))?;
    Ok(doc
        .and_then(|d| d.document)
        .is_some_and(|d| d.contains(&format!("\"{}\"", target.spec.stream_id))))
}
