//! `ota upload`: validate, upload with the tags (atomically: the tags are part
//! of the PutObject or CreateMultipartUpload), then follow the execution the
//! upload started until the job exists.

use crate::args::{GlobalArgs, UploadArgs};
use crate::aws::{Clients, Uploaded, Wanted};
use crate::error::{aws, CliError};
use crate::request::{merge_defaults, resolve, tags_from_flags, Target, VERSION_PLACEHOLDER};
use crate::status::{self, Report};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart};
use aws_sdk_sfn::types::ExecutionStatus;
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::HashSet;
use std::io::Read;
use std::time::{Duration, Instant};

/// Files above this go up in parts, so the progress bar moves part by part.
pub const MULTIPART_THRESHOLD: u64 = 8 * 1024 * 1024;
/// S3's smallest part (all but the last).
pub const PART_SIZE: u64 = 5 * 1024 * 1024;

/// The default key for a file: the upload prefix + its name.
pub fn default_key(
    file: &std::path::Path,
    upload_prefix: Option<&str>,
) -> Result<String, CliError> {
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| CliError::Usage(format!("{}: not a file name", file.display())))?;
    // The stack parameter UploadPrefix's own default.
    Ok(format!("{}{name}", upload_prefix.unwrap_or("firmware/")))
}

pub async fn run(g: &GlobalArgs, a: &UploadArgs) -> Result<Report, CliError> {
    let path = a.file.display().to_string();
    let io = |source| CliError::Io {
        path: path.clone(),
        source,
    };
    // One open file: its size is the size checked and the size sent.
    let mut file = std::fs::File::open(&a.file).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    let c = Clients::new(g).await?;
    // The pipeline is found before anything is uploaded: no pipeline, no
    // upload. It also says where to upload, its prefixes and defaults.
    let pipeline = c.pipeline(g).await?;
    let bucket = pipeline.bucket(a.bucket.as_ref())?;
    let key = match &a.key {
        Some(k) => k.clone(),
        None => default_key(&a.file, pipeline.upload_prefix.as_deref())?,
    };
    pipeline.check_key(&key)?;

    // Everything start-signing decides before it signs, decided here before
    // anything is uploaded: the tags, the manifest they name, the stack
    // defaults, the signing profile and whether the job document can fit.
    let (tags, mut problems) = tags_from_flags(&a.request);
    let (tag_spec, p) = ota_core::tags::parse_tags(&tags);
    problems.extend(p);
    let manifest_spec = ota_aws::read_named_manifest(
        &c.s3,
        &bucket,
        tag_spec.manifest.as_deref(),
        pipeline.manifest_prefix(),
        &mut problems,
    )
    .await?;
    let target = Target {
        bucket: &bucket,
        key: &key,
        version_id: VERSION_PLACEHOLDER,
        region: &c.region,
        size,
    };
    let defaults = merge_defaults(&a.defaults, Some(&pipeline.defaults));
    let (request, merged) = resolve(tag_spec, manifest_spec, &defaults, &target, problems)?;
    ota_aws::check_signing(&c.signer, &request, &merged, &target.source()).await?;

    let tagging = ota_core::tags::tagging_string(&tags);
    let up = put(&c, &bucket, &key, &mut file, size, &tagging).await?;
    if a.no_wait {
        return Ok(Report::uploaded(&up));
    }
    // Long enough for the slowest signer the pipeline itself waits for.
    let within = a.wait_timeout.unwrap_or(
        pipeline
            .max_signing_wait_seconds
            .unwrap_or(DEFAULT_MAX_SIGNING_WAIT_SECONDS)
            + 600,
    );
    follow(
        &c,
        &pipeline.state_machine,
        &up,
        Duration::from_secs(within),
    )
    .await
}

/// The stack parameter MaxSigningWaitSeconds' own default.
const DEFAULT_MAX_SIGNING_WAIT_SECONDS: u64 = 900;

fn progress_bar(size: u64) -> ProgressBar {
    // indicatif draws only to a terminal; redirected output stays clean.
    let bar = ProgressBar::new(size);
    if let Ok(style) = ProgressStyle::with_template(
        "uploading {bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
    ) {
        bar.set_style(style);
    }
    bar
}

/// Uploads `size` bytes of `file` with the tags in the same request, in
/// parts above MULTIPART_THRESHOLD (CRC32 per part, as S3 checks them), and
/// returns the version S3 cut and when S3 says it was written. A failed
/// multipart upload is aborted; a file that changed size while being read
/// is not uploaded.
pub async fn put(
    c: &Clients,
    bucket: &str,
    key: &str,
    file: &mut std::fs::File,
    size: u64,
    tagging: &str,
) -> Result<Uploaded, CliError> {
    let bar = progress_bar(size);
    let changed = || {
        CliError::Usage(format!(
            "the file changed while it was being uploaded to {key}; nothing was kept"
        ))
    };
    let version = if size <= MULTIPART_THRESHOLD {
        let mut body = Vec::with_capacity(size as usize);
        file.read_to_end(&mut body)
            .map_err(|e| read_error(key, e))?;
        if body.len() as u64 != size {
            return Err(changed());
        }
        let out =
            c.s3.put_object()
                .bucket(bucket)
                .key(key)
                .body(ByteStream::from(body))
                .tagging(tagging)
                .send()
                .await
                .map_err(aws("PutObject"))?;
        bar.inc(size);
        out.version_id().map(str::to_string)
    } else {
        let created =
            c.s3.create_multipart_upload()
                .bucket(bucket)
                .key(key)
                .tagging(tagging)
                .checksum_algorithm(ChecksumAlgorithm::Crc32)
                .send()
                .await
                .map_err(aws("CreateMultipartUpload"))?;
        let upload_id = created
            .upload_id()
            .ok_or_else(|| CliError::Aws {
                operation: "CreateMultipartUpload",
                message: "the response has no upload id".into(),
            })?
            .to_string();
        let completed = match upload_parts(c, bucket, key, &upload_id, file, size, &bar).await {
            Ok(parts) => {
                c.s3.complete_multipart_upload()
                    .bucket(bucket)
                    .key(key)
                    .upload_id(&upload_id)
                    .multipart_upload(
                        CompletedMultipartUpload::builder()
                            .set_parts(Some(parts))
                            .build(),
                    )
                    .send()
                    .await
                    .map_err(aws("CompleteMultipartUpload"))
            }
            Err(e) => Err(e),
        };
        match completed {
            Ok(out) => out.version_id().map(str::to_string),
            Err(e) => {
                // No half-uploaded parts left behind (they would be billed
                // and never become an object). If this fails too, the
                // bucket's lifecycle rule removes them after a day.
                let _ =
                    c.s3.abort_multipart_upload()
                        .bucket(bucket)
                        .key(key)
                        .upload_id(&upload_id)
                        .send()
                        .await;
                bar.abandon();
                return Err(e);
            }
        }
    };
    bar.finish_and_clear();
    let version_id = version.filter(|v| !v.is_empty() && v != "null").ok_or_else(|| {
        CliError::NotVersioned(format!(
            "s3://{bucket}/{key} was uploaded but got no version id: the bucket must have versioning enabled (the pipeline pins versions)"
        ))
    })?;
    // S3's clock, not this machine's, says which executions can be this
    // upload's.
    let uploaded_at =
        c.s3.head_object()
            .bucket(bucket)
            .key(key)
            .version_id(&version_id)
            .send()
            .await
            .ok()
            .and_then(|h| h.last_modified().map(|t| t.secs()));
    Ok(Uploaded {
        bucket: bucket.to_string(),
        key: key.to_string(),
        version_id,
        size,
        uploaded_at,
    })
}

fn read_error(key: &str, e: std::io::Error) -> CliError {
    CliError::Io {
        path: format!("the file for {key}"),
        source: e,
    }
}

async fn upload_parts(
    c: &Clients,
    bucket: &str,
    key: &str,
    upload_id: &str,
    f: &mut std::fs::File,
    size: u64,
    bar: &ProgressBar,
) -> Result<Vec<CompletedPart>, CliError> {
    let mut parts = Vec::new();
    let mut sent = 0u64;
    let mut number = 1;
    while sent < size {
        let len = PART_SIZE.min(size - sent);
        let mut buf = vec![0u8; len as usize];
        f.read_exact(&mut buf).map_err(|e| read_error(key, e))?;
        let out =
            c.s3.upload_part()
                .bucket(bucket)
                .key(key)
                .upload_id(upload_id)
                .part_number(number)
                .checksum_algorithm(ChecksumAlgorithm::Crc32)
                .body(ByteStream::from(buf))
                .send()
                .await
                .map_err(aws("UploadPart"))?;
        parts.push(
            CompletedPart::builder()
                .part_number(number)
                .set_e_tag(out.e_tag().map(str::to_string))
                .set_checksum_crc32(out.checksum_crc32().map(str::to_string))
                .build(),
        );
        sent += len;
        number += 1;
        bar.inc(len);
    }
    // A file that grew since it was measured would be cut short.
    if f.read(&mut [0u8; 1]).map_err(|e| read_error(key, e))? != 0 {
        return Err(CliError::Usage(format!(
            "the file changed while it was being uploaded to {key}; nothing was kept"
        )));
    }
    Ok(parts)
}

/// How often to ask: often while a fast update is likely, then less.
fn poll_interval(since: Instant) -> Duration {
    if since.elapsed() < Duration::from_secs(10) {
        Duration::from_millis(500)
    } else {
        Duration::from_secs(2)
    }
}

/// Follows the execution for this upload with a live status line until it
/// ends: the job on success, the failure reason otherwise. Gives up after
/// `within` (the upload stands and the pipeline keeps going).
pub async fn follow(
    c: &Clients,
    state_machine: &str,
    up: &Uploaded,
    within: Duration,
) -> Result<Report, CliError> {
    let began = Instant::now();
    let deadline = began + within;
    let line = ProgressBar::new_spinner();
    line.enable_steady_tick(Duration::from_millis(120));
    line.set_message(format!(
        "waiting for the pipeline to start for version {}",
        up.version_id
    ));
    let mut skip = HashSet::new();
    let gave_up = || {
        CliError::GaveUp(format!(
            "gave up waiting after {}s; s3://{}/{} version {} is uploaded and the pipeline keeps going: see `ota status {} --version-id {}`",
            within.as_secs(),
            up.bucket,
            up.key,
            up.version_id,
            up.key,
            up.version_id
        ))
    };
    // The execution starts within seconds of the upload (EventBridge); only
    // executions started since S3 wrote it (a minute for clock skew between
    // S3 and Step Functions) are candidates.
    let wanted = Wanted {
        bucket: &up.bucket,
        key: &up.key,
        version: Some(&up.version_id),
        not_before: up.uploaded_at.map(|t| t - 60),
    };
    let execution = loop {
        if let Some(e) = c
            .find_execution(state_machine, &wanted, 200, &mut skip)
            .await?
        {
            break e;
        }
        if Instant::now() >= deadline {
            line.finish_and_clear();
            return Err(gave_up());
        }
        tokio::time::sleep(poll_interval(began)).await;
    };
    // Without a terminal the spinner is hidden: one plain line per step.
    let plain = line.is_hidden();
    if plain {
        eprintln!("execution {}", execution.arn);
    }
    let mut last_state = String::new();
    let done = loop {
        let e = c.describe_execution(&execution.arn).await?;
        if e.status != ExecutionStatus::Running {
            break e;
        }
        let state = c
            .progress(&execution.arn)
            .await?
            .current_state
            .unwrap_or_default();
        if !state.is_empty() && state != last_state {
            if plain {
                eprintln!("  {state}");
            }
            last_state = state.clone();
        }
        line.set_message(format!(
            "{} ({}s)",
            if state.is_empty() {
                "starting"
            } else {
                state.as_str()
            },
            began.elapsed().as_secs()
        ));
        if Instant::now() >= deadline {
            line.finish_and_clear();
            return Err(gave_up());
        }
        tokio::time::sleep(poll_interval(began)).await;
    };
    line.finish_and_clear();
    let report = status::report_for_execution(c, &done).await?;
    match (&done.status, &report.job_id) {
        (ExecutionStatus::Succeeded, Some(_)) => Ok(report),
        (ExecutionStatus::Succeeded, None) => Err(CliError::PipelineFailed {
            error: "NoJob".into(),
            cause: "the execution succeeded but its output names no job".into(),
            execution_arn: done.arn.clone(),
        }),
        _ => Err(CliError::PipelineFailed {
            error: report
                .error
                .clone()
                .unwrap_or_else(|| done.status.as_str().to_string()),
            cause: report.cause.clone().unwrap_or_default(),
            execution_arn: done.arn.clone(),
        }),
    }
}
