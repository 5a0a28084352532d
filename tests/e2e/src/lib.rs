//! The end-to-end harness: clients for the local AWS emulator that
//! scripts/test.sh started (its URL, the deployed stack's outputs and the
//! signing certificate's public key are under build/local/), and helpers to
//! upload firmware with tags and follow the execution that upload started.
//!
//! Every address is the emulator's, on 127.0.0.1.

use serde_json::Value;
use std::path::PathBuf;

mod device;
mod executions;
pub mod mqtt;
pub use device::DeviceJob;
pub use executions::Finished;

/// Where scripts/test.sh and local/localaws.py leave what the tests need.
pub fn local_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../build/local")
}

pub(crate) fn read(name: &str) -> String {
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
    /// Where release manifests (multi-file updates) go.
    pub release_prefix: String,
    pub state_machine: String,
    /// The signing certificate's public key, an uncompressed P-256 point.
    pub public_key: Vec<u8>,
    pub s3: aws_sdk_s3::Client,
    pub iot: aws_sdk_iot::Client,
    pub sfn: aws_sdk_sfn::Client,
    pub signer: aws_sdk_signer::Client,
    /// The IoT Jobs device data plane, as a device calls it over HTTPS.
    pub jobs: aws_sdk_iotjobsdataplane::Client,
    /// The emulator's endpoint and test credentials, for a test's own clients.
    pub config: aws_config::SdkConfig,
}

/// An upload that became a job.
#[derive(Debug)]
pub struct Update {
    pub key: String,
    pub version: String,
    pub job_id: String,
    /// The job document, as GetJobDocument returns it.
    pub document: Value,
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
            release_prefix: text("ReleasePrefix"),
            state_machine: text("StateMachineArn"),
            endpoint,
            public_key,
            s3,
            iot: aws_sdk_iot::Client::new(&config),
            sfn: aws_sdk_sfn::Client::new(&config),
            signer: aws_sdk_signer::Client::new(&config),
            jobs: aws_sdk_iotjobsdataplane::Client::new(&config),
            config,
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

    /// Uploads `body` under a fresh key named after `name` with `tags`, and
    /// waits for the job it becomes: the upload -> wait -> job -> document
    /// scaffolding most end-to-end tests start with.
    pub async fn update(&self, name: &str, body: &[u8], tags: &[(&str, &str)]) -> Update {
        let key = self.unique_key(name);
        let version = self.upload(&key, body, tags).await;
        let job_id = self.job_for(&key, &version).await;
        let document = self.job_document(&job_id).await;
        Update {
            key,
            version,
            job_id,
            document,
        }
    }

    /// The stream of an upload whose job has the default id.
    pub fn default_stream_id(&self, key: &str, version: &str) -> String {
        let job_id = ota_core::ids::job_id(&self.bucket, key, version);
        ota_core::ids::stream_id(&self.bucket, key, version, &job_id)
    }

    /// The job IoT holds (DescribeJob).
    pub async fn describe_job(&self, job_id: &str) -> aws_sdk_iot::types::Job {
        self.iot
            .describe_job()
            .job_id(job_id)
            .send()
            .await
            .expect("DescribeJob")
            .job()
            .expect("DescribeJob returned a job")
            .clone()
    }

    /// The job's tags (ListTagsForResource), by key.
    pub async fn job_tags(&self, job_id: &str) -> std::collections::BTreeMap<String, String> {
        let arn = self
            .describe_job(job_id)
            .await
            .job_arn()
            .expect("job arn")
            .to_string();
        let t = self
            .iot
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .expect("ListTagsForResource");
        t.tags()
            .iter()
            .map(|t| {
                (
                    t.key().to_string(),
                    t.value().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    /// A job made by hand, not by the pipeline, for `target` (an ARN),
    /// that carries `tags`: a second job using what a pipeline job uses.
    /// Its ARN. [`Local::delete_job_now`] removes it.
    pub async fn hand_made_job(
        &self,
        job_id: &str,
        target: &str,
        document: &Value,
        tags: &[(&str, &str)],
    ) -> String {
        let mut call = self
            .iot
            .create_job()
            .job_id(job_id)
            .targets(target)
            .document(document.to_string());
        for (k, v) in tags {
            call = call.tags(
                aws_sdk_iot::types::Tag::builder()
                    .key(*k)
                    .value(*v)
                    .build()
                    .expect("tag"),
            );
        }
        call.send()
            .await
            .expect("CreateJob")
            .job_arn()
            .expect("job arn")
            .to_string()
    }

    /// DeleteJob with force, whatever state the job is in.
    pub async fn delete_job_now(&self, job_id: &str) {
        self.iot
            .delete_job()
            .job_id(job_id)
            .force(true)
            .send()
            .await
            .expect("DeleteJob");
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

/// A well-formed ECDSA P-256 signature (DER, base64) over none of the
/// tests' firmware: pre-signed uploads whose signature does not verify.
pub const WRONG_SIGNATURE: &str = "MEUCIQDkRJ1lbcw7xq2yPqDmo3jUxm8bTI9zNr8yFQjH3lG9OgIgKH2Jx0uY5nG1y8Zq3kz4JmPq7s8B0o1bC2dE3fG4hI0=";

/// Firmware bytes that differ per call.
pub fn firmware(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}
