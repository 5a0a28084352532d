//! What only the Lambda functions need: JSON logs and the step span
//! ([`logs`]), the SDK config and settings from the environment ([`env`]),
//! and the runner that maps an `OtaError` to a Lambda error with a stable
//! errorType ([`runner`]). What the functions share with the `ota` command
//! (SDK error classification, preflight checks, the signer look) is in
//! ota-aws.

pub mod env;
pub mod logs;
pub mod runner;
#[cfg(feature = "test-support")]
pub mod test_support;

pub use env::{env_or_empty, env_var, now, sdk_config, SdkConfig};
pub use logs::{init_tracing, json_logs, step_span};
pub use runner::{invoke, invoke_json, run, FunctionError, RunSpan};
