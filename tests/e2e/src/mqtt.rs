//! Devices on MQTT: agents (crates/ota-device) connected to the emulator's
//! broker the two ways AWS IoT offers, each with its own connection and
//! client id: WebSocket on the emulator's HTTP port, the upgrade signed
//! with SigV4 and its Host header naming the account's iot:Data-ATS
//! endpoint; and mutual TLS to the listener local/emulator.py binds to
//! 127.0.0.1 (its address in build/local/mqtt-tls-endpoint).

use crate::Local;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use ota_core::devices::{DeviceFamily, NrfLimits};
use ota_device::mqtt::address::{self, Transport};
use ota_device::mqtt::stream::StreamOptions;
use ota_device::mqtt::{MqttAuth, MqttEndpoint, MqttError, MqttLink};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Stream options for tests: re-requests after 2 s instead of FreeRTOS's
/// 10 s, so a lost block costs seconds.
pub fn test_stream_options() -> StreamOptions {
    StreamOptions {
        request_timeout: Duration::from_secs(2),
        ..StreamOptions::default()
    }
}

/// A thing's X.509 identity from CreateKeysAndCertificate.
pub struct ThingCertificate {
    pub cert_pem: Vec<u8>,
    pub key_pem: Vec<u8>,
}

impl Local {
    /// The account's iot:Data-ATS endpoint (DescribeEndpoint), as the
    /// emulator answers it: `HOST:PORT`, the port its HTTP one.
    pub async fn data_endpoint(&self) -> String {
        self.iot
            .describe_endpoint()
            .endpoint_type("iot:Data-ATS")
            .send()
            .await
            .expect("DescribeEndpoint")
            .endpoint_address()
            .expect("an endpoint address")
            .to_string()
    }

    /// Connects `thing` over SigV4-signed WebSocket with `credentials`.
    pub async fn connect_ws(
        &self,
        thing: &str,
        credentials: Credentials,
    ) -> Result<MqttLink, MqttError> {
        let at = address::parse(&self.data_endpoint().await, Transport::WebSocket, false)
            .expect("the data endpoint parses");
        let endpoint = MqttEndpoint {
            host: at.host,
            port: at.port,
            tls: at.tls,
            ca_pem: None,
            auth: MqttAuth::SigV4 {
                credentials: SharedCredentialsProvider::new(credentials),
                region: "us-east-1".into(),
            },
            client_id: thing.to_string(),
        };
        MqttLink::connect(&endpoint, thing, Duration::from_secs(10)).await
    }

    /// The IAM user's access key local/localaws.py prepared (the emulator
    /// checks signatures made with it; its root key it cannot check).
    pub fn device_user_credentials(&self, secret_suffix: &str) -> Credentials {
        let key: serde_json::Value =
            serde_json::from_str(&crate::read("device-user-key.json")).expect("the key JSON");
        let text = |k: &str| key[k].as_str().expect("access key fields").to_string();
        Credentials::new(
            text("AccessKeyId"),
            format!("{}{secret_suffix}", text("SecretAccessKey")),
            None,
            None,
            "e2e-device-user",
        )
    }

    /// A certificate for `thing` (CreateKeysAndCertificate, attached).
    pub async fn thing_certificate(&self, thing: &str) -> ThingCertificate {
        let out = self
            .iot
            .create_keys_and_certificate()
            .set_as_active(true)
            .send()
            .await
            .expect("CreateKeysAndCertificate");
        self.iot
            .attach_thing_principal()
            .thing_name(thing)
            .principal(out.certificate_arn().expect("certificateArn"))
            .send()
            .await
            .expect("AttachThingPrincipal");
        let key = out.key_pair().expect("keyPair");
        ThingCertificate {
            cert_pem: out.certificate_pem().expect("certificatePem").into(),
            key_pem: key.private_key().expect("privateKey").into(),
        }
    }

    /// Connects `thing` with mutual TLS to the emulator's loopback
    /// listener, trusting the emulator's CA.
    pub async fn connect_mtls(
        &self,
        thing: &str,
        cert: &ThingCertificate,
    ) -> Result<MqttLink, MqttError> {
        let listener = crate::read("mqtt-tls-endpoint");
        let at = address::parse(listener.trim(), Transport::MutualTls, true)
            .expect("the mTLS address parses");
        let (status, ca) = self
            .download(&format!("{}/_ministack/iot/ca.pem", self.endpoint))
            .await;
        assert_eq!(status, 200, "the emulator's IoT CA");
        let endpoint = MqttEndpoint {
            host: at.host,
            port: at.port,
            tls: true,
            ca_pem: Some(ca),
            auth: MqttAuth::Certificate {
                cert_pem: cert.cert_pem.clone(),
                key_pem: cert.key_pem.clone(),
            },
            client_id: thing.to_string(),
        };
        MqttLink::connect(&endpoint, thing, Duration::from_secs(10)).await
    }

    /// An agent for `thing` on `link`, writing under `out`.
    pub fn mqtt_agent(
        &self,
        link: MqttLink,
        family: DeviceFamily,
        nrf_limits: NrfLimits,
        out: &Path,
        stream: StreamOptions,
    ) -> ota_device::Agent {
        std::fs::create_dir_all(out).expect("agent output dir");
        let config = ota_device::DeviceConfig {
            thing: link.thing().to_string(),
            family,
            signer_cert: Some(self.signer_cert_pem()),
            out_dir: out.to_path_buf(),
            progress_step_percent: 50,
            nrf_limits,
            files: ota_device::plan::Files::First,
        };
        ota_device::Agent::over_mqtt(Arc::new(link), config, stream).expect("agent")
    }

    /// Agents for `things` over SigV4 WebSocket with the emulator's root
    /// key, one connection each, connected at once.
    pub async fn ws_fleet(
        &self,
        things: &[String],
        family: DeviceFamily,
        out: &Path,
        stream: StreamOptions,
    ) -> Vec<ota_device::Agent> {
        let root = Credentials::new("test", "test", None, None, "e2e");
        let links =
            futures_util::future::join_all(things.iter().map(|t| self.connect_ws(t, root.clone())))
                .await;
        things
            .iter()
            .zip(links)
            .map(|(t, link)| {
                let link = link.unwrap_or_else(|e| panic!("{t} connects: {e}"));
                self.mqtt_agent(
                    link,
                    family,
                    NrfLimits::default(),
                    &out.join(t),
                    stream.clone(),
                )
            })
            .collect()
    }
}
