//! `ota device`: the reference device agent (crates/ota-device) for a thing,
//! one job (`--once`) or each new job in turn.

mod connect;

use crate::args::{DeviceArgs, GlobalArgs};
use crate::error::CliError;
use ota_device::{DeviceConfig, Outcome};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

pub async fn run(g: &GlobalArgs, a: &DeviceArgs) -> Result<Value, CliError> {
    let signer_cert = match &a.signer_cert {
        Some(p) => Some(std::fs::read(p).map_err(|source| CliError::Io {
            path: p.display().to_string(),
            source,
        })?),
        None => None,
    };
    std::fs::create_dir_all(&a.out).map_err(|source| CliError::Io {
        path: a.out.display().to_string(),
        source,
    })?;
    let mut agent = connect::agent(
        g,
        &a.connection,
        DeviceConfig {
            thing: a.thing.clone(),
            family: a.family,
            signer_cert,
            out_dir: a.out.clone(),
            progress_step_percent: a.progress_step,
            nrf_limits: ota_core::devices::NrfLimits {
                payload_size: a.nrf_payload_size,
                hostname_max_len: a.nrf_hostname_max_len,
                file_path_max_len: a.nrf_file_path_max_len,
            },
            files: if a.all_files {
                ota_device::plan::Files::All
            } else {
                ota_device::plan::Files::First
            },
        },
    )
    .await?;
    let human = g.output == crate::args::Output::Human;
    if human {
        eprintln!(
            "ota device: {} ({}) on {}",
            a.thing,
            a.family,
            agent_transport(&agent)
        );
        agent.on_step = Some(std::sync::Arc::new(|step: &ota_device::Step| {
            eprintln!("ota device: {step}");
        }));
    }
    // Over MQTT, a notify-next ends the wait for the next job at once (as
    // the FreeRTOS agent wakes on it); --poll is the fallback.
    let mut notified = agent.mqtt.as_ref().map(|link| link.notifications());
    let started = Instant::now();
    let mut done = Vec::new();
    loop {
        let outcome = agent.run_once().await?;
        match &outcome {
            Outcome::NoJob => {
                let waited_out = started.elapsed() >= Duration::from_secs(a.wait_for_job);
                if a.once && waited_out {
                    if a.wait_for_job > 0 {
                        return Err(CliError::GaveUp(format!(
                            "no job pending for {} within {} s",
                            a.thing, a.wait_for_job
                        )));
                    }
                    return Ok(json!({"thing": a.thing, "outcome": "NoJob", "jobs": done}));
                }
                let poll = tokio::time::sleep(Duration::from_secs(a.poll.max(1)));
                match notified.as_mut() {
                    Some(n) => {
                        tokio::select! {
                            _ = poll => {}
                            _ = n.changed() => {}
                        }
                    }
                    None => poll.await,
                }
                continue;
            }
            Outcome::Succeeded { job_id, files } => {
                let mut shown = Vec::new();
                for f in files {
                    if human {
                        eprintln!(
                            "ota device: {job_id}: SUCCEEDED ({} checked), wrote {}",
                            f.checked,
                            f.path.display()
                        );
                    }
                    let streamed = f.streamed.as_ref().map(|s| {
                        json!({"blocks": s.blocks, "requests": s.requests, "dataMessages": s.data_messages,
                            "seconds": s.elapsed.as_secs_f64()})
                    });
                    shown.push(json!({"checked": f.checked, "path": f.path, "streamed": streamed, "resumedAt": f.resumed_at}));
                }
                // The first file's fields at the top, as before releases.
                let first = shown.first().cloned().unwrap_or_default();
                done.push(json!({"jobId": job_id, "status": "SUCCEEDED", "checked": first["checked"],
                    "path": first["path"], "streamed": first["streamed"], "resumedAt": first["resumedAt"], "files": shown}));
            }
            Outcome::Failed { job_id, reason } => {
                if a.once {
                    return Err(CliError::DeviceFailed {
                        job_id: job_id.clone(),
                        reason: reason.clone(),
                    });
                }
                eprintln!("ota device: {job_id}: FAILED: {reason}");
                done.push(json!({"jobId": job_id, "status": "FAILED", "reason": reason}));
            }
        }
        if a.once {
            return Ok(json!({"thing": a.thing, "outcome": "Succeeded", "jobs": done}));
        }
    }
}

/// How the agent is connected, for the first line a person reads.
fn agent_transport(agent: &ota_device::Agent) -> String {
    match &agent.mqtt {
        Some(link) => format!("MQTT {}", link.describe()),
        None => "the Jobs device API over HTTPS (HTTP downloads only)".to_string(),
    }
}
