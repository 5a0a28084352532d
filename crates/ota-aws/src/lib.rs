//! What the Lambda functions and the `ota` command both do against AWS, so
//! each rule that needs an SDK call is written once:
//!
//! - [`device_log`]: device findings as warning lines;
//! - [`job_resources`]: a job's stream and signed object, found by its
//!   tags and removed when no other job uses them;
//! - [`manifest`]: read the manifest an upload names;
//! - [`package_catalog`]: the package version an upload registers as
//!   (draft, publish, default); [`package_draft`]: Clean Up's removal of
//!   the draft a failed run made; [`package_configuration`]: the
//!   account's `$package` shadow setting (the `PackageShadowUpdates` option);
//! - [`preflight`]: the signing profile and document checks made before
//!   anything is signed (start-signing) or uploaded (`ota upload`);
//! - [`signer`]: the signer look (DescribeSigningJob, judged);
//! - [`stream`]: the IoT stream, made, confirmed around CreateJob and
//!   restored when a duplicate run's Clean Up removed it;
//! - [`sdk_error`]: SDK errors into ota-core's kinds, "not found means
//!   None", collecting a paginator.
//!
//! ota-core holds the pure rules these apply; ota-lambda holds what only a
//! Lambda function needs (runner, errorType mapping, JSON logs).

pub mod device_log;
pub mod job_resources;
pub mod manifest;
pub mod package_catalog;
pub mod package_configuration;
pub mod package_draft;
pub mod preflight;
pub mod sdk_error;
pub mod signer;
pub mod stream;
#[cfg(feature = "test-support")]
pub mod test_support;

pub use manifest::read_named_manifest;
pub use preflight::{check_signing, Preflight};
pub use sdk_error::{classify, classify_not_found, collect_all, found, is_not_found, HttpStatus};
