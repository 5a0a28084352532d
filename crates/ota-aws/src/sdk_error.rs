//! SDK errors into ota-core's kinds, and the small helpers every caller of
//! the SDK wants.
//!
//! Two styles, each where it fits:
//! - Where the SDK models exactly the error a caller means (IoT's
//!   `ResourceAlreadyExistsException` on CreateStream, Signer's
//!   `ResourceNotFoundException` on GetSigningProfile, S3's `NotFound` on
//!   HeadObject...), callers use the operation error's typed `is_*`
//!   predicate, usually through [`found`].
//! - What no predicate names stays a code table here: the generic throttling,
//!   access and availability codes every AWS service may answer (`SlowDown`,
//!   `RequestLimitExceeded`, `InternalError`...), and S3's not-found codes on
//!   operations whose model lists no errors at all (GetObjectTagging's
//!   `NoSuchVersion`, GetObject's `NoSuchBucket`).

use aws_smithy_async::future::pagination_stream::PaginationStream;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use ota_core::OtaError;

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
            classify_service_error(op, code, message, se.raw().status())
        }
        _ => OtaError::Internal(format!("{op}: {detail}")),
    }
}

/// A service's answer, by its error code and HTTP status.
fn classify_service_error(op: &str, code: &str, message: &str, status: u16) -> OtaError {
    let text = format!("{op}: {code} (HTTP {status}): {message}");
    if THROTTLING_CODES.contains(&code) || status == 429 {
        OtaError::Throttled(text)
    } else if ACCESS_CODES.contains(&code) || status == 403 {
        OtaError::AccessDenied(text)
    } else if UNAVAILABLE_CODES.contains(&code) || status >= 500 {
        OtaError::ServiceUnavailable(text)
    } else if code == "LimitExceededException" || code == "ServiceQuotaExceededException" {
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

/// Like [`classify`], but a "not found" (by S3's codes or a 404) means what
/// the caller says it means (the firmware version is gone, the signed object
/// is missing...). For calls whose model has no not-found error.
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

/// Whether the error is a 404-like "not found", by code or status: for
/// operations whose model lists no such error (S3's GetObjectTagging, a
/// missing version or bucket on GetObject).
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

/// "Not found means None": the call's output, `None` when the service
/// answered with the modeled error `missing` recognises (an operation
/// error's typed predicate, e.g. `GetSigningProfileError::is_resource_not_found_exception`),
/// and any other error as it came.
pub fn found<T, E, R>(
    result: Result<T, SdkError<E, R>>,
    missing: impl FnOnce(&E) -> bool,
) -> Result<Option<T>, SdkError<E, R>> {
    match result {
        Ok(out) => Ok(Some(out)),
        Err(e) if e.as_service_error().is_some_and(missing) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Every item (or page) a paginator yields, or its first error.
pub async fn collect_all<T, E>(stream: PaginationStream<Result<T, E>>) -> Result<Vec<T>, E> {
    stream.collect::<Result<Vec<T>, E>>().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generic_codes_and_statuses_pick_the_kind() {
        let kind = |code, status| classify_service_error("Op", code, "m", status).error_type();
        assert_eq!(kind("SlowDown", 503), "Throttled");
        assert_eq!(kind("RequestLimitExceeded", 400), "Throttled");
        assert_eq!(kind("", 429), "Throttled");
        assert_eq!(kind("AccessDenied", 403), "AccessDenied");
        assert_eq!(kind("InternalError", 500), "ServiceUnavailable");
        assert_eq!(kind("LimitExceededException", 410), "LimitExceeded");
        // The Software Package Catalog's quota error (CreatePackageVersion).
        assert_eq!(kind("ServiceQuotaExceededException", 402), "LimitExceeded");
        assert_eq!(kind("NoSuchVersion", 404), "ResourceNotFound");
        assert_eq!(kind("ResourceAlreadyExistsException", 409), "Conflict");
        assert_eq!(kind("ValidationException", 400), "InvalidRequest");
        assert_eq!(kind("SomethingNew", 302), "InternalError");
    }
}
