//! make-stream: the signed object -> size, signature, algorithm; CreateStream
//! over the exact uploaded version. Also the state machine's Clean Up step:
//! it removes a stream this execution created when no job was created.

use aws_sdk_iot::types::{S3Location as IotS3Location, StreamFile};
use ota_core::signed_object::{SignedFormat, SignedObjectReader};
use ota_core::state::{SignedFile, SigningStatus, StreamState};
use ota_core::{ids, OtaError, PipelineState, Signing};
use ota_lambda::{classify, classify_not_found, is_already_exists, is_not_found};
use serde::{Deserialize, Serialize};
use tracing::{info, warn};

pub struct Deps {
    pub s3: aws_sdk_s3::Client,
    pub iot: aws_sdk_iot::Client,
    /// The role IoT assumes to read the firmware for the stream.
    pub ota_role_arn: String,
}

/// What the state machine sends: the pipeline state, or (from the Clean Up
/// step) `{"cleanUp": {"state": ...}}`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum MakeStreamInput {
    CleanUp {
        #[serde(rename = "cleanUp")]
        clean_up: CleanUpRequest,
    },
    Make(Box<PipelineState>),
}

impl ota_lambda::RunSpan for MakeStreamInput {
    fn run_span(&self) -> tracing::Span {
        match self {
            MakeStreamInput::Make(s) => s.run_span(),
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
}

#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CleanUpReport {
    /// The stream deleted, if any.
    pub deleted_stream: Option<String>,
    /// Why nothing (more) was deleted.
    pub note: String,
}

pub async fn handle(input: MakeStreamInput, deps: &Deps) -> Result<MakeStreamOutput, OtaError> {
    match input {
        MakeStreamInput::Make(state) => make(*state, deps)
            .await
            .map(|s| MakeStreamOutput::Made(Box::new(s))),
        MakeStreamInput::CleanUp { clean_up } => clean_up_stream(clean_up, deps)
            .await
            .map(MakeStreamOutput::CleanedUp),
    }
}

/// The description names the execution, so clean-up can tell a stream this
/// run created from one another run (for the same version) made.
fn stream_description(state: &PipelineState) -> String {
    let d = format!(
        "OTA stream for s3://{}/{} version {} (execution {})",
        state.source.bucket, state.source.key, state.source.version_id, state.execution_id
    );
    d.chars().take(2028).collect()
}

async fn make(mut state: PipelineState, deps: &Deps) -> Result<PipelineState, OtaError> {
    let src = state.source.clone();
    let span = ota_lambda::step_span("make_stream", &state);
    let _enter = span.enter();

    let signed_file = match (&state.signing.status, &state.request.signing) {
        (
            SigningStatus::NotRequired,
            Signing::PreSigned {
                signature,
                signature_algorithm,
                ..
            },
        ) => SignedFile {
            size: src.size,
            signature: signature.clone(),
            signature_algorithm: signature_algorithm.clone(),
        },
        (SigningStatus::Succeeded, Signing::Profile { .. }) => {
            let loc = state.signing.signed_object.clone().ok_or_else(|| {
                OtaError::Internal("signing succeeded without a signed object".into())
            })?;
            let signed = read_signed_object(deps, &loc.bucket, &loc.key).await?;
            if let SignedFormat::Detached {
                bucket,
                key,
                version,
            } = &signed.format
            {
                let same = bucket.as_deref().is_none_or(|b| b == src.bucket)
                    && key.as_deref().is_none_or(|k| k == src.key)
                    && version.as_deref().is_none_or(|v| v == src.version_id);
                if !same {
                    return Err(OtaError::SignedObjectInvalid(format!(
                        "s3://{}/{} signs s3://{}/{} version {}, not the uploaded version {}",
                        loc.bucket,
                        loc.key,
                        bucket.as_deref().unwrap_or("?"),
                        key.as_deref().unwrap_or("?"),
                        version.as_deref().unwrap_or("?"),
                        src.version_id
                    )));
                }
            }
            if signed.raw_payload_size != src.size {
                return Err(OtaError::SignedObjectInvalid(format!(
                    "the signer signed {} bytes but the uploaded version is {} bytes",
                    signed.raw_payload_size, src.size
                )));
            }
            SignedFile {
                size: signed.raw_payload_size,
                signature: signed.signature,
                signature_algorithm: signed.signature_algorithm,
            }
        }
        (status, _) => {
            return Err(OtaError::Internal(format!(
                "make-stream called with signing status {status:?} for this kind of signing"
            )))
        }
    };
    // Checked here, before the stream exists, so an unusable signature never
    // leaves anything behind.
    ota_core::values::signature_key(&signed_file.signature_algorithm)
        .map_err(|e| OtaError::SignedObjectInvalid(format!("signatureAlgorithm {e}")))?;
    ota_core::values::parse_signature(&signed_file.signature)
        .map_err(|e| OtaError::SignedObjectInvalid(format!("signature {e}")))?;
    state.signed_file = Some(signed_file);
    source_still_there(deps, &src).await?;

    if state.request.uses_mqtt() {
        let stream = create_stream(&state, deps).await?;
        span.record("stream_id", stream.stream_id.as_str());
        state.stream = Some(stream);
    }
    Ok(state)
}

/// The pinned version must still exist before anything points devices at
/// it: a version deleted while the run was in flight would leave a stream or
/// presigned URL that cannot be read. (A newer upload to the same key does not
/// matter: this run keeps serving its own version.)
async fn source_still_there(
    deps: &Deps,
    src: &ota_core::state::SourceObject,
) -> Result<(), OtaError> {
    deps.s3
        .head_object()
        .bucket(&src.bucket)
        .key(&src.key)
        .version_id(&src.version_id)
        .send()
        .await
        .map_err(|e| {
            classify_not_found("HeadObject (firmware)", &e, || {
                OtaError::SourceNotFound(format!(
                    "s3://{}/{} version {} was deleted while this update was in flight; nothing was created",
                    src.bucket, src.key, src.version_id
                ))
            })
        })?;
    Ok(())
}

async fn read_signed_object(
    deps: &Deps,
    bucket: &str,
    key: &str,
) -> Result<ota_core::signed_object::SignedObject, OtaError> {
    let out = deps
        .s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| {
            classify_not_found("GetObject (signed object)", &e, || {
                OtaError::SignedObjectInvalid(format!(
                    "the signed object s3://{bucket}/{key} does not exist"
                ))
            })
        })?;
    let mut body = out.body;
    let mut reader = SignedObjectReader::new();
    // Chunk by chunk: memory stays flat whatever the firmware size.
    while let Some(chunk) = body
        .try_next()
        .await
        .map_err(|e| OtaError::ServiceUnavailable(format!("reading s3://{bucket}/{key}: {e}")))?
    {
        reader.feed(&chunk)?;
    }
    reader.finish()
}

fn stream_file(state: &PipelineState) -> StreamFile {
    StreamFile::builder()
        .file_id(0)
        .s3_location(
            IotS3Location::builder()
                .bucket(&state.source.bucket)
                .key(&state.source.key)
                .version(&state.source.version_id)
                .build(),
        )
        .build()
}

async fn create_stream(state: &PipelineState, deps: &Deps) -> Result<StreamState, OtaError> {
    let src = &state.source;
    let stream_id = ids::stream_id(&src.bucket, &src.key, &src.version_id);
    let created = deps
        .iot
        .create_stream()
        .stream_id(&stream_id)
        .description(stream_description(state))
        .files(stream_file(state))
        .role_arn(&deps.ota_role_arn)
        .send()
        .await;
    match created {
        Ok(out) => {
            info!(stream_id = %stream_id, "stream created");
            Ok(StreamState {
                stream_arn: out.stream_arn().unwrap_or_default().to_string(),
                stream_version: out.stream_version().unwrap_or(1),
                stream_id,
            })
        }
        Err(e) if is_already_exists(&e) => {
            // A duplicate event or a retried invocation: the same stream is
            // success; anything else with this id is a conflict.
            let existing = deps
                .iot
                .describe_stream()
                .stream_id(&stream_id)
                .send()
                .await
                .map_err(|e| classify("DescribeStream", &e))?;
            let info = existing.stream_info().ok_or_else(|| {
                OtaError::Internal("DescribeStream returned no stream info".into())
            })?;
            let want = stream_file(state);
            let same_files = info.files().len() == 1
                && info.files()[0].file_id() == want.file_id()
                && info.files()[0].s3_location() == want.s3_location();
            if !same_files {
                return Err(OtaError::Conflict(format!(
                    "stream {stream_id} exists and serves other files: {:?}",
                    info.files()
                )));
            }
            info!(stream_id = %stream_id, "stream already exists with the same file");
            Ok(StreamState {
                stream_arn: info.stream_arn().unwrap_or_default().to_string(),
                stream_version: info.stream_version().unwrap_or(1),
                stream_id,
            })
        }
        Err(e) => Err(classify("CreateStream", &e)),
    }
}

async fn clean_up_stream(req: CleanUpRequest, deps: &Deps) -> Result<CleanUpReport, OtaError> {
    let report = |deleted: Option<String>, note: &str| CleanUpReport {
        deleted_stream: deleted,
        note: note.to_string(),
    };
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
    let _enter = span.enter();

    // A job whose document names the stream uses it: keep it. (A job with
    // the same id that names another stream is a conflicting job, not ours.)
    match deps
        .iot
        .get_job_document()
        .job_id(&state.request.job_id)
        .send()
        .await
    {
        Ok(doc)
            if doc
                .document()
                .is_some_and(|d| d.contains(&format!("\"{stream_id}\""))) =>
        {
            return Ok(report(None, "the job exists and uses the stream"))
        }
        Ok(_) => {}
        Err(e) if is_not_found(&e) => {}
        Err(e) => return Err(classify("GetJobDocument", &e)),
    }
    let info = match deps
        .iot
        .describe_stream()
        .stream_id(&stream_id)
        .send()
        .await
    {
        Ok(o) => o.stream_info().cloned(),
        Err(e) if is_not_found(&e) => return Ok(report(None, "no stream was created")),
        Err(e) => return Err(classify("DescribeStream", &e)),
    };
    let ours = info
        .as_ref()
        .and_then(|i| i.description())
        .is_some_and(|d| d == stream_description(&state));
    if !ours {
        warn!("stream exists but another execution created it; leaving it");
        return Ok(report(None, "the stream belongs to another execution"));
    }
    match deps.iot.delete_stream().stream_id(&stream_id).send().await {
        Ok(_) => {
            info!("deleted the stream this execution created");
            Ok(report(
                Some(stream_id),
                "deleted the stream this execution created",
            ))
        }
        Err(e) if is_not_found(&e) => Ok(report(None, "the stream was already gone")),
        Err(e) => Err(classify("DeleteStream", &e)),
    }
}
