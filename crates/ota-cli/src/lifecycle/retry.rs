//! `ota retry KEY [--version-id V]`: runs the pipeline again for an object
//! version, after its cause was fixed (a signing profile, a thing group, the
//! version's tags). A new execution, not Step Functions' redrive (which
//! would resume at the failed state with the old state): its input is the
//! S3 "Object Created" event start-signing accepts, with `ota-attempt` set
//! (ota_core::event), so the run signs again under a token of its own and
//! makes a job with an id of its own (ota_core::ids::retry_job_id).
//!
//! Refused while a run for that version is RUNNING, or while its job exists
//! (`ota delete` it first). The event's time is now: offsets such as
//! `ota:start=+2h` count from the retry, and the manifest is read as it is.

use crate::args::{GlobalArgs, RetryArgs, StatusArgs};
use crate::aws::{Clients, Uploaded, Wanted};
use crate::error::{aws, CliError};
use crate::status::{self, Report};
use ota_aws::found;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::Duration;

/// How many of the newest executions are looked through for this version's.
const SCAN_EXECUTIONS: usize = 1000;

pub async fn run(g: &GlobalArgs, a: &RetryArgs) -> Result<Report, CliError> {
    retry(&Clients::new(g).await?, g, a).await
}

pub async fn retry(c: &Clients, g: &GlobalArgs, a: &RetryArgs) -> Result<Report, CliError> {
    let pipeline = c.pipeline(g).await?;
    let bucket = pipeline.bucket(a.bucket.as_ref())?;
    pipeline.check_key(&a.key)?;
    let head =
        c.s3.head_object()
            .bucket(&bucket)
            .key(&a.key)
            .set_version_id(a.version_id.clone())
            .send()
            .await;
    let head = found(head, |e| e.is_not_found())
        .map_err(aws("HeadObject"))?
        .ok_or_else(|| {
            CliError::NotFound(format!(
                "s3://{bucket}/{} {} does not exist: there is nothing to run again",
                a.key,
                a.version_id
                    .as_deref()
                    .map_or("(current version)".to_string(), |v| format!("version {v}"))
            ))
        })?;
    let version = head
        .version_id()
        .filter(|v| *v != "null")
        .ok_or_else(|| {
            CliError::NotVersioned(format!(
                "s3://{bucket}/{} has no version id: the pipeline runs on versions",
                a.key
            ))
        })?
        .to_string();
    let up = Uploaded {
        bucket: bucket.clone(),
        key: a.key.clone(),
        version_id: version.clone(),
        size: head.content_length().unwrap_or(0).max(0) as u64,
        uploaded_at: head.last_modified().map(|t| t.secs()),
    };
    let attempt = next_attempt(c, g, &pipeline.state_machine, &up).await?;
    let region = pipeline
        .state_machine
        .split(':')
        .nth(3)
        .unwrap_or(&c.region)
        .to_string();
    let partition = pipeline
        .state_machine
        .split(':')
        .nth(1)
        .unwrap_or("aws")
        .to_string();
    let account = pipeline
        .state_machine
        .split(':')
        .nth(4)
        .unwrap_or_default()
        .to_string();
    let name = ota_core::ids::retry_execution_name(&bucket, &a.key, &version, attempt);
    let input = event(
        &up,
        head.e_tag(),
        (&partition, &region, &account),
        &name,
        attempt,
    );
    let started = c
        .sfn
        .start_execution()
        .state_machine_arn(&pipeline.state_machine)
        .name(&name)
        .input(input.to_string())
        .send()
        .await;
    let arn = match started {
        Ok(out) => out.execution_arn().to_string(),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_execution_already_exists()) =>
        {
            return Err(CliError::Refused(format!(
                "retry {attempt} of s3://{bucket}/{} version {version} was already started by someone else: see ota status {} --version-id {version}",
                a.key, a.key
            )))
        }
        Err(e) => return Err(aws("StartExecution")(e)),
    };
    eprintln!("ota: started retry {attempt}: {arn}");
    if a.no_wait {
        return Ok(Report {
            execution_arn: Some(arn),
            execution_status: Some("RUNNING".into()),
            ..Report::uploaded(&up)
        });
    }
    let within = a.wait_timeout.unwrap_or(
        pipeline
            .max_signing_wait_seconds
            .unwrap_or(crate::upload::DEFAULT_MAX_SIGNING_WAIT_SECONDS)
            + 600,
    );
    crate::upload::follow_started(c, &up, &arn, Duration::from_secs(within)).await
}

/// The attempt number of the new run: one more than the newest run's for
/// this version. Refused while that run is RUNNING or its job exists.
async fn next_attempt(
    c: &Clients,
    g: &GlobalArgs,
    state_machine: &str,
    up: &Uploaded,
) -> Result<u32, CliError> {
    let wanted = Wanted {
        bucket: &up.bucket,
        key: &up.key,
        version: Some(&up.version_id),
        not_before: None,
    };
    let last = c
        .find_execution(state_machine, &wanted, SCAN_EXECUTIONS, &mut HashSet::new())
        .await?;
    if let Some(e) = last.as_ref().filter(|e| e.status.as_str() == "RUNNING") {
        return Err(CliError::Refused(format!(
            "a run for s3://{}/{} version {} is still RUNNING ({}): wait for it (ota status {} --version-id {})",
            up.bucket, up.key, up.version_id, e.arn, up.key, up.version_id
        )));
    }
    // The job the newest run made or meant to make, and the upload's
    // default job: either existing means the update stands.
    let report = status::status(
        c,
        g,
        &StatusArgs {
            what: up.key.clone(),
            bucket: Some(up.bucket.clone()),
            version_id: Some(up.version_id.clone()),
            devices: false,
        },
    )
    .await;
    let mut candidates = vec![ota_core::ids::job_id(&up.bucket, &up.key, &up.version_id)];
    match report {
        Ok(Report {
            job_id: Some(id), ..
        }) => candidates.push(id),
        // No execution kept for this version (never run, or expired).
        Ok(_) | Err(CliError::NotFound(_)) => {}
        Err(e) => return Err(e),
    }
    for job_id in candidates {
        let d = c.iot.describe_job().job_id(&job_id).send().await;
        if let Some(job) = found(d, |e| e.is_resource_not_found_exception())
            .map_err(aws("DescribeJob"))?
            .and_then(|d| d.job)
        {
            return Err(CliError::Refused(format!(
                "job {job_id} for this version exists ({}): the update stands. Delete it first (ota delete {job_id}) to run the pipeline again",
                job.status().map_or("unknown", |s| s.as_str())
            )));
        }
    }
    let previous = last
        .as_ref()
        .and_then(|e| e.input["ota-attempt"].as_u64())
        .unwrap_or(0);
    u32::try_from(previous + 1)
        .map_err(|_| CliError::Usage("too many retries of one version".into()))
}

/// The EventBridge "Object Created" event S3 would send for the version,
/// timed now, with the attempt.
fn event(
    up: &Uploaded,
    etag: Option<&str>,
    (partition, region, account): (&str, &str, &str),
    id: &str,
    attempt: u32,
) -> Value {
    let now = ota_core::times::now_rfc3339();
    json!({
        "version": "0",
        "id": id,
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": account,
        "time": now,
        "region": region,
        "resources": [format!("arn:{partition}:s3:::{}", up.bucket)],
        "detail": {
            "version": "0",
            "bucket": {"name": up.bucket},
            "object": {
                "key": up.key,
                "size": up.size,
                "etag": etag.map(|e| e.trim_matches('"')),
                "version-id": up.version_id,
            },
            "reason": "ota retry",
        },
        "ota-attempt": attempt,
    })
}
