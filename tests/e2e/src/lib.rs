//! The end-to-end harness: clients for the local AWS emulator that
//! scripts/test.sh started (its URL, the deployed stack's outputs and the
//! signing certificate's public key are under build/local/), and helpers to
//! upload firmware with tags and follow the execution that upload started.
//!
//! Every address is the emulator's, on 127.0.0.1.

use aws_sdk_sfn::types::ExecutionStatus;
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Where scripts/test.sh and local/localaws.py leave what the tests need.
pub fn local_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../build/local")
}

fn read(name: &str) -> String {
    let path = local_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}. The end-to-end tests need the local AWS emulator with the stack deployed: run scripts/test.sh",
            path.display()
        )
    })
}

/// The emulator, the deployed stack and clients for it.
pub struct Local {
    pub endpoint: String,
    pub bucket: String,
    pub upload_prefix: String,
    pub state_machine: String,
    /// The signing certificate's public key, an uncompressed P-256 point.
    pub public_key: Vec<u8>,
    pub s3: aws_sdk_s3::Client,
    pub iot: aws_sdk_iot::Client,
    pub sfn: aws_sdk_sfn::Client,
    pub signer: aws_sdk_signer::Client,
}

/// A finished execution.
#[derive(Debug)]
pub struct Finished {
    pub arn: String,
    pub status: ExecutionStatus,
    pub output: Value,
    pub error: String,
    pub cause: String,
}

impl Finished {
    /// Panics, with the execution's error and cause, unless it succeeded.
    pub fn assert_succeeded(&self) {
        assert_eq!(
            self.status,
            ExecutionStatus::Succeeded,
            "{}: {}",
            self.error,
            self.cause
        );
    }
}

impl Local {
    pub async fn connect() -> Local {
        let endpoint = read("endpoint").trim().to_string();
        assert!(
            endpoint.starts_with("http://127.0.0.1:"),
            "the emulator must be on loopback, not {endpoint}"
        );
        let outputs: Value =
            serde_json::from_str(&read("stack-outputs.json")).expect("stack outputs JSON");
        let hex = read("signer-public-key.hex");
        let public_key = (0..hex.trim().len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex.trim()[i..i + 2], 16).expect("hex public key"))
            .collect();
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "test", "test", None, None, "e2e",
            ))
            .load()
            .await;
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&config)
                .force_path_style(true)
                .build(),
        );
        let text = |k: &str| {
            outputs[k]
                .as_str()
                .unwrap_or_else(|| panic!("stack output {k}"))
                .to_string()
        };
        Local {
            bucket: text("FirmwareBucketName"),
            upload_prefix: text("UploadPrefix"),
            state_machine: text("StateMachineArn"),
            endpoint,
            public_key,
            s3,
            iot: aws_sdk_iot::Client::new(&config),
            sfn: aws_sdk_sfn::Client::new(&config),
            signer: aws_sdk_signer::Client::new(&config),
        }
    }

    /// A key under the upload prefix no other test uses.
    pub fn unique_key(&self, name: &str) -> String {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        format!("{}e2e-{name}-{nanos}.bin", self.upload_prefix)
    }

    /// Uploads with tags (atomically, as PutObject's Tagging); the version id.
    pub async fn upload(&self, key: &str, body: &[u8], tags: &[(&str, &str)]) -> String {
        let pairs: Vec<(String, String)> = tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let out = self
            .s3
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(body.to_vec().into())
            .tagging(ota_core::tags::tagging_string(&pairs))
            .send()
            .await
            .expect("PutObject");
        out.version_id()
            .expect("a versioned bucket gives a version id")
            .to_string()
    }

    /// Every execution of the state machine, every page (the emulator, like
    /// AWS, pages long lists).
    async fn all_executions(&self) -> Vec<aws_sdk_sfn::types::ExecutionListItem> {
        self.sfn
            .list_executions()
            .state_machine_arn(&self.state_machine)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .expect("ListExecutions")
    }

    /// An execution and its input (the upload event) as JSON.
    async fn describe(
        &self,
        arn: &str,
    ) -> (
        aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput,
        Value,
    ) {
        let d = self
            .sfn
            .describe_execution()
            .execution_arn(arn)
            .send()
            .await
            .expect("DescribeExecution");
        let input = serde_json::from_str(d.input().unwrap_or("{}")).unwrap_or(Value::Null);
        (d, input)
    }

    /// Every execution whose input is the upload event for (key, version).
    pub async fn executions_for(&self, key: &str, version: Option<&str>) -> Vec<(String, Value)> {
        let executions = self.all_executions().await;
        let mut out = Vec::new();
        for e in &executions {
            let (_, input) = self.describe(e.execution_arn()).await;
            let obj = &input["detail"]["object"];
            if obj["key"] == key && version.is_none_or(|v| obj["version-id"] == v) {
                out.push((e.execution_arn().to_string(), input));
            }
        }
        out
    }

    /// Every finished execution, by the (key, version id) of the upload event
    /// it carries: one listing (every page) and one DescribeExecution each.
    pub async fn finished_executions(&self) -> HashMap<(String, String), Vec<Finished>> {
        let executions = self.all_executions().await;
        let mut out: HashMap<(String, String), Vec<Finished>> = HashMap::new();
        for e in executions
            .iter()
            .filter(|e| *e.status() != ExecutionStatus::Running)
        {
            let (d, input) = self.describe(e.execution_arn()).await;
            let obj = &input["detail"]["object"];
            let id = (
                obj["key"].as_str().unwrap_or_default().to_string(),
                obj["version-id"].as_str().unwrap_or_default().to_string(),
            );
            out.entry(id).or_default().push(Finished {
                arn: e.execution_arn().to_string(),
                status: d.status().clone(),
                output: serde_json::from_str(d.output().unwrap_or("null")).unwrap_or(Value::Null),
                error: d.error().unwrap_or_default().to_string(),
                cause: d.cause().unwrap_or_default().to_string(),
            });
        }
        out
    }

    /// Waits until every (key, version, count) has `count` finished
    /// executions; returns them in the same order.
    pub async fn wait_for_all(
        &self,
        wanted: &[(&str, &str, usize)],
        within: Duration,
    ) -> Vec<Vec<Finished>> {
        let deadline = Instant::now() + within;
        loop {
            let mut all = self.finished_executions().await;
            let ready = wanted.iter().all(|(k, v, n)| {
                all.get(&(k.to_string(), v.to_string())).map_or(0, Vec::len) >= *n
            });
            if ready {
                return wanted
                    .iter()
                    .map(|(k, v, _)| {
                        all.remove(&(k.to_string(), v.to_string()))
                            .unwrap_or_default()
                    })
                    .collect();
            }
            assert!(
                Instant::now() < deadline,
                "not every execution finished within {within:?}: {wanted:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits for the execution(s) of (key, version) to finish; `count` of them.
    pub async fn wait_for(&self, key: &str, version: &str, count: usize) -> Vec<Finished> {
        self.wait_for_all(&[(key, version, count)], Duration::from_secs(90))
            .await
            .remove(0)
    }

    /// Waits for one successful execution and returns the job id it created.
    pub async fn job_for(&self, key: &str, version: &str) -> String {
        let done = self.wait_for(key, version, 1).await;
        let f = &done[0];
        f.assert_succeeded();
        f.output["job"]["jobId"]
            .as_str()
            .expect("job id in the output")
            .to_string()
    }

    pub async fn job_document(&self, job_id: &str) -> Value {
        let d = self
            .iot
            .get_job_document()
            .job_id(job_id)
            .send()
            .await
            .expect("GetJobDocument");
        serde_json::from_str(d.document().expect("a document")).expect("JSON document")
    }

    /// Verifies a base64 DER ECDSA P-256/SHA-256 signature over `message`
    /// with the signing certificate's public key.
    pub fn verify(&self, message: &[u8], signature_b64: &str) -> bool {
        use base64::Engine;
        let Ok(sig) = base64::engine::general_purpose::STANDARD.decode(signature_b64) else {
            return false;
        };
        let key = aws_lc_rs::signature::UnparsedPublicKey::new(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1,
            &self.public_key,
        );
        key.verify(message, &sig).is_ok()
    }

    /// Signing jobs whose source is this key.
    pub async fn signing_jobs_for(&self, key: &str) -> usize {
        let pages: Vec<_> = self
            .signer
            .list_signing_jobs()
            .into_paginator()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .expect("ListSigningJobs");
        pages
            .iter()
            .flat_map(|p| p.jobs())
            .filter(|j| {
                j.source()
                    .and_then(|s| s.s3())
                    .is_some_and(|s| s.key() == key)
            })
            .count()
    }
}

/// Firmware bytes that differ per call.
pub fn firmware(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}
