//! The IoT stream that serves one uploaded version (or a release's files,
//! file ids 0..N-1 in the release's order) to one job, made and
//! checked the same way by make-stream (which creates it), create-job (which
//! confirms it right before and right after CreateJob) and Clean Up (which
//! deletes it, then puts it back if a job appeared meanwhile).
//!
//! Why both sides check after acting: two executions for one version (a
//! duplicate event) share the stream. If one run's Clean Up deletes it while
//! the other creates its job, each side acts first and looks second:
//! create-job creates the job, then confirms the stream; Clean Up deletes the
//! stream, then looks for the job. Whichever looks last sees the other's act
//! and (re)creates the stream, so no job is left pointing at a stream that is
//! gone. Recreating is safe because everything about the stream (id, file,
//! version, role) follows from the run's state.

use crate::sdk_error::{classify, found};
use aws_sdk_iot::types::{S3Location, StreamFile};
use ota_core::state::StreamState;
use ota_core::OtaError;
use tracing::{info, warn};

/// Everything CreateStream needs, from the run's state.
#[derive(Debug, Clone)]
pub struct StreamSpec {
    pub stream_id: String,
    /// Names the execution, so Clean Up can tell its own stream from one
    /// another run made ([`description`]).
    pub description: String,
    pub bucket: String,
    /// The object versions served, as file ids 0..N-1: one for an upload,
    /// the release's files in its order.
    pub files: Vec<StreamedObject>,
    /// The role IoT assumes to read the firmware.
    pub role_arn: String,
}

/// CreateStream's description limit (API reference: `description`, max 2028).
const MAX_DESCRIPTION_CHARS: usize = 2028;

/// The description naming the object version and the execution that made
/// (or restored) the stream.
pub fn description(bucket: &str, key: &str, version_id: &str, execution_id: &str) -> String {
    let d = format!(
        "{}(execution {execution_id})",
        description_of_upload(bucket, key, version_id)
    );
    d.chars().take(MAX_DESCRIPTION_CHARS).collect()
}

/// The start of [`description`] that names the upload whatever execution
/// made the stream: how `ota delete` and the clean-up sweep tell a stream
/// the pipeline made for an upload from one a user made.
pub fn description_of_upload(bucket: &str, key: &str, version_id: &str) -> String {
    format!("OTA stream for s3://{bucket}/{key} version {version_id} ")
}

/// One object version a stream serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamedObject {
    pub key: String,
    pub version_id: String,
}

impl StreamSpec {
    /// CreateStream's files: file id i is `files[i]` (CreateStream allows
    /// file ids 0..255 and at most 50 files, API reference StreamFile and
    /// CreateStream `files`; a release has at most 10).
    fn stream_files(&self) -> Vec<StreamFile> {
        self.files
            .iter()
            .zip(0..)
            .map(|(f, id)| {
                StreamFile::builder()
                    .file_id(id)
                    .s3_location(
                        S3Location::builder()
                            .bucket(&self.bucket)
                            .key(&f.key)
                            .version(&f.version_id)
                            .build(),
                    )
                    .build()
            })
            .collect()
    }

    /// The stream IoT holds serves exactly these versions, under these
    /// file ids.
    fn serves(&self, info: &aws_sdk_iot::types::StreamInfo) -> bool {
        let want = self.stream_files();
        let mut held: Vec<&StreamFile> = info.files().iter().collect();
        held.sort_by_key(|f| f.file_id());
        held.len() == want.len()
            && held
                .iter()
                .zip(&want)
                .all(|(h, w)| h.file_id() == w.file_id() && h.s3_location() == w.s3_location())
    }

    /// The same stream serving `files` instead (a release's files).
    pub fn with_files(self, files: Vec<StreamedObject>) -> StreamSpec {
        StreamSpec { files, ..self }
    }
}

/// Creates the stream, or takes the one that exists when it serves the same
/// file (a duplicate event, a retried invocation); another file with this id
/// is a Conflict.
pub async fn ensure(iot: &aws_sdk_iot::Client, spec: &StreamSpec) -> Result<StreamState, OtaError> {
    let created = iot
        .create_stream()
        .stream_id(&spec.stream_id)
        .description(&spec.description)
        .set_files(Some(spec.stream_files()))
        .role_arn(&spec.role_arn)
        .send()
        .await;
    match created {
        Ok(out) => {
            info!(stream_id = %spec.stream_id, "stream created");
            Ok(StreamState {
                stream_arn: out.stream_arn().unwrap_or_default().to_string(),
                stream_version: out.stream_version().unwrap_or(1),
                stream_id: spec.stream_id.clone(),
            })
        }
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_already_exists_exception()) =>
        {
            let info = describe(iot, spec).await?.ok_or_else(|| {
                // Created by another run and deleted again between our two
                // calls: worth one more try by the state machine's Retry.
                OtaError::ServiceUnavailable(format!(
                    "stream {} existed at CreateStream and was gone at DescribeStream",
                    spec.stream_id
                ))
            })?;
            info!(stream_id = %spec.stream_id, "stream already exists with the same file");
            Ok(StreamState {
                stream_arn: info.stream_arn().unwrap_or_default().to_string(),
                stream_version: info.stream_version().unwrap_or(1),
                stream_id: spec.stream_id.clone(),
            })
        }
        Err(e) => Err(classify("CreateStream", &e)),
    }
}

/// The stream as IoT holds it, `None` when it does not exist; a stream with
/// this id that serves another file is a Conflict.
pub async fn describe(
    iot: &aws_sdk_iot::Client,
    spec: &StreamSpec,
) -> Result<Option<aws_sdk_iot::types::StreamInfo>, OtaError> {
    let described = iot
        .describe_stream()
        .stream_id(&spec.stream_id)
        .send()
        .await;
    let Some(described) = found(described, |e| e.is_resource_not_found_exception())
        .map_err(|e| classify("DescribeStream", &e))?
    else {
        return Ok(None);
    };
    let info = described
        .stream_info
        .ok_or_else(|| OtaError::Internal("DescribeStream returned no stream info".into()))?;
    if !spec.serves(&info) {
        return Err(OtaError::Conflict(format!(
            "stream {} exists and serves other files: {:?}",
            spec.stream_id,
            info.files()
        )));
    }
    Ok(Some(info))
}

/// The stream exists and serves this version; when it is gone, it is created
/// again. `when` says which check this is, for the log line.
pub async fn confirm(
    iot: &aws_sdk_iot::Client,
    spec: &StreamSpec,
    when: &str,
) -> Result<(), OtaError> {
    if describe(iot, spec).await?.is_some() {
        return Ok(());
    }
    warn!(stream_id = %spec.stream_id, check = when, "the stream was gone (another run's Clean Up?): creating it again");
    ensure(iot, spec).await?;
    Ok(())
}

/// The stream a run's state calls for: the id make-stream recorded, or
/// (before it did) the one derived from the version and the job id, and the
/// description naming this execution.
/// For a release, the stream serves its files (the stream id and the
/// description follow the release manifest's version).
pub fn spec_for(state: &ota_core::PipelineState, role_arn: &str) -> StreamSpec {
    let src = &state.source;
    let spec = StreamSpec::of_run(
        (&src.bucket, &src.key, &src.version_id),
        &state.execution_id,
        &state.request.job_id,
        state.stream.as_ref().map(|s| s.stream_id.as_str()),
        role_arn,
    );
    match &state.release {
        Some(r) => spec.with_files(
            r.files
                .iter()
                .map(|f| StreamedObject {
                    key: f.key.clone(),
                    version_id: f.version_id.clone(),
                })
                .collect(),
        ),
        None => spec,
    }
}

impl StreamSpec {
    /// The stream of one run of (bucket, key, version): `recorded` when the
    /// run's state has its id, else the id derived with the job id.
    pub fn of_run(
        (bucket, key, version_id): (&str, &str, &str),
        execution_id: &str,
        job_id: &str,
        recorded: Option<&str>,
        role_arn: &str,
    ) -> StreamSpec {
        StreamSpec {
            stream_id: recorded.map_or_else(
                || ota_core::ids::stream_id(bucket, key, version_id, job_id),
                str::to_string,
            ),
            description: description(bucket, key, version_id, execution_id),
            bucket: bucket.into(),
            files: vec![StreamedObject {
                key: key.into(),
                version_id: version_id.into(),
            }],
            role_arn: role_arn.into(),
        }
    }
}
