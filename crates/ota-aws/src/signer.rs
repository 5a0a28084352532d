//! The signer look: one DescribeSigningJob, judged by ota-core's
//! `judge_signing_job`. start-signing looks once right after
//! StartSigningJob; await-signing looks once per invocation.

use crate::sdk_error::classify;
use ota_core::state::{judge_signing_job, SigningVerdict};
use ota_core::OtaError;

/// DescribeSigningJob itself failed (classified): distinct from a signer that
/// answered "Failed", so a caller can choose to ask again later.
#[derive(Debug)]
pub struct LookFailed(pub OtaError);

/// What the signer says of `job_id` now: `Ok(Ok(verdict))`, `Ok(Err(e))` when
/// the job failed or its answer is unusable (SigningFailed, InternalError),
/// `Err(LookFailed)` when the call did not get an answer.
pub async fn look(
    signer: &aws_sdk_signer::Client,
    job_id: &str,
) -> Result<Result<SigningVerdict, OtaError>, LookFailed> {
    let out = signer
        .describe_signing_job()
        .job_id(job_id)
        .send()
        .await
        .map_err(|e| LookFailed(classify("DescribeSigningJob", &e)))?;
    let signed = out.signed_object().and_then(|o| o.s3());
    Ok(judge_signing_job(
        job_id,
        out.status().map(|s| s.as_str()).unwrap_or_default(),
        out.status_reason(),
        signed.and_then(|s| s.bucket_name()),
        signed.and_then(|s| s.key()),
    ))
}
