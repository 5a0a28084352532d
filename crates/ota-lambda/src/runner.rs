//! The runner: deserialize the event, call the handler in the input's span,
//! and turn an `OtaError` into a Lambda error whose errorType is the stable
//! name the state machine's Retry and Catch match.

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use ota_core::OtaError;
use serde::{de::DeserializeOwned, Serialize};
use std::future::Future;

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
        crate::logs::step_span("run", self)
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

impl RunSpan for ota_core::state::FileSigningRun {
    fn run_span(&self) -> tracing::Span {
        tracing::info_span!(
            "step",
            step = "run",
            bucket = %self.source.bucket,
            key = %self.file.key,
            version_id = %self.file.version_id,
            release_key = %self.source.key,
            execution_id = %self.execution_id
        )
    }
}

impl RunSpan for ota_core::event::StartSigningRequest {
    fn run_span(&self) -> tracing::Span {
        match self {
            ota_core::event::StartSigningRequest::SignFile { sign_file } => sign_file.run_span(),
            ota_core::event::StartSigningRequest::Upload(u) => u.run_span(),
        }
    }
}

/// Runs a handler as the Lambda function: deserialize the event, call the
/// handler, log and map its error.
///
/// The payload reaches the runner as JSON and is deserialized here, and a
/// panic is caught here: left to lambda_runtime, both would leave with a Rust
/// type name as errorType, which neither the state machine's Retry/Catch nor
/// the README's error table knows. Here they are InvalidRequest and
/// InternalError.
pub async fn run<I, O, F, Fut>(handler: F) -> Result<(), lambda_runtime::Error>
where
    I: DeserializeOwned + RunSpan + Send + 'static,
    O: Serialize + Send + 'static,
    F: Fn(I) -> Fut,
    Fut: Future<Output = Result<O, OtaError>> + Send,
{
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        invoke_json(event.payload, event.context.request_id.clone(), &handler)
    }))
    .await
}

/// One invocation from the raw payload: input that does not deserialize into
/// the function's input type is InvalidRequest (logged, the handler is not
/// called); otherwise [`invoke`].
pub async fn invoke_json<I, O, Fut>(
    payload: serde_json::Value,
    request_id: String,
    handler: impl FnOnce(I) -> Fut,
) -> Result<O, FunctionError>
where
    I: DeserializeOwned + RunSpan,
    Fut: Future<Output = Result<O, OtaError>>,
{
    let input: I = match serde_json::from_value(payload) {
        Ok(input) => input,
        Err(e) => {
            let e = ota_core::error::invalid(
                "input",
                format!("the function's input is not what the state machine sends: {e}"),
            );
            log_failure(&request_id, &e);
            return Err(FunctionError(e));
        }
    };
    invoke(input, request_id, handler).await
}

/// One invocation: the handler in the input's span, a failure logged there
/// with its errorType and mapped to the Lambda error; a panic is an
/// InternalError.
pub fn invoke<I, O, Fut>(
    payload: I,
    request_id: String,
    handler: impl FnOnce(I) -> Fut,
) -> impl Future<Output = Result<O, FunctionError>>
where
    I: RunSpan,
    Fut: Future<Output = Result<O, OtaError>>,
{
    use futures_util::FutureExt;
    use std::panic::AssertUnwindSafe;
    use tracing::Instrument;
    let span = payload.run_span();
    // Boxed: the handlers' nested futures inline in the runtime's would give
    // a type layout deeper than rustc's default query depth.
    let fut = std::panic::catch_unwind(AssertUnwindSafe(|| handler(payload)))
        .map(|fut| AssertUnwindSafe(Box::pin(fut)).catch_unwind());
    async move {
        let outcome = match fut {
            Ok(fut) => fut.await.unwrap_or_else(|panic| Err(panicked(&*panic))),
            Err(panic) => Err(panicked(&*panic)),
        };
        outcome.map_err(|e| {
            log_failure(&request_id, &e);
            FunctionError(e)
        })
    }
    .instrument(span)
}

/// A panic's message as an InternalError.
fn panicked(panic: &(dyn std::any::Any + Send)) -> OtaError {
    let message = panic
        .downcast_ref::<&str>()
        .map(|m| m.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into());
    OtaError::Internal(format!("the function panicked: {message}"))
}

fn log_failure(request_id: &str, e: &OtaError) {
    tracing::error!(
        request_id = %request_id,
        error_type = e.error_type(),
        retryable = e.is_retryable(),
        error = %e,
        "request failed"
    );
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

    /// A test input: any JSON object with a `name`.
    #[derive(Debug, serde::Deserialize)]
    struct Named {
        #[allow(dead_code)]
        name: String,
    }

    impl RunSpan for Named {
        fn run_span(&self) -> tracing::Span {
            tracing::info_span!("step", step = "run")
        }
    }

    #[tokio::test]
    async fn input_that_does_not_deserialize_is_invalid_request_and_the_handler_is_not_called() {
        let called = std::cell::Cell::new(false);
        let r: Result<(), _> =
            invoke_json(serde_json::json!({"nom": 1}), "r".into(), |_: Named| {
                called.set(true);
                async { Ok(()) }
            })
            .await;
        let d: Diagnostic = r.unwrap_err().into();
        assert_eq!(d.error_type, "InvalidRequest");
        assert!(
            d.error_message.contains("missing field `name`"),
            "{}",
            d.error_message
        );
        assert!(!called.get());
    }

    #[tokio::test]
    async fn a_panicking_handler_is_an_internal_error() {
        let r: Result<(), _> = invoke_json(
            serde_json::json!({"name": "x"}),
            "r".into(),
            |_: Named| async {
                if true {
                    panic!("boom at step 3");
                }
                Ok(())
            },
        )
        .await;
        let d: Diagnostic = r.unwrap_err().into();
        assert_eq!(d.error_type, "InternalError");
        assert!(
            d.error_message
                .contains("the function panicked: boom at step 3"),
            "{}",
            d.error_message
        );
        // Before its future: a handler that panics when called.
        let r: Result<(), _> = invoke(
            Named { name: "x".into() },
            "r".into(),
            |_: Named| -> std::future::Ready<Result<(), OtaError>> {
                panic!("{}", String::from("early"))
            },
        )
        .await;
        let d: Diagnostic = r.unwrap_err().into();
        assert_eq!(d.error_type, "InternalError");
        assert!(d.error_message.contains("early"));
    }
}
