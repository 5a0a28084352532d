//! Putting the file in S3 with its tags: one PutObject up to
//! MULTIPART_THRESHOLD, parts above it (CRC32 per part, as S3 checks them).

use crate::aws::{Clients, Uploaded};
use crate::error::{aws, CliError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::Read;

/// Files above this go up in parts, so the progress bar moves part by part.
pub const MULTIPART_THRESHOLD: u64 = 8 * 1024 * 1024;
/// S3's smallest part (all but the last).
pub const PART_SIZE: u64 = 5 * 1024 * 1024;

/// Where the object goes and what it carries.
struct Destination<'a> {
    bucket: &'a str,
    key: &'a str,
    tagging: &'a str,
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

fn changed(key: &str) -> CliError {
    CliError::Usage(format!(
        "the file changed while it was being uploaded to {key}; nothing was kept"
    ))
}

/// Uploads `size` bytes of `file` with the tags in the same request, in
/// parts above MULTIPART_THRESHOLD, and returns the version S3 cut and when
/// S3 says it was written. A failed multipart upload is aborted; a file that
/// changed size while being read is not uploaded.
pub async fn put(
    c: &Clients,
    bucket: &str,
    key: &str,
    file: &mut std::fs::File,
    size: u64,
    tagging: &str,
) -> Result<Uploaded, CliError> {
    let bar = progress_bar(size);
    let to = Destination {
        bucket,
        key,
        tagging,
    };
    let version = if size <= MULTIPART_THRESHOLD {
        put_whole(c, &to, file, size, &bar).await?
    } else {
        put_in_parts(c, &to, file, size, &bar).await?
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

/// Writes a manifest the command made for the flags (crate::placement),
/// before the firmware: start-signing reads the manifest version current at
/// the firmware's upload, so it must exist first.
pub async fn put_manifest(
    c: &Clients,
    bucket: &str,
    manifest: &crate::placement::WrittenManifest,
) -> Result<(), CliError> {
    c.s3.put_object()
        .bucket(bucket)
        .key(&manifest.key)
        .content_type("application/json")
        .body(ByteStream::from(manifest.text.clone().into_bytes()))
        .send()
        .await
        .map_err(aws("PutObject (manifest)"))?;
    Ok(())
}

/// One PutObject with the tags; the version id S3 cut.
async fn put_whole(
    c: &Clients,
    to: &Destination<'_>,
    file: &mut std::fs::File,
    size: u64,
    bar: &ProgressBar,
) -> Result<Option<String>, CliError> {
    let mut body = Vec::with_capacity(size as usize);
    file.read_to_end(&mut body)
        .map_err(|e| read_error(to.key, e))?;
    if body.len() as u64 != size {
        return Err(changed(to.key));
    }
    let out =
        c.s3.put_object()
            .bucket(to.bucket)
            .key(to.key)
            .body(ByteStream::from(body))
            .tagging(to.tagging)
            .send()
            .await
            .map_err(aws("PutObject"))?;
    bar.inc(size);
    Ok(out.version_id().map(str::to_string))
}

/// A multipart upload with the tags on CreateMultipartUpload, aborted if any
/// part or the completion fails; the version id S3 cut.
async fn put_in_parts(
    c: &Clients,
    to: &Destination<'_>,
    file: &mut std::fs::File,
    size: u64,
    bar: &ProgressBar,
) -> Result<Option<String>, CliError> {
    let created =
        c.s3.create_multipart_upload()
            .bucket(to.bucket)
            .key(to.key)
            .tagging(to.tagging)
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
    let completed = match upload_parts(c, to, &upload_id, file, size, bar).await {
        Ok(parts) => {
            c.s3.complete_multipart_upload()
                .bucket(to.bucket)
                .key(to.key)
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
        Ok(out) => Ok(out.version_id().map(str::to_string)),
        Err(e) => {
            // No half-uploaded parts left behind (they would be billed and
            // never become an object). If this fails too, the bucket's
            // lifecycle rule removes them after a day.
            let _ =
                c.s3.abort_multipart_upload()
                    .bucket(to.bucket)
                    .key(to.key)
                    .upload_id(&upload_id)
                    .send()
                    .await;
            bar.abandon();
            Err(e)
        }
    }
}

fn read_error(key: &str, e: std::io::Error) -> CliError {
    CliError::Io {
        path: format!("the file for {key}"),
        source: e,
    }
}

async fn upload_parts(
    c: &Clients,
    to: &Destination<'_>,
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
        f.read_exact(&mut buf).map_err(|e| read_error(to.key, e))?;
        let out =
            c.s3.upload_part()
                .bucket(to.bucket)
                .key(to.key)
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
    if f.read(&mut [0u8; 1]).map_err(|e| read_error(to.key, e))? != 0 {
        return Err(changed(to.key));
    }
    Ok(parts)
}
