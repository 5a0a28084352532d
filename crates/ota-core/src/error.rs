//! The pipeline's error taxonomy.
//!
//! Every error leaves a Lambda function as an error whose `errorType` is one of
//! the stable names below; the state machine's Retry and Catch match on them,
//! so renaming one is a breaking change (a test checks the ASL against this
//! list).

use std::fmt;

/// One problem with a request, naming the tag or manifest field it comes from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Problem {
    /// Where the bad value came from: `ota:retry`, `manifest.timeoutConfig`,
    /// `DefaultTargets` (a stack parameter).
    pub field: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl Problem {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Every problem found in a request, all at once.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem::new(field, message));
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn iter(&self) -> impl Iterator<Item = &Problem> {
        self.0.iter()
    }
    pub fn extend(&mut self, other: Problems) {
        self.0.extend(other.0);
    }
    /// `Ok(())` when there is nothing to report.
    pub fn into_result(self) -> Result<(), OtaError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(OtaError::InvalidRequest(self))
        }
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(f, "{n} problem{}: ", if n == 1 { "" } else { "s" })?;
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

/// What went wrong, by kind. The kind decides the Lambda `errorType` and
/// whether the state machine retries.
#[derive(Debug, thiserror::Error)]
pub enum OtaError {
    /// The upload's tags, manifest or the stack defaults are invalid.
    #[error("invalid OTA request: {0}")]
    InvalidRequest(Problems),
    /// The firmware object, its version or the manifest does not exist.
    #[error("source not found: {0}")]
    SourceNotFound(String),
    /// A role lacks a permission.
    #[error("access denied: {0}")]
    AccessDenied(String),
    /// The signer reported the job Failed.
    #[error("signing failed: {0}")]
    SigningFailed(String),
    /// The signer stayed InProgress longer than the configured limit.
    #[error("signing timed out: {0}")]
    SigningTimedOut(String),
    /// The signer's output could not be read.
    #[error("signed object invalid: {0}")]
    SignedObjectInvalid(String),
    /// A stream or job with this id exists with different content.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A resource the request names (thing group, profile, package) is missing.
    #[error("resource not found: {0}")]
    ResourceNotFound(String),
    /// An AWS quota was hit (not a rate: retrying will not help).
    #[error("limit exceeded: {0}")]
    LimitExceeded(String),
    /// An AWS rate limit: retry with backoff.
    #[error("throttled: {0}")]
    Throttled(String),
    /// A 5xx, a timeout or a connection failure: retry with backoff.
    #[error("service unavailable: {0}")]
    ServiceUnavailable(String),
    /// A bug or an answer AWS should never give.
    #[error("internal error: {0}")]
    Internal(String),
}

impl OtaError {
    /// Every stable errorType name, for tests that check the ASL against it.
    pub const ERROR_TYPES: [&'static str; 12] = [
        "InvalidRequest",
        "SourceNotFound",
        "AccessDenied",
        "SigningFailed",
        "SigningTimedOut",
        "SignedObjectInvalid",
        "Conflict",
        "ResourceNotFound",
        "LimitExceeded",
        "Throttled",
        "ServiceUnavailable",
        "InternalError",
    ];

    /// The Lambda errorType this error leaves the function with.
    pub fn error_type(&self) -> &'static str {
        match self {
            OtaError::InvalidRequest(_) => "InvalidRequest",
            OtaError::SourceNotFound(_) => "SourceNotFound",
            OtaError::AccessDenied(_) => "AccessDenied",
            OtaError::SigningFailed(_) => "SigningFailed",
            OtaError::SigningTimedOut(_) => "SigningTimedOut",
            OtaError::SignedObjectInvalid(_) => "SignedObjectInvalid",
            OtaError::Conflict(_) => "Conflict",
            OtaError::ResourceNotFound(_) => "ResourceNotFound",
            OtaError::LimitExceeded(_) => "LimitExceeded",
            OtaError::Throttled(_) => "Throttled",
            OtaError::ServiceUnavailable(_) => "ServiceUnavailable",
            OtaError::Internal(_) => "InternalError",
        }
    }

    /// Whether the same call may succeed when simply tried again later.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            OtaError::Throttled(_) | OtaError::ServiceUnavailable(_)
        )
    }

    /// The problems of an InvalidRequest, empty for every other kind.
    pub fn problems(&self) -> &[Problem] {
        match self {
            OtaError::InvalidRequest(p) => &p.0,
            _ => &[],
        }
    }
}

/// The single-problem InvalidRequest.
pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> OtaError {
    OtaError::InvalidRequest(Problems(vec![Problem::new(field, message)]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_listed_error_type_and_only_rates_and_outages_retry() {
        let all = [
            OtaError::InvalidRequest(Problems::default()),
            OtaError::SourceNotFound(String::new()),
            OtaError::AccessDenied(String::new()),
            OtaError::SigningFailed(String::new()),
            OtaError::SigningTimedOut(String::new()),
            OtaError::SignedObjectInvalid(String::new()),
            OtaError::Conflict(String::new()),
            OtaError::ResourceNotFound(String::new()),
            OtaError::LimitExceeded(String::new()),
            OtaError::Throttled(String::new()),
            OtaError::ServiceUnavailable(String::new()),
            OtaError::Internal(String::new()),
        ];
        let names: Vec<_> = all.iter().map(|e| e.error_type()).collect();
        assert_eq!(names, OtaError::ERROR_TYPES.to_vec());
        let retryable: Vec<_> = all
            .iter()
            .filter(|e| e.is_retryable())
            .map(|e| e.error_type())
            .collect();
        assert_eq!(retryable, ["Throttled", "ServiceUnavailable"]);
    }

    #[test]
    fn problems_display_names_each_field() {
        let mut p = Problems::default();
        p.push("ota:retry", "at most 2 criteria");
        p.push("ota:start", "not a time");
        let e = p.into_result().unwrap_err();
        assert_eq!(e.error_type(), "InvalidRequest");
        assert_eq!(
            e.to_string(),
            "invalid OTA request: 2 problems: ota:retry: at most 2 criteria; ota:start: not a time"
        );
    }
}
