//! What the four Lambda functions share: JSON tracing, the SDK config (built
//! once per cold start; `AWS_ENDPOINT_URL` is honoured, which is how the local
//! emulator is reached), SDK error classification into ota-core's kinds, and
//! the runner that turns an `OtaError` into a Lambda error whose errorType is
//! the stable name the state machine matches.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use ota_core::OtaError;
use serde::{de::DeserializeOwned, Serialize};
use std::future::Future;

pub use aws_config::SdkConfig;

/// JSON logs (the template sets LogFormat JSON), level from `RUST_LOG` or
/// `AWS_LAMBDA_LOG_LEVEL`, INFO by default.
pub fn init_tracing() {
    let level = std::env::var("RUST_LOG")
        .or_else(|_| std::env::var("AWS_LAMBDA_LOG_LEVEL"))
        .unwrap_or_else(|_| "info".into())
        .to_lowercase();
    let filter = tracing_subscriber::EnvFilter::try_new(&level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .init();
}

/// The SDK config, from the Lambda environment.
pub async fn sdk_config() -> SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// A required environment variable, or an error naming it.
pub fn env_var(name: &str) -> Result<String, lambda_runtime::Error> {
    std::env::var(name).map_err(|_| format!("environment variable {name} is not set").into())
}

/// An optional environment variable, empty when unset.
pub fn env_or_empty(name: &str) -> String {
    std::env::var(name).unwrap_or_default()
}

/// The error a function returns: its errorType is the stable name.
#[derive(Debug)]
pub struct FunctionError(pub OtaError);

impl From<OtaError> for FunctionError {
    fn from(e: OtaError) -> Self {
        FunctionError(e)
    }
}

impl From<FunctionError> for Diagnostic {
    fn from(e: FunctionError) -> Self {
        Diagnostic {
            error_type: e.0.error_type().to_string(),
            error_message: e.0.to_string(),
        }
    }
}

/// Runs a handler as the Lambda function: deserialize the event, call the
/// handler, log and map its error.
pub async fn run<I, O, F, Fut>(handler: F) -> Result<(), lambda_runtime::Error>
where
    I: DeserializeOwned + Send + 'static,
    O: Serialize + Send + 'static,
    F: Fn(I) -> Fut,
    Fut: Future<Output = Result<O, OtaError>> + Send,
{
    lambda_runtime::run(service_fn(|event: LambdaEvent<I>| {
        let request_id = event.context.request_id.clone();
        let fut = handler(event.payload);
        async move {
            fut.await.map_err(|e| {
                tracing::error!(
                    request_id = %request_id,
                    error_type = e.error_type(),
                    retryable = e.is_retryable(),
                    error = %e,
                    "request failed"
                );
                FunctionError(e)
            })
        }
    }))
    .await
}

/// Error codes AWS services use for rate limiting.
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
    "PriorRequestNotComplete",
];
const ACCESS_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedException",
    "Forbidden",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
];
const UNAVAILABLE_CODES: &[&str] = &[
    "InternalFailureException",
    "InternalFailure",
    "InternalException",
    "InternalServerException",
    "InternalServiceErrorException",
    "InternalError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
];
const NOT_FOUND_CODES: &[&str] = &[
    "ResourceNotFoundException",
    "NoSuchKey",
    "NoSuchVersion",
    "NoSuchBucket",
    "NotFound",
];
const INVALID_CODES: &[&str] = &[
    "InvalidRequestException",
    "ValidationException",
    "BadRequestException",
    "InvalidArgument",
];

/// Classifies any SDK error. `op` names the call, for the message. Callers
/// match the modeled errors that mean something specific to them (already
/// exists, a missing source object) before falling back to this.
pub fn classify<E, R>(op: &str, err: &SdkError<E, R>) -> OtaError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + HttpStatus,
{
    let detail = DisplayErrorContext(err).to_string();
    match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            OtaError::ServiceUnavailable(format!("{op}: {detail}"))
        }
        SdkError::ServiceError(se) => {
            let code = se.err().code().unwrap_or("");
            let message = se.err().message().unwrap_or("");
            let status = se.raw().status();
            let text = format!("{op}: {code} (HTTP {status}): {message}");
            if THROTTLING_CODES.contains(&code) || status == 429 {
                OtaError::Throttled(text)
            } else if ACCESS_CODES.contains(&code) || status == 403 {
                OtaError::AccessDenied(text)
            } else if UNAVAILABLE_CODES.contains(&code) || status >= 500 {
                OtaError::ServiceUnavailable(text)
            } else if code == "LimitExceededException" {
                OtaError::LimitExceeded(text)
            } else if NOT_FOUND_CODES.contains(&code) || status == 404 {
                OtaError::ResourceNotFound(text)
            } else if code == "ResourceAlreadyExistsException"
                || code == "ConflictException"
                || status == 409
            {
                OtaError::Conflict(text)
            } else if INVALID_CODES.contains(&code) || (400..500).contains(&status) {
                OtaError::InvalidRequest(ota_core::Problems(vec![ota_core::Problem::new(
                    op,
                    format!("AWS rejected the request: {code}: {message}"),
                )]))
            } else {
                OtaError::Internal(text)
            }
        }
        _ => OtaError::Internal(format!("{op}: {detail}")),
    }
}

/// Like `classify`, but a "not found" means what the caller says it means
/// (the firmware version is gone, the signed object is missing...).
pub fn classify_not_found<E, R>(
    op: &str,
    err: &SdkError<E, R>,
    not_found: impl FnOnce() -> OtaError,
) -> OtaError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + HttpStatus,
{
    if is_not_found(err) {
        not_found()
    } else {
        classify(op, err)
    }
}

/// The HTTP status of a raw response, so `classify` works for any SDK.
pub trait HttpStatus {
    fn status(&self) -> u16;
}

impl HttpStatus for aws_smithy_runtime_api::http::Response {
    fn status(&self) -> u16 {
        self.status().as_u16()
    }
}

/// Whether the error is a 404-like "not found".
pub fn is_not_found<E, R>(err: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata,
    R: HttpStatus,
{
    match err {
        SdkError::ServiceError(se) => {
            NOT_FOUND_CODES.contains(&se.err().code().unwrap_or("")) || se.raw().status() == 404
        }
        _ => false,
    }
}

/// Whether the error is "already exists".
pub fn is_already_exists<E, R>(err: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata,
    R: HttpStatus,
{
    match err {
        SdkError::ServiceError(se) => se.err().code() == Some("ResourceAlreadyExistsException"),
        _ => false,
    }
}

/// The current time; functions take a clock so tests can fix it.
pub fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostic_carries_the_stable_name() {
        let d: Diagnostic = FunctionError(OtaError::Throttled("x".into())).into();
        assert_eq!(d.error_type, "Throttled");
        assert_eq!(d.error_message, "throttled: x");
    }
}

/// Helpers for handler tests: AWS error responses as the services send them,
/// so the SDK's real deserializers and `classify` are exercised.
#[cfg(feature = "test-support")]
pub mod test_support {
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

    /// A file under the workspace's `events/` folder.
    pub fn event(name: &str) -> String {
        let path = format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }
}
