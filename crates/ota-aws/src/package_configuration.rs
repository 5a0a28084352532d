//! The account's Software Package Catalog configuration: whether IoT Jobs
//! records a successful execution's package versions in the thing's
//! `$package` reserved named shadow, and the role it assumes to do so
//! (GetPackageConfiguration / UpdatePackageConfiguration,
//! `versionUpdateByJobsConfig`: IoT API reference, VersionUpdateByJobsConfig;
//! "Preparing AWS IoT Jobs", Reserved named shadow and package versions).
//!
//! The setting is account-wide (one per account and Region); the stack
//! option `PackageShadowUpdates` turns it on with the stack's own role and
//! never turns it off (functions/make-stream/src/package_shadow.rs).

use crate::sdk_error::classify;
use aws_sdk_iot::types::VersionUpdateByJobsConfig;
use ota_core::OtaError;

/// What `versionUpdateByJobsConfig` says now.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShadowUpdates {
    pub enabled: bool,
    /// The role IoT Jobs assumes to update `$package`, if one is set.
    pub role_arn: Option<String>,
}

/// GetPackageConfiguration. An account that never set it answers with no
/// `versionUpdateByJobsConfig` (or `enabled` absent): off.
pub async fn current(iot: &aws_sdk_iot::Client) -> Result<ShadowUpdates, OtaError> {
    let out = iot
        .get_package_configuration()
        .send()
        .await
        .map_err(|e| classify("GetPackageConfiguration", &e))?;
    let config = out.version_update_by_jobs_config();
    Ok(ShadowUpdates {
        enabled: config.and_then(|c| c.enabled()).unwrap_or(false),
        role_arn: config.and_then(|c| c.role_arn()).map(str::to_string),
    })
}

/// UpdatePackageConfiguration with `enabled: true` and `role_arn`. The
/// client token (36-64 non-space characters, API reference) makes a
/// redelivered request a replay rather than a second change.
pub async fn enable(
    iot: &aws_sdk_iot::Client,
    role_arn: &str,
    client_token: &str,
) -> Result<(), OtaError> {
    iot.update_package_configuration()
        .version_update_by_jobs_config(
            VersionUpdateByJobsConfig::builder()
                .enabled(true)
                .role_arn(role_arn)
                .build(),
        )
        .client_token(client_token)
        .send()
        .await
        .map_err(|e| classify("UpdatePackageConfiguration", &e))?;
    Ok(())
}
