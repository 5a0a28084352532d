//! await-signing: DescribeSigningJob until the signer is done or it is time
//! to hand the waiting back to the state machine (ota_core::signing_wait:
//! while signing is under a minute old it asks every 0.5-4.8 s inside one
//! invocation; after that once per invocation, and the Wait state waits a
//! tenth of the time so far, up to 30 s). Answers "Succeeded" (with the
//! signed object), or "InProgress" with the next wait, or fails with
//! SigningFailed (the signer's reason) or SigningTimedOut.

use ota_aws::signer::look;
use ota_core::signing_wait::{next_signing_wait, poll_again};
use ota_core::state::{SigningStatus, SigningVerdict};
use ota_core::{OtaError, PipelineState};
use std::time::Duration;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tracing::{info, Instrument};

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

pub async fn handle(state: PipelineState, deps: &Deps) -> Result<PipelineState, OtaError> {
    let span = ota_lambda::step_span("await_signing", &state);
    ask(state, deps).instrument(span).await
}

async fn ask(mut state: PipelineState, deps: &Deps) -> Result<PipelineState, OtaError> {
    let job_id = state.signing.job_id.clone().ok_or_else(|| {
        OtaError::Internal("await-signing called without a signing job id".into())
    })?;
    let started = OffsetDateTime::parse(&state.signing.started_at, &Rfc3339).map_err(|_| {
        OtaError::Internal(format!(
            "bad signing.startedAt '{}'",
            state.signing.started_at
        ))
    })?;
    // The wall clock once, then this invocation's own monotonic clock.
    let entered = tokio::time::Instant::now();
    let at_entry = Duration::try_from((deps.now)() - started).unwrap_or_default();
    loop {
        let verdict = look(&deps.signer, &job_id).await.map_err(|f| f.0)??;
        state.signing.attempts += 1;
        let since_start = at_entry + entered.elapsed();
        match verdict {
            SigningVerdict::Succeeded(signed_object) => {
                info!(signed_bucket = %signed_object.bucket, signed_key = %signed_object.key, "signing succeeded");
                state.signing.status = SigningStatus::Succeeded;
                state.signing.wait_seconds = 0;
                state.signing.signed_object = Some(signed_object);
                return Ok(state);
            }
            SigningVerdict::InProgress => {
                check_time_limit(since_start, &job_id, deps)?;
                if let Some(pause) = poll_again(since_start, entered.elapsed()) {
                    tokio::time::sleep(pause).await;
                    continue;
                }
                state.signing.status = SigningStatus::InProgress;
                state.signing.wait_seconds = next_signing_wait(since_start.as_secs());
                info!(
                    attempts = state.signing.attempts,
                    wait_seconds = state.signing.wait_seconds,
                    "signing in progress"
                );
                return Ok(state);
            }
        }
    }
}

/// SigningTimedOut once signing has been InProgress longer than the limit.
fn check_time_limit(since_start: Duration, job_id: &str, deps: &Deps) -> Result<(), OtaError> {
    let waited = since_start.as_secs();
    if waited > deps.max_wait_seconds {
        return Err(OtaError::SigningTimedOut(format!(
            "signing job {job_id} still InProgress after {waited} s (limit {} s)",
            deps.max_wait_seconds
        )));
    }
    Ok(())
}
