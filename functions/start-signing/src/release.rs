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
use ota_core::{ids, OtaError, OtaRequest, PipelineState, Problems, Signing};
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
/// validated; its files resolved against the prefixes.
async fn read_release(
    deps: &Deps,
    upload_time: OffsetDateTime,
    source: &SourceObject,
    tags: &[(String, String)],
) -> Result<(OtaRequest, ota_core::RequestSpec, Vec<ReleaseFile>), OtaError> {
    let (tag_spec, mut problems) = ota_core::tags::parse_tags(tags);
    if tag_spec.manifest.is_some() {
        problems.push(
            "ota:manifest",
            "a release manifest is itself the manifest; put the fields in it (or in its other ota:* tags)",
        );
    }
    let (manifest_spec, file_specs) =
        ota_aws::manifest::read_release_manifest(&deps.s3, source, &mut problems).await?;
    let ctx = crate::request_context(source, upload_time);
    let mut merged =
        ota_core::request::merge(tag_spec, manifest_spec, &deps.defaults, &mut problems);
    // Each file is signed on its own (its profile, else the release's or the
    // stack's): the request-level rule "a profile or a signature" gives way
    // to release::resolve's, which names the file (the signing rules stay
    // quiet for a field marked so).
    merged.unparsed.insert("profile");
    refuse_single_file_features(&merged, &mut problems);
    let s = &deps.settings;
    let prefixes = Prefixes {
        upload: &s.upload_prefix,
        signed: &s.signed_prefix,
        manifest: &s.manifest_prefix,
        release: &s.release_prefix,
    };
    let files = match release::resolve(
        &file_specs,
        merged.format.unwrap_or_default(),
        merged.profile.as_deref(),
        &prefixes,
    ) {
        Ok(files) => files,
        Err(e) => {
            problems.extend(Problems(e.problems().to_vec()));
            Vec::new()
        }
    };
    let (request, merged) = ota_core::request::validate_merged(merged, problems, &ctx)?;
    Ok((request, merged, files))
}

/// What describes one file and so does not fit a release (yet): a package
/// version records one file's signature and stream file id.
fn refuse_single_file_features(merged: &ota_core::RequestSpec, p: &mut Problems) {
    for (set, field) in [
        (merged.register_package.is_some(), "register_package"),
        (merged.document_values.is_some(), "document_values"),
    ] {
        if set {
            p.push(
                merged.source_of(field),
                "registers one file as a package version, and a release has several; leave it out of a release (ota:packages may still name versions to deploy)",
            );
        }
    }
    for field in ["signature", "signature_algorithm", "certfile"] {
        if merged.sources.contains_key(field) {
            p.push(
                merged.source_of(field),
                format!("is per file in a release: give customCodeSigning in the entries of {FILES_FIELD}"),
            );
        }
    }
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
            Ok((version_id, size)) => out.push(ReleaseFileState {
                key: f.key,
                version_id,
                size,
                file_path: f.file_path,
                file_type: f.file_type,
                signing: SigningState {
                    status: match f.signing {
                        Signing::Profile { .. } => SigningStatus::Pending,
                        _ => SigningStatus::NotRequired,
                    },
                    job_id: None,
                    certfile: String::new(),
                    attempts: 0,
                    wait_seconds: 0,
                    started_at: String::new(),
                    signed_object: None,
                },
                method: f.signing,
                signed_file: None,
            }),
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
