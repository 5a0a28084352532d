//! The agent's MQTT connection to AWS IoT: mutual TLS with the thing's
//! certificate, or WebSocket signed with SigV4 (rumqttc for MQTT itself).
//! One connection per agent; a background task drives it, re-subscribes
//! after every reconnect and routes what arrives: Jobs answers to the
//! request waiting for their client token, stream blocks to the download
//! reading that stream, notify-next to whoever waits for the next job.

pub mod address;
pub mod sigv4;
pub mod stream;

use bytes::Bytes;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS, TlsConfiguration, Transport};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use tracing::Instrument;

/// How the agent proves who it is.
#[derive(Clone)]
pub enum MqttAuth {
    /// Mutual TLS with the thing's X.509 certificate and private key (PEM).
    Certificate { cert_pem: Vec<u8>, key_pem: Vec<u8> },
    /// MQTT over WebSocket, the upgrade signed with SigV4.
    SigV4 {
        credentials: aws_credential_types::provider::SharedCredentialsProvider,
        region: String,
    },
}

/// Where and how to connect.
#[derive(Clone)]
pub struct MqttEndpoint {
    /// The account's iot:Data-ATS host (what DescribeEndpoint answers).
    pub host: String,
    pub port: u16,
    /// TLS on the connection (always on AWS; the local emulator serves
    /// MQTT over WebSocket on its plain-HTTP port).
    pub tls: bool,
    /// Trust anchors for the server certificate (PEM); None: the system's.
    pub ca_pem: Option<Vec<u8>>,
    pub auth: MqttAuth,
    /// The MQTT client id (AWS IoT: unique per connection; the thing name
    /// for a thing with a certificate).
    pub client_id: String,
}

impl MqttEndpoint {
    /// The address to dial: names under `localhost` are the loopback
    /// (RFC 6761 section 6.3: resolvers "SHOULD" answer them so, glibc does
    /// not), which is how the local emulator's endpoint names resolve.
    fn dial_host(&self) -> &str {
        if self.host == "localhost" || self.host.ends_with(".localhost") {
            "127.0.0.1"
        } else {
            &self.host
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MqttError {
    #[error("MQTT setup: {0}")]
    Setup(String),
    #[error("MQTT: not connected within {0:?}: {1}")]
    NotConnected(Duration, String),
    #[error("MQTT {0}: no answer within {1:?}")]
    NoAnswer(String, Duration),
    #[error("MQTT: the connection is closed")]
    Closed,
}

type Message = (String, Bytes);

#[derive(Default)]
struct Routes {
    /// Jobs requests waiting for their answer, by client token.
    requests: HashMap<String, oneshot::Sender<Message>>,
    /// Stream downloads, by stream id.
    streams: HashMap<String, mpsc::UnboundedSender<Message>>,
}

/// A live MQTT connection for one thing.
pub struct MqttLink {
    client: AsyncClient,
    thing: String,
    routes: Arc<Mutex<Routes>>,
    /// Counts SUBACKs of the agent's subscriptions: requests wait for one
    /// after each (re)connect, so no answer is published before it listens.
    ready: watch::Receiver<u64>,
    /// Bumped on every notify-next.
    notified: watch::Receiver<u64>,
    /// The last connection error, for a person to read.
    last_error: Arc<Mutex<String>>,
    drop_now: mpsc::UnboundedSender<()>,
    task: tokio::task::JoinHandle<()>,
    /// How and where it is connected, for people.
    described: String,
}

impl Drop for MqttLink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn tls_config(endpoint: &MqttEndpoint) -> Result<Arc<rustls::ClientConfig>, MqttError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let setup = |what: &str, e: &dyn std::fmt::Display| MqttError::Setup(format!("{what}: {e}"));
    let mut roots = rustls::RootCertStore::empty();
    match &endpoint.ca_pem {
        Some(pem) => {
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| setup("the CA file", &e))?;
                roots.add(cert).map_err(|e| setup("the CA file", &e))?;
            }
        }
        None => {
            for cert in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(cert);
            }
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| setup("TLS", &e))?
        .with_root_certificates(roots);
    let config = match &endpoint.auth {
        MqttAuth::Certificate { cert_pem, key_pem } => {
            let chain = CertificateDer::pem_slice_iter(cert_pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| setup("the thing's certificate", &e))?;
            let key = PrivateKeyDer::from_pem_slice(key_pem)
                .map_err(|e| setup("the thing's private key", &e))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| setup("the thing's certificate and key", &e))?
        }
        MqttAuth::SigV4 { .. } => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

fn options(endpoint: &MqttEndpoint) -> Result<MqttOptions, MqttError> {
    let dial = endpoint.dial_host().to_string();
    let mut options = match &endpoint.auth {
        MqttAuth::Certificate { .. } => {
            let mut o = MqttOptions::new(&endpoint.client_id, dial, endpoint.port);
            o.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
                tls_config(endpoint)?,
            )));
            o
        }
        MqttAuth::SigV4 {
            credentials,
            region,
        } => {
            let scheme = if endpoint.tls { "wss" } else { "ws" };
            let url = format!("{scheme}://{dial}:{}/mqtt", endpoint.port);
            let mut o = MqttOptions::new(&endpoint.client_id, url, endpoint.port);
            o.set_transport(if endpoint.tls {
                Transport::wss_with_config(TlsConfiguration::Rustls(tls_config(endpoint)?))
            } else {
                Transport::Ws
            });
            // The Host header names the data endpoint (the gateway, and the
            // emulator, route by it); the signature covers it and is made
            // afresh for every (re)connect.
            let host = if endpoint.port == 443 {
                endpoint.host.clone()
            } else {
                format!("{}:{}", endpoint.host, endpoint.port)
            };
            let (credentials, region) = (credentials.clone(), region.clone());
            o.set_request_modifier(move |mut request: http::Request<()>| {
                let (credentials, region, host) =
                    (credentials.clone(), region.clone(), host.clone());
                async move {
                    use aws_credential_types::provider::ProvideCredentials;
                    let signed = match credentials.provide_credentials().await {
                        Ok(c) => {
                            sigv4::presigned_query(&c, &region, &host, std::time::SystemTime::now())
                        }
                        Err(e) => Err(format!("credentials: {e}")),
                    };
                    match signed {
                        Ok(query) => {
                            let uri = format!("{}?{query}", request.uri());
                            if let Ok(uri) = uri.parse() {
                                *request.uri_mut() = uri;
                            }
                        }
                        // Sent unsigned: the gateway refuses it, and the
                        // reason is logged here.
                        Err(e) => {
                            tracing::warn!(error = %e, "the WebSocket upgrade could not be signed")
                        }
                    }
                    if let Ok(value) = host.parse() {
                        request.headers_mut().insert(http::header::HOST, value);
                    }
                    request
                }
            });
            o
        }
    };
    options
        .set_keep_alive(Duration::from_secs(30))
        .set_clean_session(true)
        // Stream blocks are up to 128 KB (GetStream's `l`), plus framing.
        .set_max_packet_size(256 * 1024, 64 * 1024);
    Ok(options)
}

impl MqttLink {
    /// Connects for `thing` and subscribes to its Jobs and stream topics;
    /// waits up to `timeout` for the first subscription to be acknowledged.
    pub async fn connect(
        endpoint: &MqttEndpoint,
        thing: &str,
        timeout: Duration,
    ) -> Result<MqttLink, MqttError> {
        let (client, mut eventloop) = AsyncClient::new(options(endpoint)?, 64);
        let routes = Arc::new(Mutex::new(Routes::default()));
        let (ready_tx, ready) = watch::channel(0u64);
        let (notified_tx, notified) = watch::channel(0u64);
        let (drop_now, mut drop_rx) = mpsc::unbounded_channel::<()>();
        let last_error = Arc::new(Mutex::new(String::from("connecting")));
        let filters = vec![
            rumqttc::SubscribeFilter::new(format!("$aws/things/{thing}/jobs/#"), QoS::AtLeastOnce),
            rumqttc::SubscribeFilter::new(
                format!("$aws/things/{thing}/streams/#"),
                QoS::AtLeastOnce,
            ),
        ];
        let notify_topic = format!("$aws/things/{thing}/jobs/notify-next");
        let task = {
            let (client, routes, last_error) = (client.clone(), routes.clone(), last_error.clone());
            let span = tracing::info_span!("mqtt", thing = %thing, client_id = %endpoint.client_id);
            tokio::spawn(
                async move {
                    loop {
                        tokio::select! {
                            event = eventloop.poll() => match event {
                                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                                    tracing::debug!("connected");
                                    let _ = client.try_subscribe_many(filters.clone());
                                }
                                Ok(Event::Incoming(Packet::SubAck(_))) => {
                                    ready_tx.send_modify(|n| *n += 1);
                                }
                                Ok(Event::Incoming(Packet::Publish(p))) => {
                                    if p.topic == notify_topic {
                                        notified_tx.send_modify(|n| *n += 1);
                                    }
                                    route(&routes, p.topic, p.payload);
                                }
                                Ok(_) => {}
                                Err(e) => {
                                    tracing::warn!(error = %e, "connection lost; reconnecting");
                                    if let Ok(mut last) = last_error.lock() {
                                        *last = e.to_string();
                                    }
                                    tokio::time::sleep(Duration::from_millis(500)).await;
                                }
                            },
                            Some(()) = drop_rx.recv() => {
                                // Fault injection: the socket is dropped
                                // without DISCONNECT, as a device losing its
                                // network; the next poll reconnects.
                                tracing::info!("dropping the connection");
                                eventloop.network = None;
                            }
                        }
                    }
                }
                .instrument(span),
            )
        };
        let link = MqttLink {
            client,
            thing: thing.to_string(),
            routes,
            ready,
            notified,
            last_error,
            drop_now,
            task,
            described: format!(
                "{} to {}:{}{}",
                match endpoint.auth {
                    MqttAuth::Certificate { .. } => "over mutual TLS",
                    MqttAuth::SigV4 { .. } if endpoint.tls => "over WebSocket (TLS, SigV4)",
                    MqttAuth::SigV4 { .. } => "over WebSocket (SigV4)",
                },
                endpoint.host,
                endpoint.port,
                if endpoint.client_id == thing {
                    String::new()
                } else {
                    format!(", client id {}", endpoint.client_id)
                }
            ),
        };
        link.wait_ready(0, timeout).await?;
        Ok(link)
    }

    /// Waits until the subscriptions of a connection after `seen` SUBACKs
    /// are in place; returns the new count.
    async fn wait_ready(&self, seen: u64, timeout: Duration) -> Result<u64, MqttError> {
        let mut ready = self.ready.clone();
        let waited = tokio::time::timeout(timeout, ready.wait_for(|n| *n > seen)).await;
        match waited {
            Ok(Ok(n)) => Ok(*n),
            Ok(Err(_)) => Err(MqttError::Closed),
            Err(_) => Err(MqttError::NotConnected(
                timeout,
                self.last_error
                    .lock()
                    .map(|e| e.clone())
                    .unwrap_or_default(),
            )),
        }
    }

    /// How many times the subscriptions were (re)acknowledged.
    pub fn generation(&self) -> u64 {
        *self.ready.borrow()
    }

    /// "over mutual TLS to HOST:PORT", and the like.
    pub fn describe(&self) -> &str {
        &self.described
    }

    pub fn thing(&self) -> &str {
        &self.thing
    }

    /// Drops the network connection (no DISCONNECT); it comes back by itself.
    pub fn drop_connection(&self) {
        let _ = self.drop_now.send(());
    }

    /// A receiver that changes on every notify-next for the thing.
    pub fn notifications(&self) -> watch::Receiver<u64> {
        self.notified.clone()
    }

    /// Publishes `payload` on `topic` and waits for the answer that carries
    /// `token` (the caller puts it in the request).
    pub async fn request(
        &self,
        topic: String,
        token: String,
        payload: Vec<u8>,
        timeout: Duration,
    ) -> Result<Message, MqttError> {
        self.wait_ready(0, timeout).await?;
        let (tx, rx) = oneshot::channel();
        if let Ok(mut routes) = self.routes.lock() {
            routes.requests.insert(token.clone(), tx);
        }
        self.publish(&topic, payload).await?;
        let answer = tokio::time::timeout(timeout, rx).await;
        if let Ok(mut routes) = self.routes.lock() {
            routes.requests.remove(&token);
        }
        match answer {
            Ok(Ok(message)) => Ok(message),
            Ok(Err(_)) => Err(MqttError::Closed),
            Err(_) => Err(MqttError::NoAnswer(topic, timeout)),
        }
    }

    pub async fn publish(&self, topic: &str, payload: Vec<u8>) -> Result<(), MqttError> {
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload)
            .await
            .map_err(|_| MqttError::Closed)
    }

    /// The messages on the thing's topics of stream `stream_id`, until the
    /// receiver is dropped.
    pub fn open_stream(&self, stream_id: &str) -> StreamMessages {
        let (tx, rx) = mpsc::unbounded_channel();
        if let Ok(mut routes) = self.routes.lock() {
            routes.streams.insert(stream_id.to_string(), tx);
        }
        StreamMessages {
            rx,
            stream_id: stream_id.to_string(),
            routes: self.routes.clone(),
        }
    }
}

/// A stream download's inbox; deregisters itself when dropped.
pub struct StreamMessages {
    pub rx: mpsc::UnboundedReceiver<Message>,
    stream_id: String,
    routes: Arc<Mutex<Routes>>,
}

impl Drop for StreamMessages {
    fn drop(&mut self) {
        if let Ok(mut routes) = self.routes.lock() {
            routes.streams.remove(&self.stream_id);
        }
    }
}

/// Hands one incoming message to whoever waits for it.
fn route(routes: &Mutex<Routes>, topic: String, payload: Bytes) {
    let Ok(mut routes) = routes.lock() else {
        return;
    };
    // $aws/things/THING/streams/STREAM/(data|description|rejected)/FMT
    let mut parts = topic.split('/');
    if let (Some("streams"), Some(stream)) = (parts.nth(3), parts.next()) {
        if let Some(tx) = routes.streams.get(stream) {
            let _ = tx.send((topic.clone(), payload));
        }
        return;
    }
    if !(topic.ends_with("/accepted") || topic.ends_with("/rejected")) {
        return;
    }
    let token = serde_json::from_slice::<serde_json::Value>(&payload)
        .ok()
        .and_then(|v| v["clientToken"].as_str().map(str::to_string));
    if let Some(tx) = token.and_then(|t| routes.requests.remove(&t)) {
        let _ = tx.send((topic, payload));
    }
}
