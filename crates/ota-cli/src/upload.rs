//! `ota upload`: validate, upload with the tags (atomically: the tags are part
//! of the PutObject or CreateMultipartUpload), then follow the execution the
//! upload started until the job exists.

use crate::args::{GlobalArgs, UploadArgs};
use crate::aws::{Clients, Wanted};
use crate::error::{aws, CliError};
use crate::request::{merge_defaults, tags_from_flags, validate_request, Target};
use crate::status::{self, Report};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use aws_sdk_sfn::types::ExecutionStatus;
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::HashSet;
use std::io::Read;
use std::time::{Duration, Instant};

/// Files above this go up in parts (S3's minimum part size is 5 MiB).
pub const MULTIPART_THRESHOLD: u64 = 16 * 1024 * 1024;
pub const PART_SIZE: u64 = 8 * 1024 * 1024;

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

pub struct Uploaded {
    pub bucket: String,
    pub key: String,
    pub version_id: String,
    pub size: u64,
}

pub async fn run(g: &GlobalArgs, a: &UploadArgs) -> Result<Report, CliError> {
    let path = a.file.display().to_string();
    let io = |source| CliError::Io {
        path: path.clone(),
        source,
    };
    let size = std::fs::metadata(&a.file).map_err(io)?.len();
    let clients = Clients::new(g).await?;
    // The pipeline is found before anything is uploaded: no pipeline, no
    // upload. It also says where to upload and the stack's defaults.
    let pipeline = clients.pipeline(g).await?;
    let bucket = pipeline.bucket(a.bucket.as_ref())?;
    let key = match &a.key {
        Some(k) => k.clone(),
        None => default_key(&a.file, pipeline.upload_prefix.as_deref())?,
    };
    if let Some(prefix) = &pipeline.upload_prefix {
        if !key.starts_with(prefix.as_str()) {
            return Err(CliError::Usage(format!(
                "{key} is not under the pipeline's upload prefix {prefix}: the upload would start nothing"
            )));
        }
    }
    let defaults = merge_defaults(&a.defaults, Some(&pipeline.defaults));

    // Validate first: nothing is uploaded for a request the pipeline would
    // reject. The version is not known yet; it only names ids.
    let (tags, problems) = tags_from_flags(&a.request);
    let manifest = match &a.request.manifest {
        Some(m) => Some(crate::validate::read_manifest(&clients, &bucket, m).await?),
        None => None,
    };
    let target = Target {
        bucket: &bucket,
        key: &key,
        version_id: "pending",
        region: &clients.region,
    };
    let manifest_ref = manifest.as_ref().map(|(b, n)| (b.as_slice(), n.as_str()));
    validate_request(&tags, manifest_ref, &defaults, &target, problems)?;
    let tagging = ota_core::tags::tagging_string(&tags);

    let started = time::OffsetDateTime::now_utc().unix_timestamp();
    let up = put(&clients, &bucket, &key, &a.file, size, &tagging).await?;
    if a.no_wait {
        return Ok(Report::uploaded(&up));
    }
    follow(
        &clients,
        &pipeline.state_machine,
        &up,
        started,
        Duration::from_secs(a.wait_timeout),
    )
    .await
}

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

pub async fn put(
    c: &Clients,
    bucket: &str,
    key: &str,
    file: &std::path::Path,
    size: u64,
    tagging: &str,
) -> Result<Uploaded, CliError> {
    let path = file.display().to_string();
    let io = |source| CliError::Io {
        path: path.clone(),
        source,
    };
    let bar = progress_bar(size);
    let version = if size <= MULTIPART_THRESHOLD {
        let body = std::fs::read(file).map_err(io)?;
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
        let mut f = std::fs::File::open(file).map_err(io)?;
        let created =
            c.s3.create_multipart_upload()
                .bucket(bucket)
                .key(key)
                .tagging(tagging)
                .send()
                .await
                .map_err(aws("CreateMultipartUpload"))?;
        let upload_id = created.upload_id().unwrap_or_default().to_string();
        let parts = upload_parts(c, bucket, key, &upload_id, &mut f, size, &bar).await;
        let completed = match parts {
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
                // and never become an object).
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
        CliError::Usage(format!(
            "s3://{bucket}/{key} got no version id: the bucket must have versioning enabled (the pipeline pins versions)"
        ))
    })?;
    Ok(Uploaded {
        bucket: bucket.to_string(),
        key: key.to_string(),
        version_id,
        size,
    })
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
        f.read_exact(&mut buf).map_err(|source| CliError::Io {
            path: key.to_string(),
            source,
        })?;
        let out =
            c.s3.upload_part()
                .bucket(bucket)
                .key(key)
                .upload_id(upload_id)
                .part_number(number)
                .body(ByteStream::from(buf))
                .send()
                .await
                .map_err(aws("UploadPart"))?;
        parts.push(
            CompletedPart::builder()
                .part_number(number)
                .set_e_tag(out.e_tag().map(str::to_string))
                .build(),
        );
        sent += len;
        number += 1;
        bar.inc(len);
    }
    Ok(parts)
}

/// Follows the execution for this upload with a live status line until it
/// ends: the job on success, the failure reason otherwise.
async fn follow(
    c: &Clients,
    state_machine: &str,
    up: &Uploaded,
    started: i64,
    within: Duration,
) -> Result<Report, CliError> {
    let deadline = Instant::now() + within;
    let line = ProgressBar::new_spinner();
    line.enable_steady_tick(Duration::from_millis(120));
    line.set_message(format!(
        "waiting for the pipeline to start for version {}",
        up.version_id
    ));
    let mut skip = HashSet::new();
    let gave_up = || {
        CliError::GaveUp(format!(
            "gave up after {}s; s3://{}/{} version {} is uploaded and the pipeline keeps going: see `ota status {}`",
            within.as_secs(),
            up.bucket,
            up.key,
            up.version_id,
            up.key
        ))
    };
    // The execution starts within seconds of the upload (EventBridge); only
    // executions started since (with a minute for clock skew) are candidates.
    let wanted = Wanted {
        bucket: &up.bucket,
        key: &up.key,
        version: Some(&up.version_id),
        not_before: Some(started - 60),
    };
    let execution = loop {
        if let Some(e) = c
            .find_execution(state_machine, &wanted, 200, &mut skip)
            .await?
        {
            break e;
        }
        if Instant::now() > deadline {
            line.finish_and_clear();
            return Err(gave_up());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
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
        let elapsed = time::OffsetDateTime::now_utc().unix_timestamp() - started;
        line.set_message(format!(
            "{} ({elapsed}s)",
            if state.is_empty() {
                "starting"
            } else {
                state.as_str()
            }
        ));
        if Instant::now() > deadline {
            line.finish_and_clear();
            return Err(gave_up());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    line.finish_and_clear();
    let report = status::report_for_execution(c, &done).await?;
    match (&done.status, &report.job_id) {
        (ExecutionStatus::Succeeded, Some(_)) => Ok(report),
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
