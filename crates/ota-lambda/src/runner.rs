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
