//! Helpers for handler and mocked CLI tests: AWS error responses as the
//! services send them, so the SDK's real deserializers and `classify` are
//! exercised; retries without backoff; fail-then-succeed rules; the
//! workspace's `events/` files.

use aws_smithy_runtime_api::http::{Response, StatusCode};
use aws_smithy_types::body::SdkBody;

fn status(code: u16) -> StatusCode {
    StatusCode::try_from(code).unwrap_or_else(|_| panic!("bad HTTP status {code}"))
}

/// A restJson1 error (IoT, Signer): `x-amzn-errortype` header and body.
pub fn json_error(http_status: u16, code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "message": message }).to_string();
    let mut r = Response::new(status(http_status), SdkBody::from(body));
    r.headers_mut().insert("x-amzn-errortype", code.to_string());
    r.headers_mut().insert("content-type", "application/json");
    r
}

/// A restXml error (S3).
pub fn xml_error(http_status: u16, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message><RequestId>r</RequestId></Error>"
    );
    Response::new(status(http_status), SdkBody::from(body))
}

/// Retries as the functions' default SDK config does them (standard,
/// 3 attempts) but without the backoff, so tests stay fast.
pub fn fast_retries() -> aws_smithy_types::retry::RetryConfig {
    aws_smithy_types::retry::RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(std::time::Duration::ZERO)
        .with_max_backoff(std::time::Duration::ZERO)
}

/// The answer to `op`: `ok` at once, or, when `op` is the `flaky` call,
/// one attempt with each of `failures` (throttling, 5xx...) and then `ok`
/// once: the call succeeds only if the SDK retries, and a second
/// successful call would find no rule.
pub fn answer<I, O, E>(
    flaky: &str,
    op: &str,
    rule: aws_smithy_mocks::RuleBuilder<I, O, E>,
    failures: &[fn() -> Response],
    ok: impl Fn() -> O + Send + Sync + 'static,
) -> aws_smithy_mocks::Rule
where
    I: std::fmt::Debug + Send + Sync + 'static,
    O: std::fmt::Debug + Send + Sync + 'static,
    E: std::fmt::Debug + Send + Sync + std::error::Error + 'static,
{
    if flaky == op {
        let mut seq = rule.sequence();
        for f in failures {
            seq = seq.http_response(*f);
        }
        seq.output(ok).build()
    } else {
        rule.then_output(ok)
    }
}

fn s3_slow_down() -> Response {
    xml_error(503, "SlowDown", "Please reduce your request rate.")
}
fn s3_internal_error() -> Response {
    xml_error(500, "InternalError", "We encountered an internal error.")
}
fn json_throttled() -> Response {
    json_error(429, "ThrottlingException", "Rate exceeded")
}
fn json_unavailable() -> Response {
    json_error(503, "ServiceUnavailableException", "Service unavailable")
}

/// S3 throttling, then a 5xx.
pub const S3_TRANSIENT: &[fn() -> Response] = &[s3_slow_down, s3_internal_error];
/// Throttling, then a 5xx, from a restJson1 service (IoT, Signer).
pub const JSON_TRANSIENT: &[fn() -> Response] = &[json_throttled, json_unavailable];

/// A file under the workspace's `events/` folder.
pub fn event(name: &str) -> String {
    let path = format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}
