//! The CloudFormation custom resource protocol, as far as this stack uses it
//! (CloudFormation User Guide, "Custom resources": request and response
//! objects). CloudFormation invokes the function with a request naming a
//! presigned `ResponseURL` and waits, up to the resource's `ServiceTimeout`,
//! for a JSON PUT there saying SUCCESS or FAILED; the Lambda invocation's
//! own result is ignored. So every request is answered, a failure included,
//! or the stack operation hangs until the timeout.
//!
//! The PUT goes through hyper (already linked for the AWS SDK's HTTPS
//! client) with rustls on aws-lc-rs and the system's roots, as the SDK's own
//! client is built; no crate speaks this protocol for Rust Lambda functions
//! with a current hyper.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;
use std::time::Duration;

/// CloudFormation's limit on a response object, in bytes.
pub const MAX_RESPONSE_BYTES: usize = 4096;
/// How long one PUT may take before the invocation gives up on it.
pub const PUT_TIMEOUT: Duration = Duration::from_secs(30);
/// How much of a refusal's body is kept for the error.
const REFUSAL_BYTES: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum RequestType {
    Create,
    Update,
    Delete,
    /// Anything else: still read, so that it is answered FAILED.
    #[serde(other)]
    Unknown,
}

/// A custom resource request. Only `RequestType` and `ResponseURL` are
/// required to deserialize, and any `RequestType` or `ResourceProperties`
/// value reads, so a request that carries a ResponseURL is always answered
/// (FAILED, saying what is wrong) instead of left to time out.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomResourceRequest {
    pub request_type: RequestType,
    #[serde(rename = "ResponseURL")]
    pub response_url: String,
    #[serde(default)]
    pub stack_id: String,
    #[serde(default)]
    pub request_id: String,
    #[serde(default)]
    pub logical_resource_id: String,
    #[serde(default)]
    pub physical_resource_id: Option<String>,
    #[serde(default)]
    pub resource_properties: serde_json::Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Success,
    Failed,
}

/// The response object PUT to the ResponseURL.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomResourceResponse {
    pub status: Status,
    pub reason: String,
    pub physical_resource_id: String,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
    pub data: serde_json::Map<String, serde_json::Value>,
}

impl CustomResourceResponse {
    /// The answer to `request`, echoing the ids CloudFormation matches it by.
    pub fn to(
        request: &CustomResourceRequest,
        status: Status,
        reason: String,
        physical_resource_id: &str,
        data: serde_json::Map<String, serde_json::Value>,
    ) -> Self {
        CustomResourceResponse {
            status,
            reason,
            physical_resource_id: physical_resource_id.to_string(),
            stack_id: request.stack_id.clone(),
            request_id: request.request_id.clone(),
            logical_resource_id: request.logical_resource_id.clone(),
            data,
        }
    }

    /// The JSON body, within CloudFormation's 4096 bytes: a long reason is
    /// cut (at a character boundary) and says where the rest is.
    pub fn body(&self) -> Result<Vec<u8>, serde_json::Error> {
        const MORE: &str = " ... (the rest is in the function's log)";
        let mut body = serde_json::to_vec(self)?;
        let mut keep = self.reason.len();
        let mut short = self.clone();
        // Escaping can make the encoded reason longer than the text: cut
        // again until it fits.
        while body.len() > MAX_RESPONSE_BYTES && keep > 0 {
            keep = keep.saturating_sub(body.len() - MAX_RESPONSE_BYTES + MORE.len());
            while !self.reason.is_char_boundary(keep) {
                keep -= 1;
            }
            short.reason = format!("{}{MORE}", &self.reason[..keep]);
            body = serde_json::to_vec(&short)?;
        }
        Ok(body)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ResponseError {
    #[error("could not build the HTTPS client: {0}")]
    Client(std::io::Error),
    #[error("could not encode the response: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("bad ResponseURL: {0}")]
    Url(String),
    #[error("could not build the PUT: {0}")]
    Request(String),
    #[error("PUT to the ResponseURL failed: {0}")]
    Send(String),
    #[error("PUT to the ResponseURL took over {} s", PUT_TIMEOUT.as_secs())]
    TimedOut,
    #[error("the ResponseURL answered HTTP {status}: {body}")]
    Refused { status: u16, body: String },
}

type HttpsClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// PUTs responses. The HTTPS client (and the system's root certificates)
/// is built on first use, once per cold start: the function's other modes
/// never need it.
#[derive(Default)]
pub struct Responder {
    client: OnceLock<HttpsClient>,
}

impl Responder {
    fn client(&self) -> Result<&HttpsClient, ResponseError> {
        if let Some(c) = self.client.get() {
            return Ok(c);
        }
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        // https_or_http: CloudFormation's ResponseURL is an HTTPS presigned
        // S3 URL; the local emulator's is plain HTTP on loopback.
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider)
            .map_err(ResponseError::Client)?
            .https_or_http()
            .enable_http1()
            .build();
        let client = Client::builder(TokioExecutor::new()).build(https);
        Ok(self.client.get_or_init(|| client))
    }

    /// PUT `response` to `url`. The presigned URL signs no content type, so
    /// none is sent (as AWS's own cfn-response module does).
    pub async fn send(
        &self,
        url: &str,
        response: &CustomResourceResponse,
    ) -> Result<(), ResponseError> {
        let uri = response_uri(url)?;
        let body = response.body()?;
        let request = hyper::Request::put(uri)
            .header(hyper::header::CONTENT_LENGTH, body.len())
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| ResponseError::Request(e.to_string()))?;
        let client = self.client()?;
        let answer = tokio::time::timeout(PUT_TIMEOUT, client.request(request))
            .await
            .map_err(|_| ResponseError::TimedOut)?
            .map_err(|e| ResponseError::Send(e.to_string()))?;
        let status = answer.status();
        if status.is_success() {
            return Ok(());
        }
        let body = Limited::new(answer.into_body(), REFUSAL_BYTES)
            .collect()
            .await
            .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
            .unwrap_or_default();
        Err(ResponseError::Refused {
            status: status.as_u16(),
            body,
        })
    }
}

/// The ResponseURL as a URI: HTTPS (CloudFormation's presigned S3 URL), or
/// plain HTTP to a loopback host only (the local emulator), so that the
/// answer, which names the stack and its role, never crosses a network in
/// the clear.
fn response_uri(url: &str) -> Result<hyper::Uri, ResponseError> {
    let uri: hyper::Uri = url
        .parse()
        .map_err(|e| ResponseError::Url(format!("{e}")))?;
    let loopback = matches!(uri.host(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match uri.scheme_str() {
        Some("https") => Ok(uri),
        Some("http") if loopback => Ok(uri),
        _ => Err(ResponseError::Url(format!(
            "'{url}' is neither HTTPS nor plain HTTP to this machine"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(json: serde_json::Value) -> CustomResourceRequest {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_request_with_only_its_type_and_url_still_reads_so_it_can_be_answered() {
        let r = request(serde_json::json!({"RequestType": "Delete", "ResponseURL": "http://x/"}));
        assert_eq!(r.request_type, RequestType::Delete);
        assert!(r.stack_id.is_empty() && r.physical_resource_id.is_none());
        let odd = request(serde_json::json!({
            "RequestType": "Replace", "ResponseURL": "https://x/", "ResourceProperties": "text"
        }));
        assert_eq!(odd.request_type, RequestType::Unknown);
    }

    #[test]
    fn answers_go_over_https_or_to_this_machine_only() {
        for ok in [
            "https://bucket.s3.amazonaws.com/x?sig=1",
            "http://127.0.0.1:4566/x",
            "http://localhost:4566/x",
        ] {
            assert!(response_uri(ok).is_ok(), "{ok}");
        }
        for refused in ["http://bucket.s3.amazonaws.com/x", "ftp://x/", "not a url"] {
            assert!(response_uri(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn the_response_names_the_request_it_answers_in_cloudformations_field_names() {
        let r = request(serde_json::json!({
            "RequestType": "Create", "ResponseURL": "https://s3/x", "StackId": "arn:stack",
            "RequestId": "r-1", "LogicalResourceId": "Setting", "ResourceProperties": {}
        }));
        let out =
            CustomResourceResponse::to(&r, Status::Failed, "why".into(), "p", Default::default());
        let v: serde_json::Value = serde_json::from_slice(&out.body().unwrap()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"Status": "FAILED", "Reason": "why", "PhysicalResourceId": "p",
                "StackId": "arn:stack", "RequestId": "r-1", "LogicalResourceId": "Setting", "Data": {}})
        );
    }

    #[test]
    fn a_long_reason_is_cut_to_fit_cloudformations_4096_bytes() {
        let r = request(serde_json::json!({"RequestType": "Create", "ResponseURL": "u"}));
        let reason = "é".repeat(5000);
        let out = CustomResourceResponse::to(&r, Status::Failed, reason, "p", Default::default());
        let body = out.body().unwrap();
        assert!(body.len() <= MAX_RESPONSE_BYTES, "{}", body.len());
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let cut = v["Reason"].as_str().unwrap();
        assert!(cut.starts_with("éé") && cut.ends_with("(the rest is in the function's log)"));
    }
}
