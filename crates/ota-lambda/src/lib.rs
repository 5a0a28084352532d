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
    let _ = tracing::subscriber::set_global_default(json_logs(&level, std::io::stdout));
}

/// The functions' log format, writing to `writer`: one JSON object per line,
/// the event's own fields under `fields` and every enclosing span's fields
/// (bucket, key, version, execution and job ids) under `spans`. Handler tests
/// capture exactly this format.
pub fn json_logs<W>(level: &str, writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .with_writer(writer)
        .finish()
}

/// The span a step after start-signing logs in, so every line names the
/// object, its version, the run and the job, and the signing job and stream
/// once they exist (`stream_id` can be recorded later).
pub fn step_span(step: &'static str, s: &ota_core::PipelineState) -> tracing::Span {
    tracing::info_span!(
        "step",
        step,
        bucket = %s.source.bucket,
        key = %s.source.key,
        version_id = %s.source.version_id,
        execution_id = %s.execution_id,
        job_id = %s.request.job_id,
        signing_job_id = s.signing.job_id.as_deref(),
        stream_id = s.stream.as_ref().map(|x| x.stream_id.as_str())
    )
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

/// What a function's input says about the run: the runner calls the
/// handler, and logs its failure, in this span, so the error line names the
/// object, its version and the run too.
pub trait RunSpan {
    fn run_span(&self) -> tracing::Span;
}

impl RunSpan for ota_core::PipelineState {
    fn run_span(&self) -> tracing::Span {
        step_span("run", self)
    }
}

impl RunSpan for ota_core::event::StartSigningInput {
    fn run_span(&self) -> tracing::Span {
        let d = &self.event.detail;
        tracing::info_span!(
            "step",
            step = "run",
            bucket = %d.bucket.name,
            key = %d.object.key,
            version_id = d.object.version_id.as_deref(),
            execution_id = %self.execution_id
        )
    }
}

/// Runs a handler as the Lambda function: deserialize the event, call the
/// handler, log and map its error.
pub async fn run<I, O, F, Fut>(handler: F) -> Result<(), lambda_runtime::Error>
where
    I: DeserializeOwned + RunSpan + Send + 'static,
    O: Serialize + Send + 'static,
    F: Fn(I) -> Fut,
    Fut: Future<Output = Result<O, OtaError>> + Send,
{
    lambda_runtime::run(service_fn(|event: LambdaEvent<I>| {
        invoke(event.payload, event.context.request_id.clone(), &handler)
    }))
    .await
}

/// One invocation: the handler in the input's span, a failure logged there
/// with its errorType and mapped to the Lambda error.
pub fn invoke<I, O, Fut>(
    payload: I,
    request_id: String,
    handler: impl FnOnce(I) -> Fut,
) -> impl Future<Output = Result<O, FunctionError>>
where
    I: RunSpan,
    Fut: Future<Output = Result<O, OtaError>>,
{
    use tracing::Instrument;
    let span = payload.run_span();
    let fut = handler(payload);
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
    .instrument(span)
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

    /// Log lines captured in the functions' own JSON format (INFO, as
    /// deployed): the raw text, and per line its event fields merged with
    /// the fields of every span it is in.
    pub struct Logs {
        pub raw: String,
        pub lines: Vec<serde_json::Map<String, serde_json::Value>>,
    }

    impl Logs {
        /// Every line carries `field`, with `value`.
        pub fn assert_every_line_has(&self, field: &str, value: &str) {
            assert!(!self.lines.is_empty(), "nothing was logged");
            for l in &self.lines {
                assert_eq!(
                    l.get(field).and_then(|v| v.as_str()),
                    Some(value),
                    "a log line lacks {field}={value}: {l:?}"
                );
            }
        }

        /// Some line carries `field`, with `value`.
        pub fn assert_some_line_has(&self, field: &str, value: &str) {
            assert!(
                self.lines
                    .iter()
                    .any(|l| l.get(field).and_then(|v| v.as_str()) == Some(value)),
                "no log line has {field}={value}:\n{}",
                self.raw
            );
        }

        /// Every line names the object, its version, the run and the job,
        /// and the signing job when there is one.
        pub fn assert_every_line_names(&self, s: &ota_core::PipelineState) {
            let src = &s.source;
            self.assert_every_line_has("bucket", &src.bucket);
            self.assert_every_line_has("key", &src.key);
            self.assert_every_line_has("version_id", &src.version_id);
            self.assert_every_line_has("execution_id", &s.execution_id);
            self.assert_every_line_has("job_id", &s.request.job_id);
            if let Some(j) = &s.signing.job_id {
                self.assert_every_line_has("signing_job_id", j);
            }
        }

        /// No signature and no certificate or key material (PEM) in the logs.
        pub fn assert_no_signature_material(&self, signature: &str) {
            self.assert_never_contains(signature);
            self.assert_never_contains("-----BEGIN");
        }

        /// `secret` appears nowhere in the logs.
        pub fn assert_never_contains(&self, secret: &str) {
            assert!(!secret.is_empty());
            assert!(
                !self.raw.contains(secret),
                "the logs contain {secret:?}:\n{}",
                self.raw
            );
        }
    }

    type Buffer = std::sync::Arc<std::sync::Mutex<Vec<u8>>>;

    std::thread_local! {
        /// Where this thread's log lines go while it captures them.
        static CAPTURING: std::cell::RefCell<Option<Buffer>> = const { std::cell::RefCell::new(None) };
    }

    /// Writes to the current thread's capture buffer, if any.
    struct ThisThread;

    impl std::io::Write for ThisThread {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            CAPTURING.with(|c| {
                if let Some(b) = &*c.borrow() {
                    if let Ok(mut b) = b.lock() {
                        b.extend_from_slice(buf);
                    }
                }
            });
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'w> tracing_subscriber::fmt::MakeWriter<'w> for ThisThread {
        type Writer = ThisThread;
        fn make_writer(&'w self) -> ThisThread {
            ThisThread
        }
    }

    /// Runs the future `start` makes (on the current thread, as
    /// `#[tokio::test]` does) and captures what it logs; `start` runs once
    /// the subscriber is in place, so spans it creates are recorded. One
    /// global subscriber, not a scoped one per test: tracing caches each call
    /// site's interest process-wide, and scoped subscribers coming and going
    /// in parallel tests lose lines.
    pub async fn capture_logs<F: std::future::Future>(
        start: impl FnOnce() -> F,
    ) -> (F::Output, Logs) {
        static GLOBAL: std::sync::Once = std::sync::Once::new();
        GLOBAL.call_once(|| {
            let _ = tracing::subscriber::set_global_default(crate::json_logs("info", ThisThread));
        });
        let buffer = Buffer::default();
        CAPTURING.with(|c| *c.borrow_mut() = Some(buffer.clone()));
        let out = start().await;
        CAPTURING.with(|c| *c.borrow_mut() = None);
        let raw = String::from_utf8(buffer.lock().map(|b| b.clone()).unwrap_or_default())
            .expect("logs are UTF-8");
        let lines = raw
            .lines()
            .map(|l| {
                let v: serde_json::Value =
                    serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
                let mut merged = serde_json::Map::new();
                for span in v["spans"].as_array().into_iter().flatten() {
                    merged.extend(span.as_object().cloned().unwrap_or_default());
                }
                merged.extend(v["fields"].as_object().cloned().unwrap_or_default());
                merged
            })
            .collect();
        (out, Logs { raw, lines })
    }

    /// A file under the workspace's `events/` folder.
    pub fn event(name: &str) -> String {
        let path = format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }
}
