//! Starting the signer on the pinned version, and its first look.

use crate::Deps;
use aws_sdk_signer::types::{Destination, S3Destination, S3Source, Source};
use ota_aws::classify_not_found;
use ota_aws::signer::{look, LookFailed};
use ota_core::state::{
    S3Location, SigningState, SigningStatus, SigningVerdict, SourceObject,
    FIRST_SIGNING_WAIT_SECONDS,
};
use ota_core::{ids, OtaError, Signing};
use time::format_description::well_known::Rfc3339;
use tracing::{info, warn};

/// The signing part of the state: a started signing job (already finished
/// when the signer was quick), or none for pre-signed firmware and
/// `aws_fota` updates.
pub async fn start(
    deps: &Deps,
    method: &Signing,
    source: &SourceObject,
    certfile: String,
    token: impl Fn(&str) -> String,
) -> Result<SigningState, OtaError> {
    let started_at = (deps.now)().format(&Rfc3339).unwrap_or_default();
    let mut state = SigningState {
        status: SigningStatus::NotRequired,
        job_id: None,
        certfile,
        attempts: 0,
        wait_seconds: 0,
        started_at,
        signed_object: None,
    };
    let profile_name = match method {
        Signing::PreSigned { .. } => {
            info!("pre-signed firmware: no signing job");
            return Ok(state);
        }
        Signing::Unsigned => {
            info!(
                "aws_fota: not signed by the pipeline (MCUboot verifies the image on the device)"
            );
            return Ok(state);
        }
        Signing::Profile { profile_name } => profile_name,
    };
    let job_id = start_signing_job(deps, source, profile_name, &token(profile_name)).await?;
    tracing::Span::current().record("signing_job_id", job_id.as_str());
    info!(profile = %profile_name, "signing started");
    let signed_object = first_look(deps, &job_id).await?;
    state.status = if signed_object.is_some() {
        SigningStatus::Succeeded
    } else {
        SigningStatus::InProgress
    };
    state.wait_seconds = if signed_object.is_some() {
        0
    } else {
        FIRST_SIGNING_WAIT_SECONDS
    };
    state.job_id = Some(job_id);
    state.signed_object = signed_object;
    Ok(state)
}

/// The token of an upload's signing job: from the version, profile and
/// attempt (a duplicate event reuses the job; a re-run signs again).
pub fn upload_token(source: &SourceObject, attempt: u32) -> impl Fn(&str) -> String + '_ {
    move |profile| {
        ids::signing_token(
            &source.bucket,
            &source.key,
            &source.version_id,
            profile,
            attempt,
        )
    }
}

/// StartSigningJob on the exact version, into the signed prefix, with an
/// idempotent `token`. Returns the signing job id.
async fn start_signing_job(
    deps: &Deps,
    src: &SourceObject,
    profile_name: &str,
    token: &str,
) -> Result<String, OtaError> {
    let (bucket, key, version_id) = (&src.bucket, &src.key, &src.version_id);
    let source = S3Source::builder()
        .bucket_name(bucket)
        .key(key)
        .version(version_id)
        .build()
        .map_err(|e| OtaError::Internal(format!("S3Source: {e}")))?;
    let destination = S3Destination::builder()
        .bucket_name(bucket)
        .prefix(&deps.settings.signed_prefix)
        .build();
    let out = deps
        .signer
        .start_signing_job()
        .source(Source::builder().s3(source).build())
        .destination(Destination::builder().s3(destination).build())
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
    out.job_id()
        .map(str::to_string)
        .ok_or_else(|| OtaError::Internal("StartSigningJob returned no job id".into()))
}

/// One look right after StartSigningJob. A signer that has already finished
/// (small images often do) saves the state machine's Wait and one
/// await-signing round trip. A signer that failed fails the run here, before
/// anything else exists. A failed call is not the run's problem:
/// await-signing asks again after the first Wait, with the full error
/// mapping and the overall time limit.
async fn first_look(deps: &Deps, job_id: &str) -> Result<Option<S3Location>, OtaError> {
    match look(&deps.signer, job_id).await {
        Err(LookFailed(e)) => {
            warn!(signing_job_id = %job_id, error = %e, "first DescribeSigningJob failed; await-signing will ask again");
            Ok(None)
        }
        Ok(verdict) => match verdict? {
            SigningVerdict::Succeeded(signed_object) => {
                info!(signing_job_id = %job_id, signed_bucket = %signed_object.bucket, signed_key = %signed_object.key, "signing already succeeded");
                Ok(Some(signed_object))
            }
            SigningVerdict::InProgress => Ok(None),
        },
    }
}
