//! A device's side of a job, through the emulator's IoT Jobs device data
//! plane (HTTPS StartNextPendingJobExecution / UpdateJobExecution, what the
//! MQTT `start-next` and `update` topics also serve): the job document as a
//! device receives it, with IoT's placeholders substituted, and the
//! download a presigned URL in it points at.

use crate::Local;
use serde_json::Value;

/// The job a device was handed by start-next.
#[derive(Debug)]
pub struct DeviceJob {
    pub job_id: String,
    /// The document as received (a JSON text in the execution, parsed).
    pub document: Value,
}

impl Local {
    /// A thing no other test targets, so its next job is the one this test
    /// makes.
    pub async fn new_thing(&self, name: &str) -> String {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let thing = format!("e2e-{name}-{nanos}");
        self.iot
            .create_thing()
            .thing_name(&thing)
            .send()
            .await
            .expect("CreateThing");
        thing
    }

    /// A thing group of `n` new things no other test targets: its name and
    /// the things.
    pub async fn new_fleet(&self, name: &str, n: usize) -> (String, Vec<String>) {
        let group = self.new_thing(&format!("{name}-group")).await;
        self.iot
            .create_thing_group()
            .thing_group_name(&group)
            .send()
            .await
            .expect("CreateThingGroup");
        let mut things = Vec::new();
        for i in 0..n {
            let thing = self.new_thing(&format!("{name}-{i}")).await;
            self.iot
                .add_thing_to_thing_group()
                .thing_group_name(&group)
                .thing_name(&thing)
                .send()
                .await
                .expect("AddThingToThingGroup");
            things.push(thing);
        }
        (group, things)
    }

    /// A newer version of `key` (`seed` for its bytes), for a new thing
    /// outside every fleet, with `extra` tags: it starts an update of its
    /// own, for nobody in the fleet, and the fleet's job must still serve
    /// the version it pins.
    pub async fn newer_version_elsewhere(&self, key: &str, seed: u8, extra: &[(&str, &str)]) {
        let other = self.new_thing("elsewhere").await;
        let target = format!("thing/{other}");
        let mut tags = vec![("ota:targets", target.as_str())];
        tags.extend_from_slice(extra);
        self.upload(key, &crate::firmware(7_777, seed), &tags).await;
    }

    /// The code-signing certificate the local signing profile uses (PEM).
    pub fn signer_cert_pem(&self) -> Vec<u8> {
        crate::read("signer-cert.pem").into_bytes()
    }

    /// A reference device agent (crates/ota-device) for `thing`, writing
    /// under `out`.
    pub fn agent(
        &self,
        thing: &str,
        family: ota_core::devices::DeviceFamily,
        nrf_limits: ota_core::devices::NrfLimits,
        out: &std::path::Path,
    ) -> ota_device::Agent {
        std::fs::create_dir_all(out).expect("agent output dir");
        ota_device::Agent::new(
            self.jobs.clone(),
            ota_device::DeviceConfig {
                thing: thing.to_string(),
                family,
                signer_cert: Some(self.signer_cert_pem()),
                out_dir: out.to_path_buf(),
                progress_step_percent: 50,
                nrf_limits,
                files: ota_device::plan::Files::First,
            },
        )
        .expect("agent")
    }

    /// The status IoT holds for `thing`'s execution of `job_id`.
    pub async fn execution_status(&self, job_id: &str, thing: &str) -> String {
        self.iot
            .describe_job_execution()
            .job_id(job_id)
            .thing_name(thing)
            .send()
            .await
            .expect("DescribeJobExecution")
            .execution()
            .and_then(|e| e.status())
            .map(|s| s.as_str().to_string())
            .unwrap_or_default()
    }

    /// StartNextPendingJobExecution for `thing`, as the device would: its
    /// job id and document.
    pub async fn start_next_as_device(&self, thing: &str) -> DeviceJob {
        let out = self
            .jobs
            .start_next_pending_job_execution()
            .thing_name(thing)
            .send()
            .await
            .expect("StartNextPendingJobExecution");
        let execution = out.execution().expect("a pending job execution");
        let text = execution
            .job_document()
            .expect("the execution's job document");
        DeviceJob {
            job_id: execution.job_id().expect("jobId").to_string(),
            document: serde_json::from_str(text).expect("the received document is JSON"),
        }
    }

    /// The device reports the job done (UpdateJobExecution SUCCEEDED).
    pub async fn succeed_as_device(&self, thing: &str, job_id: &str) {
        self.jobs
            .update_job_execution()
            .thing_name(thing)
            .job_id(job_id)
            .status(aws_sdk_iotjobsdataplane::types::JobExecutionStatus::Succeeded)
            .send()
            .await
            .expect("UpdateJobExecution");
    }

    /// GET `url` (an http:// URL on 127.0.0.1, as the emulator presigns):
    /// the status and the body.
    pub async fn download(&self, url: &str) -> (u16, Vec<u8>) {
        use http_body_util::{BodyExt, Empty};
        assert!(
            url.starts_with("http://127.0.0.1:"),
            "downloads stay on loopback, not {url}"
        );
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http::<Empty<hyper::body::Bytes>>();
        let uri: hyper::Uri = url.parse().expect("a URL");
        let response = client.get(uri).await.expect("GET the presigned URL");
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("the body")
            .to_bytes()
            .to_vec();
        (status, body)
    }
}
