//! `ota watch KEY|JOB_ID`: the rollout as it happens. On a terminal, one
//! bar per execution state (how many of the job's devices are in it),
//! redrawn every --interval; otherwise one plain line each time the counts
//! change. Ends when the job is COMPLETED or CANCELED (or deleted), or
//! after --timeout (exit 4).

use crate::args::{GlobalArgs, WatchArgs};
use crate::aws::Clients;
use crate::error::{aws, CliError};
use crate::lifecycle::resolve;
use aws_sdk_iot::types::{Job, JobStatus};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use ota_aws::found;
use serde::Serialize;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// The execution states, in the order a rollout moves through them.
pub const STATES: [&str; 8] = [
    "queued",
    "in progress",
    "succeeded",
    "failed",
    "timed out",
    "rejected",
    "canceled",
    "removed",
];

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Watched {
    pub job_id: String,
    /// COMPLETED, CANCELED, DELETED, or the status when --timeout struck.
    pub job_status: String,
    /// Devices per state, in [`STATES`] order.
    pub counts: [i32; 8],
    pub seconds: u64,
}

impl Watched {
    pub fn total(&self) -> i32 {
        self.counts.iter().sum()
    }

    /// `succeeded 5, failed 1` (the states with devices).
    pub fn summary(&self) -> String {
        let parts: Vec<String> = STATES
            .iter()
            .zip(self.counts)
            .filter(|(_, n)| *n > 0)
            .map(|(s, n)| format!("{s} {n}"))
            .collect();
        if parts.is_empty() {
            "no devices yet".into()
        } else {
            parts.join(", ")
        }
    }

    /// The outcome first (the job id is long and already in the header).
    pub fn human(&self) -> String {
        format!(
            "{} after {} s: {}\njob {}\n",
            self.job_status,
            self.seconds,
            self.summary(),
            self.job_id
        )
    }
}

pub fn counts(job: &Job) -> [i32; 8] {
    let Some(d) = job.job_process_details() else {
        return [0; 8];
    };
    [
        d.number_of_queued_things(),
        d.number_of_in_progress_things(),
        d.number_of_succeeded_things(),
        d.number_of_failed_things(),
        d.number_of_timed_out_things(),
        d.number_of_rejected_things(),
        d.number_of_canceled_things(),
        d.number_of_removed_things(),
    ]
    .map(|n| n.unwrap_or(0))
}

/// The bars, or plain lines when stderr is not a terminal.
enum View {
    Bars {
        _multi: MultiProgress,
        header: ProgressBar,
        bars: Vec<ProgressBar>,
    },
    Lines {
        last: Option<String>,
    },
}

impl View {
    fn new(job_id: &str) -> View {
        if !std::io::stderr().is_terminal() {
            return View::Lines { last: None };
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let header = multi.add(ProgressBar::new_spinner());
        header.set_message(format!("job {job_id}"));
        let style = ProgressStyle::with_template("{prefix:>12} [{bar:40}] {pos:>5}/{len}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("#>-");
        let bars = STATES
            .iter()
            .map(|s| {
                let b = multi.add(ProgressBar::new(1));
                b.set_style(style.clone());
                b.set_prefix(s.to_string());
                b
            })
            .collect();
        View::Bars {
            _multi: multi,
            header,
            bars,
        }
    }

    fn show(&mut self, w: &Watched) {
        match self {
            View::Bars { header, bars, .. } => {
                header.set_message(format!(
                    "job {}  {}  {} device(s)  {} s",
                    w.job_id,
                    w.job_status,
                    w.total(),
                    w.seconds
                ));
                header.tick();
                let total = w.total().max(1) as u64;
                for (b, n) in bars.iter().zip(w.counts) {
                    b.set_length(total);
                    b.set_position(n.max(0) as u64);
                }
            }
            View::Lines { last } => {
                let line = format!("{}  {}", w.job_status, w.summary());
                if last.as_deref() != Some(line.as_str()) {
                    eprintln!("{:>5} s  {line}", w.seconds);
                    *last = Some(line);
                }
            }
        }
    }

    /// Leaves the last counts on the screen (`finish` would fill every bar).
    fn finish(&self) {
        if let View::Bars { header, bars, .. } = self {
            header.abandon();
            for b in bars {
                b.abandon();
            }
        }
    }
}

pub async fn run(g: &GlobalArgs, a: &WatchArgs) -> Result<Watched, CliError> {
    let c = Clients::new(g).await?;
    let job = resolve(&c, g, &a.job).await?;
    watch(
        &c,
        &job.job_id,
        Duration::from_secs_f64(a.interval.max(0.2)),
        a.timeout.map(Duration::from_secs),
    )
    .await
}

pub async fn watch(
    c: &Clients,
    job_id: &str,
    interval: Duration,
    timeout: Option<Duration>,
) -> Result<Watched, CliError> {
    let began = Instant::now();
    let mut view = View::new(job_id);
    let mut w = Watched {
        job_id: job_id.to_string(),
        ..Watched::default()
    };
    loop {
        let d = c.iot.describe_job().job_id(job_id).send().await;
        let job = found(d, |e| e.is_resource_not_found_exception())
            .map_err(aws("DescribeJob"))?
            .and_then(|d| d.job);
        w.seconds = began.elapsed().as_secs();
        let Some(job) = job else {
            w.job_status = "DELETED".into();
            view.show(&w);
            view.finish();
            return Ok(w);
        };
        let status = job.status().cloned().unwrap_or(JobStatus::InProgress);
        w.job_status = status.as_str().to_string();
        w.counts = counts(&job);
        view.show(&w);
        if matches!(status, JobStatus::Completed | JobStatus::Canceled) {
            view.finish();
            return Ok(w);
        }
        if timeout.is_some_and(|t| began.elapsed() >= t) {
            view.finish();
            return Err(CliError::GaveUp(format!(
                "stopped watching after {} s: job {job_id} is {} ({})",
                w.seconds,
                w.job_status,
                w.summary()
            )));
        }
        tokio::time::sleep(interval).await;
    }
}
