//! The agent's transport for `ota device`: the HTTPS Jobs device API, or an
//! MQTT connection (mutual TLS with --cert/--key, else WebSocket signed with
//! SigV4) to the account's iot:Data-ATS endpoint.

use crate::args::{DeviceConnectionArgs, DeviceTransport, GlobalArgs, StreamEncoding};
use crate::error::CliError;
use ota_device::mqtt::address::{self, Transport};
use ota_device::mqtt::stream::{Encoding, StreamOptions};
use ota_device::mqtt::{MqttAuth, MqttEndpoint, MqttLink};
use ota_device::{Agent, AgentError, DeviceConfig};
use std::sync::Arc;
use std::time::Duration;

fn read(path: &std::path::Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|source| CliError::Io {
        path: path.display().to_string(),
        source,
    })
}

fn setup(message: String) -> CliError {
    CliError::Device(AgentError::Setup(message))
}

/// The stream options the flags ask for.
pub fn stream_options(c: &DeviceConnectionArgs) -> Result<StreamOptions, CliError> {
    if !(256..=131_072).contains(&c.block_size) {
        return Err(CliError::Usage(format!(
            "--block-size {}: GetStream blocks are 256 to 131072 bytes",
            c.block_size
        )));
    }
    if !(c.request_timeout.is_finite() && c.request_timeout > 0.0) {
        return Err(CliError::Usage(format!(
            "--request-timeout {}: a positive number of seconds",
            c.request_timeout
        )));
    }
    Ok(StreamOptions {
        block_size: c.block_size,
        blocks_per_request: c.blocks_per_request.max(1),
        request_timeout: Duration::from_secs_f64(c.request_timeout),
        encoding: match c.stream_encoding {
            StreamEncoding::Cbor => Encoding::Cbor,
            StreamEncoding::Json => Encoding::Json,
        },
        ..StreamOptions::default()
    })
}

/// The agent for `config`, connected as the flags say.
pub async fn agent(
    g: &GlobalArgs,
    c: &DeviceConnectionArgs,
    config: DeviceConfig,
) -> Result<Agent, CliError> {
    let sdk = crate::aws::sdk_config(g).await;
    if c.transport == DeviceTransport::Https {
        return Ok(Agent::new(
            aws_sdk_iotjobsdataplane::Client::new(&sdk),
            config,
        )?);
    }
    let options = stream_options(c)?;
    let (transport, auth) = match (&c.cert, &c.key) {
        (Some(cert), Some(key)) => (
            Transport::MutualTls,
            MqttAuth::Certificate {
                cert_pem: read(cert)?,
                key_pem: read(key)?,
            },
        ),
        _ => {
            let credentials = sdk.credentials_provider().ok_or_else(|| {
                setup("no AWS credentials to sign the MQTT WebSocket upgrade with (or give --cert and --key)".into())
            })?;
            let region = sdk.region().map(|r| r.to_string()).ok_or_else(|| {
                setup("no AWS region to sign the MQTT WebSocket upgrade for (--region)".into())
            })?;
            (
                Transport::WebSocket,
                MqttAuth::SigV4 {
                    credentials,
                    region,
                },
            )
        }
    };
    let given = match &c.iot_endpoint {
        Some(e) => e.clone(),
        None => data_endpoint(&sdk).await?,
    };
    // The local emulator is plain HTTP on loopback, and so is its
    // WebSocket; AWS is TLS everywhere.
    let tls_default = !g
        .endpoint_url
        .as_deref()
        .is_some_and(|u| u.starts_with("http://"));
    let at = address::parse(&given, transport, tls_default).map_err(CliError::Usage)?;
    let endpoint = MqttEndpoint {
        host: at.host,
        port: at.port,
        tls: at.tls,
        ca_pem: c.ca.as_deref().map(read).transpose()?,
        auth,
        client_id: c.client_id.clone().unwrap_or_else(|| config.thing.clone()),
    };
    let link = MqttLink::connect(&endpoint, &config.thing, options.request_timeout * 3)
        .await
        .map_err(|e| setup(format!("{given}: {e}")))?;
    Ok(Agent::over_mqtt(Arc::new(link), config, options)?)
}

/// DescribeEndpoint iot:Data-ATS: where the account's devices connect.
async fn data_endpoint(sdk: &aws_config::SdkConfig) -> Result<String, CliError> {
    aws_sdk_iot::Client::new(sdk)
        .describe_endpoint()
        .endpoint_type("iot:Data-ATS")
        .send()
        .await
        .map_err(|e| {
            setup(format!(
                "DescribeEndpoint iot:Data-ATS (or give --iot-endpoint): {}",
                aws_smithy_types::error::display::DisplayErrorContext(&e)
            ))
        })?
        .endpoint_address()
        .map(str::to_string)
        .ok_or_else(|| setup("DescribeEndpoint returned no address (give --iot-endpoint)".into()))
}
