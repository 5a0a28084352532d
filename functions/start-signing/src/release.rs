//! A release manifest uploaded under the release prefix: a multi-file
//! update. [`start`] validates everything before any side effect (the
//! request, every file: under the upload prefix, pinned, not empty, its
//! profile usable for its size, and the one document with every file) and
//! returns the state with each file Pending; the state machine's Sign Files
//! map then runs [`sign_file`] for each, in parallel.

use crate::{sign, Deps};
use ota_core::event::SkippedUpload;
use ota_core::release::{self, Prefixes, ReleaseFile, FILES_FIELD};
use ota_core::state::{
    FileSigningRun, ReleaseFileState, ReleaseState, SigningState, SigningStatus, SourceObject,
};
use ota_core::{ids, OtaError, OtaRequest, PipelineState, Problems};
use time::OffsetDateTime;
use tracing::info;

/// The validated release, its files Pending.
pub async fn start(
    deps: &Deps,
    execution_id: String,
    upload_time: OffsetDateTime,
    source: SourceObject,
    tags: Vec<(String, String)>,
    attempt: u32,
) -> Result<PipelineState, OtaError> {
    let (mut request, merged, files) = read_release(deps, upload_time, &source, &tags).await?;
    request.job_id = ids::retry_job_id(&request.job_id, attempt);
    tracing::Span::current().record("job_id", request.job_id.as_str());
    let mut files = pin_files(deps, &source.bucket, files).await?;
    let warnings = ota_aws::preflight::check_release_signing(
        &deps.signer,
        &request,
        &merged,
        &source,
        &mut files,
    )
    .await?;
    ota_aws::device_log::warn_findings(&warnings);
    info!(
        files = files.len(),
        "release validated; its files are signed next"
    );
    Ok(PipelineState {
        execution_id,
        manifest: Some(ota_core::state::S3ObjectVersion {
            bucket: source.bucket.clone(),
            key: source.key.clone(),
            version_id: source.version_id.clone(),
        }),
        signing: not_applicable(&source),
        source,
        request,
        signed_file: None,
        stream: None,
        job: None,
        release: Some(ReleaseState { attempt, files }),
        error: None,
    })
}

/// An upload tagged `ota:release` is a file of that release: it starts
/// nothing (the release manifest does). (crate::handle asks only for keys
/// outside the release prefix: a release manifest is never skipped.)
pub fn file_of_release(source: &SourceObject, tags: &[(String, String)]) -> Option<SkippedUpload> {
    let (_, part_of) = tags.iter().find(|(k, _)| k == release::RELEASE_FILE_TAG)?;
    Some(SkippedUpload {
        skipped: format!(
            "s3://{}/{} is a file of the release {part_of} (tag {}): it starts no update of its own; nothing was signed, streamed or created",
            source.bucket, source.key, release::RELEASE_FILE_TAG
        ),
        key: source.key.clone(),
        version_id: source.version_id.clone(),
        part_of: part_of.clone(),
    })
}

/// The run-level signing of a release: each file has its own.
fn not_applicable(source: &SourceObject) -> SigningState {
    SigningState {
        status: SigningStatus::NotRequired,
        job_id: None,
        certfile: String::new(),
        attempts: 0,
        wait_seconds: 0,
        started_at: source.upload_time.clone(),
        signed_object: None,
    }
}

/// The release manifest's tags over the manifest over the stack defaults,
/// validated; its files resolved against the prefixes
/// (ota_core::release::decide, which `ota release` runs before uploading).
async fn read_release(
    deps: &Deps,
    upload_time: OffsetDateTime,
    source: &SourceObject,
    tags: &[(String, String)],
) -> Result<(OtaRequest, ota_core::RequestSpec, Vec<ReleaseFile>), OtaError> {
    let (tag_spec, mut problems) = ota_core::tags::parse_tags(tags);
    let (manifest_spec, file_specs) =
        ota_aws::manifest::read_release_manifest(&deps.s3, source, &mut problems).await?;
    let s = &deps.settings;
    let prefixes = Prefixes {
        upload: &s.upload_prefix,
        signed: &s.signed_prefix,
        manifest: &s.manifest_prefix,
        release: &s.release_prefix,
    };
    let input = release::ReleaseInput {
        tags: tag_spec,
        manifest: manifest_spec,
        files: file_specs,
        problems,
    };
    release::decide(
        input,
        &deps.defaults,
        &prefixes,
        &crate::request_context(source, upload_time),
    )
}

/// Every file's version pinned (the given one, or the current one) with its
/// size; every file that does not exist, is empty or unversioned is a
/// problem under its `manifest.files[i].key`, all reported at once.
async fn pin_files(
    deps: &Deps,
    bucket: &str,
    files: Vec<ReleaseFile>,
) -> Result<Vec<ReleaseFileState>, OtaError> {
    let mut problems = Problems::default();
    let mut out = Vec::new();
    for (i, f) in files.into_iter().enumerate() {
        let pinned =
            ota_aws::manifest::pin_release_file(&deps.s3, bucket, &f.key, f.version_id.as_deref())
                .await?;
        match pinned {
            Ok((version_id, size)) => out.push(release::pending(f, version_id, size)),
            Err(problem) => problems.push(format!("{FILES_FIELD}[{i}].key"), problem),
        }
    }
    problems.into_result()?;
    Ok(out)
}

/// One iteration of the Sign Files map: starts the file's signing job (with
/// a token naming the release and the file, [`ids::release_signing_token`])
/// and takes its first look; a pre-signed or unsigned file passes through.
pub async fn sign_file(mut run: FileSigningRun, deps: &Deps) -> Result<FileSigningRun, OtaError> {
    if run.file.signing.status != SigningStatus::Pending {
        return Ok(run);
    }
    let src = release::file_source(&run.source, &run.file);
    let (release_key, release_version) = (run.source.key.clone(), run.source.version_id.clone());
    let attempt = run.attempt;
    let token = |profile: &str| {
        ids::release_signing_token(
            &src.bucket,
            (&release_key, &release_version),
            (&src.key, &src.version_id),
            profile,
            attempt,
        )
    };
    let certfile = run.file.signing.certfile.clone();
    run.file.signing = sign::start(deps, &run.file.method, &src, certfile, token).await?;
    Ok(run)
}
