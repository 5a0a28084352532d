//! What a function reads from its environment once per cold start: the SDK
//! config, its settings, the clock.

pub use aws_config::SdkConfig;

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

/// The current time; functions take a clock so tests can fix it.
pub fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}
