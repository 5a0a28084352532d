//! Following the execution an upload started, with a live status line,
//! until the job exists or the pipeline fails.

use crate::aws::{Clients, Execution, Uploaded, Wanted};
use crate::error::CliError;
use crate::status::{self, Report};
use aws_sdk_sfn::types::ExecutionStatus;
use indicatif::ProgressBar;
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// How often to ask: often while a fast update is likely, then less.
fn poll_interval(since: Instant) -> Duration {
    if since.elapsed() < Duration::from_secs(10) {
        Duration::from_millis(500)
    } else {
        Duration::from_secs(2)
    }
}

/// One follow: the upload, the status line, the clock.
struct Watch<'a> {
    c: &'a Clients,
    up: &'a Uploaded,
    line: ProgressBar,
    began: Instant,
    within: Duration,
}

impl Watch<'_> {
    fn past_deadline(&self) -> bool {
        self.began.elapsed() >= self.within
    }

    fn gave_up(&self) -> CliError {
        self.line.finish_and_clear();
        let up = self.up;
        CliError::GaveUp(format!(
            "gave up waiting after {}s; s3://{}/{} version {} is uploaded and the pipeline keeps going: see `ota status {} --version-id {}`",
            self.within.as_secs(),
            up.bucket,
            up.key,
            up.version_id,
            up.key,
            up.version_id
        ))
    }

    /// The execution this upload started, once it appears.
    async fn execution(&self, state_machine: &str) -> Result<Execution, CliError> {
        let up = self.up;
        // The execution starts within seconds of the upload (EventBridge);
        // only executions started since S3 wrote it (a minute for clock skew
        // between S3 and Step Functions) are candidates.
        let wanted = Wanted {
            bucket: &up.bucket,
            key: &up.key,
            version: Some(&up.version_id),
            not_before: up.uploaded_at.map(|t| t - 60),
        };
        let mut skip = HashSet::new();
        loop {
            if let Some(e) = self
                .c
                .find_execution(state_machine, &wanted, 200, &mut skip)
                .await?
            {
                return Ok(e);
            }
            if self.past_deadline() {
                return Err(self.gave_up());
            }
            tokio::time::sleep(poll_interval(self.began)).await;
        }
    }

    /// Waits for the execution to end, showing the state it is in.
    async fn until_done(&self, arn: &str) -> Result<Execution, CliError> {
        // Without a terminal the spinner is hidden: one plain line per step.
        let plain = self.line.is_hidden();
        if plain {
            eprintln!("execution {arn}");
        }
        let mut last_state = String::new();
        loop {
            let e = self.c.describe_execution(arn).await?;
            if e.status != ExecutionStatus::Running {
                return Ok(e);
            }
            let state = self
                .c
                .progress(arn)
                .await?
                .current_state
                .unwrap_or_default();
            if !state.is_empty() && state != last_state {
                if plain {
                    eprintln!("  {state}");
                }
                last_state = state.clone();
            }
            let shown = if state.is_empty() { "starting" } else { &state };
            self.line
                .set_message(format!("{shown} ({}s)", self.began.elapsed().as_secs()));
            if self.past_deadline() {
                return Err(self.gave_up());
            }
            tokio::time::sleep(poll_interval(self.began)).await;
        }
    }
}

/// Follows the execution for this upload with a live status line until it
/// ends: the job on success, the failure reason otherwise. Gives up after
/// `within` (the upload stands and the pipeline keeps going).
pub async fn follow(
    c: &Clients,
    state_machine: &str,
    up: &Uploaded,
    within: Duration,
) -> Result<Report, CliError> {
    follow_run(c, Run::StartedBy(state_machine), up, within).await
}

/// Follows an execution already known (`ota retry` started it), as
/// [`follow`] does.
pub async fn follow_started(
    c: &Clients,
    up: &Uploaded,
    execution_arn: &str,
    within: Duration,
) -> Result<Report, CliError> {
    follow_run(c, Run::Known(execution_arn), up, within).await
}

/// Which execution to follow.
enum Run<'a> {
    /// The one the upload starts on this state machine, once it appears.
    StartedBy(&'a str),
    /// This one.
    Known(&'a str),
}

async fn follow_run(
    c: &Clients,
    run: Run<'_>,
    up: &Uploaded,
    within: Duration,
) -> Result<Report, CliError> {
    let line = ProgressBar::new_spinner();
    line.enable_steady_tick(Duration::from_millis(120));
    line.set_message(format!(
        "waiting for the pipeline to start for version {}",
        up.version_id
    ));
    let watch = Watch {
        c,
        up,
        line,
        began: Instant::now(),
        within,
    };
    let arn = match run {
        Run::StartedBy(state_machine) => watch.execution(state_machine).await?.arn,
        Run::Known(arn) => arn.to_string(),
    };
    let done = watch.until_done(&arn).await?;
    watch.line.finish_and_clear();
    outcome(&done, status::report_for_execution(c, &done).await?)
}

/// The report of a run that made its job; the pipeline's error otherwise.
fn outcome(done: &Execution, report: Report) -> Result<Report, CliError> {
    match (&done.status, &report.job_id) {
        (ExecutionStatus::Succeeded, Some(_)) => Ok(report),
        (ExecutionStatus::Succeeded, None) => Err(CliError::PipelineFailed {
            error: "NoJob".into(),
            cause: "the execution succeeded but its output names no job".into(),
            execution_arn: done.arn.clone(),
        }),
        _ => Err(CliError::PipelineFailed {
            error: report
                .error
                .clone()
                .unwrap_or_else(|| done.status.as_str().to_string()),
            cause: report.cause.clone().unwrap_or_default(),
            execution_arn: done.arn.clone(),
        }),
    }
}
