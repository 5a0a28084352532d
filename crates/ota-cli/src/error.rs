//! What can go wrong, and the exit code each kind gives.

use ota_core::error::Problems;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The request (flags, tags, manifest) breaks a rule; nothing was uploaded.
    #[error("invalid request: {0}")]
    Invalid(Problems),
    /// A flag or file the command itself cannot use.
    #[error("{0}")]
    Usage(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    /// An AWS call failed (credentials, permissions, network, throttling that
    /// outlasted the SDK's retries).
    #[error("{operation}: {message}")]
    Aws {
        operation: &'static str,
        message: String,
    },
    /// The request is understood but not done in the state things are in
    /// (a job that is not the pipeline's, one still running without
    /// --force); nothing was changed.
    #[error("{0}")]
    Refused(String),
    /// What the user asked about does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The pipeline ran and failed; `error` is the stable errorType.
    #[error("the pipeline failed: {error}: {cause} (execution {execution_arn})")]
    PipelineFailed {
        error: String,
        cause: String,
        execution_arn: String,
    },
    /// `ota device` took the job and reported it FAILED.
    #[error("the device reported job {job_id} FAILED: {reason}")]
    DeviceFailed { job_id: String, reason: String },
    /// The device agent could not run (nothing was reported for the job).
    #[error("{0}")]
    Device(#[from] ota_device::AgentError),
    /// Gave up waiting; what was started keeps going.
    #[error("{0}")]
    GaveUp(String),
    /// The object was uploaded, but the bucket cut no version.
    #[error("{0}")]
    NotVersioned(String),
}

impl CliError {
    /// 2: the input is wrong, nothing was uploaded (as clap's own usage
    /// errors); 3: the pipeline failed; 4: still running when `ota` stopped
    /// waiting; 1: anything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Invalid(_) | CliError::Usage(_) | CliError::Refused(_) => 2,
            CliError::PipelineFailed { .. } | CliError::DeviceFailed { .. } => 3,
            CliError::GaveUp(_) => 4,
            _ => 1,
        }
    }

    /// One readable line each, for stderr.
    pub fn lines(&self) -> Vec<String> {
        match self {
            CliError::Invalid(p) => p
                .iter()
                .map(|q| format!("{}: {}", q.field, q.message))
                .collect(),
            other => vec![other.to_string().replace('\n', " ")],
        }
    }

    /// A stable name for `--output json`.
    pub fn kind(&self) -> &'static str {
        match self {
            CliError::Invalid(_) => "InvalidRequest",
            CliError::Usage(_) => "Usage",
            CliError::Io { .. } => "Io",
            CliError::Aws { .. } => "Aws",
            CliError::Refused(_) => "Refused",
            CliError::NotFound(_) => "NotFound",
            CliError::PipelineFailed { .. } => "PipelineFailed",
            CliError::DeviceFailed { .. } => "DeviceReportedFailed",
            CliError::Device(_) => "DeviceAgent",
            CliError::GaveUp(_) => "GaveUp",
            CliError::NotVersioned(_) => "BucketNotVersioned",
        }
    }
}

/// What start-signing's checks decide: a request problem is invalid input;
/// anything else (an AWS call failing) keeps the pipeline's errorType.
impl From<ota_core::OtaError> for CliError {
    fn from(e: ota_core::OtaError) -> Self {
        match e {
            ota_core::OtaError::InvalidRequest(p) => CliError::Invalid(p),
            other => CliError::Aws {
                operation: other.error_type(),
                message: other.to_string(),
            },
        }
    }
}

/// An SDK error as one line, with the service's code and message.
pub fn aws<E, R>(operation: &'static str) -> impl Fn(aws_sdk_s3::error::SdkError<E, R>) -> CliError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    move |e| CliError::Aws {
        operation,
        message: aws_smithy_types::error::display::DisplayErrorContext(&e)
            .to_string()
            .replace('\n', " "),
    }
}
