//! await-signing: DescribeSigningJob until the signer is done or it is time
//! to hand the waiting back to the state machine (ota_core::signing_wait:
//! while signing is under a minute old it asks every 0.5-4.8 s inside one
//! invocation; after that once per invocation, and the Wait state waits a
//! tenth of the time so far, up to 30 s). Answers "Succeeded" (with the
//! signed object), or "InProgress" with the next wait, or fails with
//! SigningFailed (the signer's reason) or SigningTimedOut.

use ota_aws::signer::look;
use ota_core::signing_wait::{next_signing_wait, poll_again};
use ota_core::state::{SigningState, SigningStatus, SigningVerdict};
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

/// One run's signing: the upload's signing job, or (for a release) every
/// file's at once, so a release polls in the same single loop of the state
/// machine as an upload, whatever its number of files (the execution
/// history stays within Step Functions' 25,000 events).
pub async fn handle(mut state: PipelineState, deps: &Deps) -> Result<PipelineState, OtaError> {
    let span = ota_lambda::step_span("await_signing", &state);
    async {
        let PipelineState {
            signing, release, ..
        } = &mut state;
        match release.as_mut() {
            Some(release) => {
                let files = release
                    .files
                    .iter_mut()
                    .map(|f| (Some(f.key.as_str()), &mut f.signing))
                    .collect();
                // The run's own signing says what the files' say together.
                signing.status = SigningStatus::Succeeded;
                signing.wait_seconds = 0;
                signing.attempts += 1;
                if let Some(wait) = follow(files, deps).await? {
                    signing.status = SigningStatus::InProgress;
                    signing.wait_seconds = wait;
                }
            }
            None => {
                if let Some(wait) = follow(vec![(None, &mut *signing)], deps).await? {
                    signing.wait_seconds = wait;
                }
            }
        }
        info!(
            status = ?state.signing.status,
            attempts = state.signing.attempts,
            wait_seconds = state.signing.wait_seconds,
            "signing looked at"
        );
        Ok(state)
    }
    .instrument(span)
    .await
}

/// Asks about every signing still InProgress (the upload's one, or each
/// release file's, `Some(key)` naming the file in its failure) once per
/// round, polling again inside this invocation while the longest-waiting
/// one is young (ota_core::signing_wait). None when none is left InProgress;
/// else the next Wait in seconds, paced by the signing that has waited
/// longest. A Failed signing job, or one InProgress past the limit, fails.
async fn follow(
    mut signings: Vec<(Option<&str>, &mut SigningState)>,
    deps: &Deps,
) -> Result<Option<u32>, OtaError> {
    // The wall clock once, then this invocation's own monotonic clock.
    let entered = tokio::time::Instant::now();
    let now = (deps.now)();
    loop {
        let mut longest = Duration::ZERO;
        for (key, signing) in signings
            .iter_mut()
            .filter(|(_, s)| s.status == SigningStatus::InProgress)
        {
            let since_start = since(signing, now)? + entered.elapsed();
            let looked = look_once(signing, since_start, deps)
                .instrument(tracing::info_span!("signing", file_key = *key))
                .await;
            looked.map_err(|e| match key {
                Some(key) => name_file(e, key),
                None => e,
            })?;
            if signing.status == SigningStatus::InProgress {
                longest = longest.max(since_start);
            }
        }
        if longest == Duration::ZERO {
            return Ok(None);
        }
        if let Some(pause) = poll_again(longest, entered.elapsed()) {
            tokio::time::sleep(pause).await;
            continue;
        }
        return Ok(Some(next_signing_wait(longest.as_secs())));
    }
}

/// The failure of one file's signing, naming the file.
fn name_file(e: OtaError, key: &str) -> OtaError {
    match e {
        OtaError::SigningFailed(m) => OtaError::SigningFailed(format!("{key}: {m}")),
        OtaError::SigningTimedOut(m) => OtaError::SigningTimedOut(format!("{key}: {m}")),
        other => other,
    }
}

/// How long ago this signing started, by the wall clock at entry.
fn since(signing: &SigningState, now: OffsetDateTime) -> Result<Duration, OtaError> {
    let started = OffsetDateTime::parse(&signing.started_at, &Rfc3339).map_err(|_| {
        OtaError::Internal(format!("bad signing.startedAt '{}'", signing.started_at))
    })?;
    Ok(Duration::try_from(now - started).unwrap_or_default())
}

/// One DescribeSigningJob for one signing, `since_start` into it.
async fn look_once(
    signing: &mut SigningState,
    since_start: Duration,
    deps: &Deps,
) -> Result<(), OtaError> {
    let job_id = signing.job_id.clone().ok_or_else(|| {
        OtaError::Internal("await-signing called without a signing job id".into())
    })?;
    let verdict = look(&deps.signer, &job_id).await.map_err(|f| f.0)??;
    signing.attempts += 1;
    match verdict {
        SigningVerdict::Succeeded(signed_object) => {
            info!(signed_bucket = %signed_object.bucket, signed_key = %signed_object.key, "signing succeeded");
            signing.status = SigningStatus::Succeeded;
            signing.wait_seconds = 0;
            signing.signed_object = Some(signed_object);
        }
        SigningVerdict::InProgress => check_time_limit(since_start, &job_id, deps)?,
    }
    Ok(())
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
