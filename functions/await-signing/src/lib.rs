//! await-signing: one DescribeSigningJob per invocation. The state machine's
//! Wait state does the waiting (no Lambda time is spent sleeping); this
//! function answers "Succeeded" (with the signed object), or "InProgress" with
//! the next wait (2, 4, 8, 16, 30, 30... seconds), or fails with
//! SigningFailed (the signer's reason) or SigningTimedOut.

use ota_core::state::{judge_signing_job, next_signing_wait, SigningStatus, SigningVerdict};
use ota_core::{OtaError, PipelineState};
use ota_lambda::classify;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tracing::info;

/// How long signing may stay InProgress unless MAX_SIGNING_WAIT_SECONDS says.
pub const DEFAULT_MAX_WAIT_SECONDS: u64 = 900;

pub struct Deps {
    pub signer: aws_sdk_signer::Client,
    pub max_wait_seconds: u64,
    pub now: fn() -> OffsetDateTime,
}

pub fn max_wait_from_env() -> Result<u64, lambda_runtime::Error> {
    match std::env::var("MAX_SIGNING_WAIT_SECONDS") {
        Err(_) => Ok(DEFAULT_MAX_WAIT_SECONDS),
        Ok(v) => v.parse().map_err(|_| {
            format!("MAX_SIGNING_WAIT_SECONDS '{v}' is not a whole number of seconds").into()
        }),
    }
}

pub async fn handle(mut state: PipelineState, deps: &Deps) -> Result<PipelineState, OtaError> {
    let job_id = state.signing.job_id.clone().ok_or_else(|| {
        OtaError::Internal("await-signing called without a signing job id".into())
    })?;
    let span = ota_lambda::step_span("await_signing", &state);
    let _enter = span.enter();
    let out = deps
        .signer
        .describe_signing_job()
        .job_id(&job_id)
        .send()
        .await
        .map_err(|e| classify("DescribeSigningJob", &e))?;
    let signed = out.signed_object().and_then(|o| o.s3());
    let verdict = judge_signing_job(
        &job_id,
        out.status().map(|s| s.as_str()).unwrap_or_default(),
        out.status_reason(),
        signed.and_then(|s| s.bucket_name()),
        signed.and_then(|s| s.key()),
    )?;
    state.signing.attempts += 1;
    match verdict {
        SigningVerdict::Succeeded(signed_object) => {
            info!(signed_bucket = %signed_object.bucket, signed_key = %signed_object.key, "signing succeeded");
            state.signing.status = SigningStatus::Succeeded;
            state.signing.wait_seconds = 0;
            state.signing.signed_object = Some(signed_object);
            Ok(state)
        }
        SigningVerdict::InProgress => {
            let started =
                OffsetDateTime::parse(&state.signing.started_at, &Rfc3339).map_err(|_| {
                    OtaError::Internal(format!(
                        "bad signing.startedAt '{}'",
                        state.signing.started_at
                    ))
                })?;
            let waited = ((deps.now)() - started).whole_seconds().max(0) as u64;
            if waited > deps.max_wait_seconds {
                return Err(OtaError::SigningTimedOut(format!(
                    "signing job {job_id} still InProgress after {waited} s (limit {} s)",
                    deps.max_wait_seconds
                )));
            }
            state.signing.status = SigningStatus::InProgress;
            state.signing.wait_seconds = next_signing_wait(state.signing.attempts);
            info!(
                attempts = state.signing.attempts,
                wait_seconds = state.signing.wait_seconds,
                "signing in progress"
            );
            Ok(state)
        }
    }
}
