//! Clean Up's side of `ota:register-package`: the draft a failed run made
//! for its object version is deleted (a draft is deletable, "Preparing to
//! use Software Package Catalog", Package version lifecycle); a published
//! version, or a draft made for another upload, is never deleted by the
//! pipeline. Apart from ota_aws::package_catalog so that Clean Up's role
//! holds only GetPackageVersion and DeletePackageVersion.

use crate::sdk_error::{classify, found};
use aws_sdk_iot::types::PackageVersionStatus;
use ota_core::package_version::{PackageRegistration, ATTR_S3_KEY, ATTR_S3_VERSION_ID};
use ota_core::OtaError;
use tracing::info;

/// What Clean Up did with the run's package version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftCleanUp {
    /// A draft made for this object version, deleted.
    Deleted,
    /// No such version, or one this run did not make (another upload's,
    /// or published: never deleted by the pipeline).
    Kept,
}

/// Clean Up: the draft this object version's run made is deleted; a
/// published version, or another upload's draft, is kept.
pub async fn delete_own_draft(
    iot: &aws_sdk_iot::Client,
    reg: &PackageRegistration,
    key: &str,
    version_id: &str,
) -> Result<DraftCleanUp, OtaError> {
    let got = found(
        iot.get_package_version()
            .package_name(&reg.package_name)
            .version_name(&reg.version_name)
            .send()
            .await,
        |e| e.is_resource_not_found_exception(),
    )
    .map_err(|e| classify("GetPackageVersion", &e))?;
    let Some(got) = got else {
        return Ok(DraftCleanUp::Kept);
    };
    let attrs = got.attributes();
    let ours = attrs.and_then(|a| a.get(ATTR_S3_KEY)).map(String::as_str) == Some(key)
        && attrs
            .and_then(|a| a.get(ATTR_S3_VERSION_ID))
            .map(String::as_str)
            == Some(version_id);
    if got.status() != Some(&PackageVersionStatus::Draft) || !ours {
        return Ok(DraftCleanUp::Kept);
    }
    iot.delete_package_version()
        .package_name(&reg.package_name)
        .version_name(&reg.version_name)
        .send()
        .await
        .map_err(|e| classify("DeletePackageVersion", &e))?;
    info!(package = %reg.package_name, version = %reg.version_name, "deleted the run's draft package version");
    Ok(DraftCleanUp::Deleted)
}
