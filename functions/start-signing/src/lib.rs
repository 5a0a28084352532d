//! start-signing: the upload event -> a validated request -> StartSigningJob.
//!
//! Three steps ([`handle`]): pin the exact object version ([`upload`]), read
//! its tags and the optional manifest and merge them over the stack defaults
//! into one validated request (all problems at once, before any side effect),
//! then start AWS Signer on that version with an idempotent token
//! ([`sign`]). Pre-signed firmware skips the signer.

pub mod release;
pub mod sign;
pub mod upload;

use ota_core::event::{partition_of, StartSigningInput, StartSigningOutput, StartSigningRequest};
use ota_core::request::{parse_defaults, resolve, StackDefaults};
use ota_core::state::{S3ObjectVersion, SourceObject};
use ota_core::{OtaError, OtaRequest, PipelineState, Problems, RequestContext, RequestSpec};
use time::OffsetDateTime;
use tracing::Instrument;

/// Settings from the stack (environment variables), read once per cold start.
#[derive(Debug, Clone)]
pub struct Settings {
    pub upload_prefix: String,
    pub signed_prefix: String,
    pub manifest_prefix: String,
    /// Where release manifests (multi-file updates) are uploaded.
    pub release_prefix: String,
    /// The Default* stack parameters.
    pub defaults: StackDefaults,
}

impl Settings {
    pub fn from_env() -> Result<Self, lambda_runtime::Error> {
        Ok(Self {
            upload_prefix: ota_lambda::env_var("UPLOAD_PREFIX")?,
            signed_prefix: ota_lambda::env_var("SIGNED_PREFIX")?,
            manifest_prefix: ota_lambda::env_var("MANIFEST_PREFIX")?,
            release_prefix: ota_lambda::env_var("RELEASE_PREFIX")?,
            defaults: StackDefaults {
                signing_profile: ota_lambda::env_or_empty("DEFAULT_SIGNING_PROFILE"),
                targets: ota_lambda::env_or_empty("DEFAULT_TARGETS"),
                protocols: ota_lambda::env_or_empty("DEFAULT_PROTOCOLS"),
                document_format: ota_lambda::env_or_empty("DEFAULT_DOCUMENT_FORMAT"),
                devices: ota_lambda::env_or_empty("DEFAULT_DEVICES"),
            },
        })
    }
}

/// The clients and settings, built once per cold start.
pub struct Deps {
    pub s3: aws_sdk_s3::Client,
    pub signer: aws_sdk_signer::Client,
    pub settings: Settings,
    /// The stack defaults parsed once; their problems are reported with every
    /// request they would affect.
    pub defaults: (RequestSpec, Problems),
    /// The clock (when signing started); tests may fix it.
    pub now: fn() -> OffsetDateTime,
}

impl Deps {
    pub fn new(s3: aws_sdk_s3::Client, signer: aws_sdk_signer::Client, settings: Settings) -> Self {
        let defaults = parse_defaults(&settings.defaults);
        Self {
            s3,
            signer,
            settings,
            defaults,
            now: ota_lambda::now,
        }
    }
}

/// The function's entry: an upload (or a release manifest), or one file of
/// a release to sign (the Sign Files map).
pub async fn handle_request(
    request: StartSigningRequest,
    deps: &Deps,
) -> Result<StartSigningOutput, OtaError> {
    match request {
        StartSigningRequest::Upload(input) => handle(*input, deps).await,
        StartSigningRequest::SignFile { sign_file } => {
            let span = tracing::info_span!(
                "step",
                step = "sign_file",
                key = %sign_file.file.key,
                version_id = %sign_file.file.version_id,
                release_key = %sign_file.source.key,
                execution_id = %sign_file.execution_id,
                signing_job_id = tracing::field::Empty
            );
            let run = release::sign_file(*sign_file, deps)
                .instrument(span)
                .await?;
            Ok(StartSigningOutput::File(Box::new(run)))
        }
    }
}

/// An upload's run: its request validated and its signing started; for a
/// release manifest, the release validated (crate::release); for a file of
/// a release (tagged `ota:release`), nothing.
pub async fn handle(input: StartSigningInput, deps: &Deps) -> Result<StartSigningOutput, OtaError> {
    let upload_time = upload::check_event(&input, &deps.settings)?;
    let source = upload::pin_version(&deps.s3, &input).await?;
    // Every line from here on carries the object and the run; the job and
    // signing job ids join once they are known.
    let span = tracing::info_span!(
        "step",
        step = "start_signing",
        bucket = %source.bucket,
        key = %source.key,
        version_id = %source.version_id,
        execution_id = %input.execution_id,
        job_id = tracing::field::Empty,
        signing_job_id = tracing::field::Empty
    );
    async move {
        let tags = upload::read_tags(&deps.s3, &source).await?;
        let is_release = source.key.starts_with(&deps.settings.release_prefix);
        if let Some(skipped) = release::file_of_release(&source, &tags).filter(|_| !is_release) {
            tracing::info!(part_of = %skipped.part_of, "a file of a release: its release manifest starts the update");
            return Ok(StartSigningOutput::Skipped(skipped));
        }
        if is_release {
            let attempt = input.event.attempt;
            let state =
                release::start(deps, input.execution_id, upload_time, source, tags, attempt).await?;
            return Ok(StartSigningOutput::Run(Box::new(state)));
        }
        let (mut request, merged, manifest) =
            read_request(deps, upload_time, &source, &tags).await?;
        // A re-run (`ota retry`) makes a job of its own, never one with the
        // id of a job that may have been deleted (ota_core::ids::retry_job_id).
        request.job_id = ota_core::ids::retry_job_id(&request.job_id, input.event.attempt);
        if let Some(m) = &manifest {
            tracing::info!(manifest_key = %m.key, manifest_version = %m.version_id, "read the manifest as it was at the upload");
        }
        tracing::Span::current().record("job_id", request.job_id.as_str());
        let checked = ota_aws::check_signing(&deps.signer, &request, &merged, &source).await?;
        ota_aws::device_log::warn_findings(&checked.device_warnings);
        ota_core::package_version::check_request(&request, &source, &checked.certfile)?;
        let attempt = input.event.attempt;
        let signing = sign::start(
            deps,
            &request.signing,
            &source,
            checked.certfile,
            sign::upload_token(&source, attempt),
        )
        .await?;
        Ok(StartSigningOutput::Run(Box::new(PipelineState {
            execution_id: input.execution_id,
            source,
            request,
            manifest,
            signing,
            signed_file: None,
            stream: None,
            job: None,
            release: None,
            error: None,
        })))
    }
    .instrument(span)
    .await
}

/// The object's tags and the manifest they name (as it was at the upload),
/// over the stack defaults: the validated request, the merged spec (which
/// says where each value came from, for messages) and the manifest version.
async fn read_request(
    deps: &Deps,
    upload_time: OffsetDateTime,
    source: &SourceObject,
    tags: &[(String, String)],
) -> Result<(OtaRequest, RequestSpec, Option<S3ObjectVersion>), OtaError> {
    let (tag_spec, mut problems) = ota_core::tags::parse_tags(tags);
    let (manifest_spec, manifest) = ota_aws::read_named_manifest(
        &deps.s3,
        &source.bucket,
        tag_spec.manifest.as_deref(),
        &deps.settings.manifest_prefix,
        Some(upload_time),
        &mut problems,
    )
    .await?;
    let ctx = request_context(source, upload_time);
    let (request, merged) = resolve(tag_spec, manifest_spec, &deps.defaults, problems, &ctx)?;
    Ok((request, merged, manifest))
}

/// What validation needs to know about the uploaded object version.
pub(crate) fn request_context(
    source: &SourceObject,
    upload_time: OffsetDateTime,
) -> RequestContext {
    RequestContext {
        partition: partition_of(&source.region).to_string(),
        region: source.region.clone(),
        account: source.account.clone(),
        bucket: source.bucket.clone(),
        key: source.key.clone(),
        version_id: source.version_id.clone(),
        upload_time,
    }
}
