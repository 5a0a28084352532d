//! The AWS side of the `ota` command: the clients (one config), the
//! deployed pipeline its state machine's tags describe ([`pipeline`]), and
//! finding an upload's execution and how far it got ([`executions`]).

mod executions;
mod pipeline;

pub use executions::{Execution, Progress, Wanted};
pub use pipeline::{
    Pipeline, PIPELINE_TAGS, TAG_DEFAULT_PROTOCOLS, TAG_DEFAULT_SIGNING_PROFILE,
    TAG_DEFAULT_TARGETS, TAG_FIRMWARE_BUCKET, TAG_MANIFEST_PREFIX, TAG_MAX_SIGNING_WAIT_SECONDS,
    TAG_SIGNED_PREFIX, TAG_UPLOAD_PREFIX,
};

use crate::args::GlobalArgs;
use crate::error::CliError;

/// The clients one command needs, from one shared config.
pub struct Clients {
    pub region: String,
    pub s3: aws_sdk_s3::Client,
    /// For start-signing's profile check, before an upload.
    pub signer: aws_sdk_signer::Client,
    pub sfn: aws_sdk_sfn::Client,
    pub iot: aws_sdk_iot::Client,
    /// GetResources: which jobs carry a tag (`ota delete`).
    pub tagging: aws_sdk_resourcegroupstagging::Client,
}

impl Clients {
    /// Standard credential and region resolution; `--endpoint-url` (or
    /// AWS_ENDPOINT_URL, which aws-config also reads) for every service.
    pub async fn new(g: &GlobalArgs) -> Result<Clients, CliError> {
        let config = sdk_config(g).await;
        let region = config.region().map(|r| r.to_string()).ok_or_else(|| {
            CliError::Usage(
                "no AWS region: pass --region or set AWS_REGION (or a region in your AWS profile)"
                    .into(),
            )
        })?;
        // A custom endpoint (an emulator, a proxy) seldom serves
        // virtual-hosted bucket names; path style works on every S3.
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&config)
                .force_path_style(g.endpoint_url.is_some())
                .build(),
        );
        Ok(Clients {
            region,
            s3,
            signer: aws_sdk_signer::Client::new(&config),
            sfn: aws_sdk_sfn::Client::new(&config),
            iot: aws_sdk_iot::Client::new(&config),
            tagging: aws_sdk_resourcegroupstagging::Client::new(&config),
        })
    }
}

/// The SDK config every command builds its clients from: the standard
/// credential and region chain, `--region` and `--endpoint-url` over it.
pub async fn sdk_config(g: &GlobalArgs) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(r) = &g.region {
        loader = loader.region(aws_config::Region::new(r.clone()));
    }
    if let Some(e) = &g.endpoint_url {
        loader = loader.endpoint_url(e);
    }
    loader.load().await
}

/// An object version the command uploaded.
pub struct Uploaded {
    pub bucket: String,
    pub key: String,
    pub version_id: String,
    pub size: u64,
    /// When S3 wrote the version (Unix seconds), if it said.
    pub uploaded_at: Option<i64>,
}

pub use ota_core::create_job::console_url;
