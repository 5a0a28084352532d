//! start-signing: the upload event -> a validated request -> StartSigningJob.
//!
//! Pins the exact object version, reads its tags and the optional manifest,
//! merges them over the stack defaults, validates everything (all problems at
//! once, before any side effect) and starts AWS Signer on that version with an
//! idempotent token. Pre-signed firmware skips the signer.

use aws_sdk_signer::types::{Destination, S3Destination, S3Source, Source};
use ota_core::event::{partition_of, StartSigningInput};
use ota_core::manifest::{parse_manifest, MAX_MANIFEST_BYTES};
use ota_core::request::{parse_defaults, resolve};
use ota_core::state::{
    judge_signing_job, S3Location, SigningState, SigningStatus, SigningVerdict, SourceObject,
    FIRST_SIGNING_WAIT_SECONDS,
};
use ota_core::{ids, OtaError, PipelineState, Problems, RequestContext, RequestSpec, Signing};
use ota_lambda::{classify, classify_not_found, is_not_found};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tracing::{info, warn};

/// Settings from the stack (environment variables), read once per cold start.
#[derive(Debug, Clone)]
pub struct Settings {
    pub upload_prefix: String,
    pub signed_prefix: String,
    pub manifest_prefix: String,
    pub default_profile: String,
    pub default_targets: String,
    pub default_protocols: String,
}

impl Settings {
    pub fn from_env() -> Result<Self, lambda_runtime::Error> {
        Ok(Self {
            upload_prefix: ota_lambda::env_var("UPLOAD_PREFIX")?,
            signed_prefix: ota_lambda::env_var("SIGNED_PREFIX")?,
            manifest_prefix: ota_lambda::env_var("MANIFEST_PREFIX")?,
            default_profile: ota_lambda::env_or_empty("DEFAULT_SIGNING_PROFILE"),
            default_targets: ota_lambda::env_or_empty("DEFAULT_TARGETS"),
            default_protocols: ota_lambda::env_or_empty("DEFAULT_PROTOCOLS"),
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
}

impl Deps {
    pub fn new(s3: aws_sdk_s3::Client, signer: aws_sdk_signer::Client, settings: Settings) -> Self {
        let defaults = parse_defaults(
            &settings.default_profile,
            &settings.default_targets,
            &settings.default_protocols,
        );
        Self {
            s3,
            signer,
            settings,
            defaults,
        }
    }
}

/// The largest firmware the AmazonFreeRTOS-* signing platforms accept.
pub const FREERTOS_MAX_FIRMWARE_BYTES: u64 = 16 * 1024 * 1024;
/// The largest file AWSIoTDeviceManagement-SHA256-ECDSA signs.
pub const DEVICE_MANAGEMENT_MAX_FIRMWARE_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// The largest file each signing platform (by id prefix) accepts.
const PLATFORM_MAX_BYTES: &[(&str, u64)] = &[
    ("AmazonFreeRTOS", FREERTOS_MAX_FIRMWARE_BYTES),
    (
        "AWSIoTDeviceManagement",
        DEVICE_MANAGEMENT_MAX_FIRMWARE_BYTES,
    ),
];

pub async fn handle(input: StartSigningInput, deps: &Deps) -> Result<PipelineState, OtaError> {
    let ev = &input.event;
    if ev.source != "aws.s3" || ev.detail_type != "Object Created" {
        return Err(ota_core::error::invalid(
            "event",
            format!(
                "expected an aws.s3 'Object Created' event, got {} '{}'",
                ev.source, ev.detail_type
            ),
        ));
    }
    let bucket = ev.detail.bucket.name.clone();
    let key = ev.detail.object.key.clone();
    let s = &deps.settings;
    // The EventBridge rule matches the upload prefix only; checking again here
    // means a misconfigured rule can never make the pipeline sign its own output.
    if !key.starts_with(&s.upload_prefix) || key.starts_with(&s.signed_prefix) {
        return Err(ota_core::error::invalid(
            "event",
            format!(
                "s3://{bucket}/{key} is not under the upload prefix {}",
                s.upload_prefix
            ),
        ));
    }
    let upload_time = OffsetDateTime::parse(&ev.time, &Rfc3339).map_err(|_| {
        ota_core::error::invalid("event", format!("event time '{}' is not RFC 3339", ev.time))
    })?;

    // Pin the exact version: everything downstream uses it.
    let (version_id, size) = match (&ev.detail.object.version_id, ev.detail.object.size) {
        (Some(v), Some(size)) if !v.is_empty() => (v.clone(), size),
        _ => {
            warn!(bucket = %bucket, key = %key, "event has no object version id; pinning the current version with HeadObject");
            let head = deps
                .s3
                .head_object()
                .bucket(&bucket)
                .key(&key)
                .send()
                .await
                .map_err(|e| {
                    classify_not_found("HeadObject", &e, || {
                        OtaError::SourceNotFound(format!("s3://{bucket}/{key} no longer exists"))
                    })
                })?;
            let v = head.version_id().filter(|v| !v.is_empty() && *v != "null").ok_or_else(|| {
                ota_core::error::invalid(
                    "bucket",
                    format!("s3://{bucket}/{key} has no version id: the bucket must have versioning enabled"),
                )
            })?;
            (
                v.to_string(),
                head.content_length().unwrap_or(0).max(0) as u64,
            )
        }
    };
    // Every line from here on carries the object and the run; the job and
    // signing job ids join once they are known.
    let span = tracing::info_span!(
        "step",
        step = "start_signing",
        bucket = %bucket,
        key = %key,
        version_id = %version_id,
        execution_id = %input.execution_id,
        job_id = tracing::field::Empty,
        signing_job_id = tracing::field::Empty
    );
    let _enter = span.enter();

    let tagging = deps
        .s3
        .get_object_tagging()
        .bucket(&bucket)
        .key(&key)
        .version_id(&version_id)
        .send()
        .await
        .map_err(|e| {
            classify_not_found("GetObjectTagging", &e, || {
                OtaError::SourceNotFound(format!(
                    "s3://{bucket}/{key} version {version_id} no longer exists"
                ))
            })
        })?;
    let tags: Vec<(String, String)> = tagging
        .tag_set()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect();

    let (tag_spec, mut problems) = ota_core::tags::parse_tags(&tags);
    let manifest_spec = read_named_manifest(
        &deps.s3,
        &bucket,
        tag_spec.manifest.as_deref(),
        &s.manifest_prefix,
        &mut problems,
    )
    .await?;
    let region = ev.region.clone();
    let ctx = RequestContext {
        partition: partition_of(&region).to_string(),
        region: region.clone(),
        account: ev.account.clone(),
        bucket: bucket.clone(),
        key: key.clone(),
        version_id: version_id.clone(),
        upload_time,
    };
    let (request, merged) = resolve(tag_spec, manifest_spec, &deps.defaults, problems, &ctx)?;

    span.record("job_id", request.job_id.as_str());
    let started_at = OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default();
    let source = SourceObject {
        bucket: bucket.clone(),
        key: key.clone(),
        version_id: version_id.clone(),
        upload_time: ev.time.clone(),
        size,
        region,
        account: ev.account.clone(),
        partition: ctx.partition.clone(),
    };
    let certfile = check_signing(&deps.signer, &request, &merged, &source).await?;
    let signing = match &request.signing {
        Signing::PreSigned { .. } => {
            info!("pre-signed firmware: no signing job");
            SigningState {
                status: SigningStatus::NotRequired,
                job_id: None,
                certfile,
                attempts: 0,
                wait_seconds: 0,
                started_at,
                signed_object: None,
            }
        }
        Signing::Profile { profile_name } => {
            let token = ids::signing_token(&bucket, &key, &version_id, profile_name);
            let source = S3Source::builder()
                .bucket_name(&bucket)
                .key(&key)
                .version(&version_id)
                .build()
                .map_err(|e| OtaError::Internal(format!("S3Source: {e}")))?;
            let out = deps
                .signer
                .start_signing_job()
                .source(Source::builder().s3(source).build())
                .destination(
                    Destination::builder()
                        .s3(
                            S3Destination::builder()
                                .bucket_name(&bucket)
                                .prefix(&s.signed_prefix)
                                .build(),
                        )
                        .build(),
                )
                .profile_name(profile_name)
                .client_request_token(token)
                .send()
                .await
                .map_err(|e| {
                    let detail = aws_smithy_types::error::display::DisplayErrorContext(&e).to_string();
                    classify_not_found("StartSigningJob", &e, || {
                        OtaError::SourceNotFound(format!(
                            "StartSigningJob: s3://{bucket}/{key} version {version_id} or profile {profile_name} not found: {detail}"
                        ))
                    })
                })?;
            let job_id = out
                .job_id()
                .ok_or_else(|| OtaError::Internal("StartSigningJob returned no job id".into()))?;
            span.record("signing_job_id", job_id);
            info!(profile = %profile_name, "signing started");
            let signed_object = first_look(deps, job_id).await?;
            SigningState {
                status: if signed_object.is_some() {
                    SigningStatus::Succeeded
                } else {
                    SigningStatus::InProgress
                },
                job_id: Some(job_id.to_string()),
                certfile,
                attempts: 0,
                wait_seconds: if signed_object.is_some() {
                    0
                } else {
                    FIRST_SIGNING_WAIT_SECONDS
                },
                started_at,
                signed_object,
            }
        }
    };
    Ok(PipelineState {
        execution_id: input.execution_id,
        source,
        request,
        signing,
        signed_file: None,
        stream: None,
        job: None,
        error: None,
    })
}

/// The job document must fit CreateJob's limit whatever signature the signer
/// returns: checked before signing, so an update that could never become a
/// job signs and streams nothing. `field` is where the certificate path came
/// from (the profile's certname or ota:certfile), the usual cause.
fn document_fits(
    request: &ota_core::OtaRequest,
    source: &SourceObject,
    certfile: &str,
    field: &str,
) -> Result<(), OtaError> {
    let stream_id = ids::stream_id(&source.bucket, &source.key, &source.version_id);
    let facts = ota_core::job_document::FileFacts {
        bucket: &source.bucket,
        key: &source.key,
        version_id: &source.version_id,
        region: &source.region,
        size: source.size,
        signature: "",
        signature_algorithm: "",
        certfile,
        stream_id: Some(&stream_id),
    };
    ota_core::job_document::check_fits_any_signature(request, &facts, field)
}

/// One DescribeSigningJob right after StartSigningJob. A signer that has
/// already finished (small images often do) saves the state machine's Wait
/// and one await-signing round trip. A signer that failed fails the run here,
/// before anything else exists. An error from this call is not the run's
/// problem: await-signing asks again after the first Wait, with the full
/// error mapping and the overall time limit.
async fn first_look(deps: &Deps, job_id: &str) -> Result<Option<S3Location>, OtaError> {
    let out = match deps
        .signer
        .describe_signing_job()
        .job_id(job_id)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => {
            warn!(signing_job_id = %job_id, error = %aws_smithy_types::error::display::DisplayErrorContext(&e), "first DescribeSigningJob failed; await-signing will ask again");
            return Ok(None);
        }
    };
    let signed = out.signed_object().and_then(|o| o.s3());
    match judge_signing_job(
        job_id,
        out.status().map(|s| s.as_str()).unwrap_or_default(),
        out.status_reason(),
        signed.and_then(|s| s.bucket_name()),
        signed.and_then(|s| s.key()),
    )? {
        SigningVerdict::Succeeded(signed_object) => {
            info!(signing_job_id = %job_id, signed_bucket = %signed_object.bucket, signed_key = %signed_object.key, "signing already succeeded");
            Ok(Some(signed_object))
        }
        SigningVerdict::InProgress => Ok(None),
    }
}

/// The manifest's bytes, `Ok(Err(problem))` when the user named a manifest
/// that cannot be used, `Err` for a failure worth retrying or reporting as is.
/// The manifest the tags name (`manifest`), read from the bucket and parsed;
/// its problems (outside the manifest prefix, missing, too large, invalid)
/// go into `problems`. An AWS failure other than "not found" is an error.
/// The `ota` command reads manifests with this too.
pub async fn read_named_manifest(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    manifest: Option<&str>,
    manifest_prefix: &str,
    problems: &mut Problems,
) -> Result<RequestSpec, OtaError> {
    let Some(m) = manifest else {
        return Ok(RequestSpec::default());
    };
    if !m.starts_with(manifest_prefix) {
        problems.push(
            "ota:manifest",
            format!("'{m}' is not under the manifest prefix {manifest_prefix}"),
        );
        return Ok(RequestSpec::default());
    }
    match read_manifest(s3, bucket, m).await? {
        Ok(bytes) => {
            let (spec, p) = parse_manifest(&bytes, m);
            problems.extend(p);
            Ok(spec)
        }
        Err(problem) => {
            problems.push("ota:manifest", problem);
            Ok(RequestSpec::default())
        }
    }
}

async fn read_manifest(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Result<Result<Vec<u8>, String>, OtaError> {
    let out = match s3.get_object().bucket(bucket).key(key).send().await {
        Ok(o) => o,
        Err(e) if is_not_found(&e) => {
            return Ok(Err(format!("s3://{bucket}/{key} does not exist")))
        }
        Err(e) => return Err(classify("GetObject (manifest)", &e)),
    };
    if out.content_length().unwrap_or(0) > MAX_MANIFEST_BYTES as i64 {
        return Ok(Err(format!(
            "s3://{bucket}/{key} is {} bytes; a manifest is at most {MAX_MANIFEST_BYTES}",
            out.content_length().unwrap_or(0)
        )));
    }
    let mut body = out.body;
    let mut bytes = Vec::new();
    while let Some(chunk) = body.try_next().await.map_err(|e| {
        OtaError::ServiceUnavailable(format!("reading manifest s3://{bucket}/{key}: {e}"))
    })? {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > MAX_MANIFEST_BYTES {
            return Ok(Err(format!(
                "s3://{bucket}/{key} is larger than {MAX_MANIFEST_BYTES} bytes"
            )));
        }
    }
    Ok(Ok(bytes))
}

/// What must hold before anything is signed, streamed or created, beyond
/// the request's own rules: the signing profile is usable for this file and
/// the job document will fit. Returns the certificate path on the device.
/// The `ota` command runs this before it uploads.
pub async fn check_signing(
    signer: &aws_sdk_signer::Client,
    request: &ota_core::OtaRequest,
    merged: &RequestSpec,
    source: &SourceObject,
) -> Result<String, OtaError> {
    let (certfile, field) = match &request.signing {
        Signing::PreSigned { certfile, .. } => (certfile.clone(), merged.source_of("certfile")),
        Signing::Profile { profile_name } => {
            let field = merged.source_of("profile");
            let certfile = check_profile(signer, profile_name, &field, source.size).await?;
            (certfile, field)
        }
    };
    document_fits(request, source, &certfile, &field)?;
    Ok(certfile)
}

/// Checks the profile before signing: it exists, is Active, names the
/// certificate path on the device (`certname`), and its platform accepts a
/// file this large. Returns the certname.
async fn check_profile(
    signer: &aws_sdk_signer::Client,
    profile: &str,
    field: &str,
    size: u64,
) -> Result<String, OtaError> {
    let out = match signer
        .get_signing_profile()
        .profile_name(profile)
        .send()
        .await
    {
        Ok(o) => o,
        Err(e) if is_not_found(&e) => {
            return Err(ota_core::error::invalid(
                field,
                format!("signing profile '{profile}' does not exist in this account and region"),
            ))
        }
        Err(e) => return Err(classify("GetSigningProfile", &e)),
    };
    let mut problems = Problems::default();
    if let Some(status) = out.status() {
        if status.as_str() != "Active" {
            problems.push(
                field,
                format!(
                    "signing profile '{profile}' is {}, not Active",
                    status.as_str()
                ),
            );
        }
    }
    let certname = out
        .signing_parameters()
        .and_then(|p| p.get("certname"))
        .cloned()
        .unwrap_or_default();
    if certname.is_empty() {
        problems.push(
            field,
            format!("signing profile '{profile}' has no 'certname' signing parameter (the certificate path on the device)"),
        );
    }
    let platform = out.platform_id().unwrap_or("");
    for (prefix, max) in PLATFORM_MAX_BYTES {
        if platform.starts_with(prefix) && size > *max {
            problems.push(
                field,
                format!(
                    "the firmware is {size} bytes; the {platform} signing platform accepts at most {max}"
                ),
            );
        }
    }
    problems.into_result()?;
    Ok(certname)
}
