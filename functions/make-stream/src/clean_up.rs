//! Clean Up: after a failed run, delete the stream this execution created,
//! unless a job uses it or another execution made it.

use crate::make::stream_description;
use crate::{CleanUpReport, CleanUpRequest, Deps};
use ota_aws::{classify, found};
use ota_core::{ids, OtaError, PipelineState};
use tracing::{info, warn, Instrument};

fn report(deleted: Option<String>, note: &str) -> CleanUpReport {
    CleanUpReport {
        deleted_stream: deleted,
        note: note.to_string(),
    }
}

pub async fn clean_up_stream(req: CleanUpRequest, deps: &Deps) -> Result<CleanUpReport, OtaError> {
    let state: PipelineState = match serde_json::from_value(req.state) {
        Ok(s) => s,
        // start-signing failed: nothing was created.
        Err(_) => return Ok(report(None, "the run failed before anything was created")),
    };
    if !state.request.uses_mqtt() {
        return Ok(report(None, "no stream: the request does not use MQTT"));
    }
    let src = &state.source;
    let stream_id = ids::stream_id(&src.bucket, &src.key, &src.version_id);
    let span = ota_lambda::step_span("clean_up", &state);
    span.record("stream_id", stream_id.as_str());
    remove_own_stream(&state, stream_id, deps)
        .instrument(span)
        .await
}

async fn remove_own_stream(
    state: &PipelineState,
    stream_id: String,
    deps: &Deps,
) -> Result<CleanUpReport, OtaError> {
    if job_uses_stream(state, &stream_id, deps).await? {
        return Ok(report(None, "the job exists and uses the stream"));
    }
    let described = deps
        .iot
        .describe_stream()
        .stream_id(&stream_id)
        .send()
        .await;
    let Some(described) = found(described, |e| e.is_resource_not_found_exception())
        .map_err(|e| classify("DescribeStream", &e))?
    else {
        return Ok(report(None, "no stream was created"));
    };
    let ours = described
        .stream_info()
        .and_then(|i| i.description())
        .is_some_and(|d| d == stream_description(state));
    if !ours {
        warn!("stream exists but another execution created it; leaving it");
        return Ok(report(None, "the stream belongs to another execution"));
    }
    let deleted = deps.iot.delete_stream().stream_id(&stream_id).send().await;
    match found(deleted, |e| e.is_resource_not_found_exception())
        .map_err(|e| classify("DeleteStream", &e))?
    {
        Some(_) => {
            info!("deleted the stream this execution created");
            Ok(report(
                Some(stream_id),
                "deleted the stream this execution created",
            ))
        }
        None => Ok(report(None, "the stream was already gone")),
    }
}

/// A job whose document names the stream uses it: keep it. (A job with the
/// same id that names another stream is a conflicting job, not ours.)
async fn job_uses_stream(
    state: &PipelineState,
    stream_id: &str,
    deps: &Deps,
) -> Result<bool, OtaError> {
    let doc = deps
        .iot
        .get_job_document()
        .job_id(&state.request.job_id)
        .send()
        .await;
    let doc = found(doc, |e| e.is_resource_not_found_exception())
        .map_err(|e| classify("GetJobDocument", &e))?;
    Ok(doc
        .and_then(|d| d.document)
        .is_some_and(|d| d.contains(&format!("\"{stream_id}\""))))
}
