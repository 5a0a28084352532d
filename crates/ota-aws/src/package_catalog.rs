//! The Software Package Catalog side of `ota:register-package`: the package
//! (made when missing), the version as a draft with the upload's attributes
//! and artifact, then published, and made the default when asked.
//!
//! AWS's rules, from the developer guide ("Preparing to use Software Package
//! Catalog", Package version lifecycle): a new version is a draft, which
//! "you can't deploy" and whose attributes can still change; once published
//! "you can edit only the description and tags", so attributes and the
//! artifact are fixed. create-job therefore publishes before CreateJob (a
//! job can only deploy a published version), after every check that can
//! still refuse the run. A published version is never deleted (Clean Up
//! deletes only its own draft: ota_aws::package_draft).
//!
//! Errors (IoT API reference, and botocore's iot service-2.json error lists):
//! CreatePackage and CreatePackageVersion answer ConflictException,
//! ValidationException, ServiceQuotaExceededException, ThrottlingException,
//! InternalServerException; Get* and UpdatePackageVersion add
//! ResourceNotFoundException.

use crate::sdk_error::{classify, found};
use aws_sdk_iot::types::{
    PackageVersionAction, PackageVersionArtifact, PackageVersionStatus, S3Location,
};
use ota_core::package_version::{PackageRegistration, ATTR_S3_KEY, ATTR_S3_VERSION_ID};
use ota_core::OtaError;
use std::collections::{BTreeMap, HashMap};
use tracing::info;

/// The version this run registers: what CreatePackageVersion carries.
#[derive(Debug, Clone)]
pub struct VersionRequest<'a> {
    pub registration: &'a PackageRegistration,
    pub attributes: BTreeMap<String, String>,
    /// The exact uploaded object version (the version's artifact).
    pub bucket: &'a str,
    pub key: &'a str,
    pub version_id: &'a str,
    pub description: String,
    /// The job document as the version's recipe (`ota:document-values=package`).
    pub recipe: Option<String>,
    pub client_token: String,
}

/// What register found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registered {
    /// This run made (or updated) the draft and published it.
    Published,
    /// It was already published with these attributes (a duplicate event or
    /// a retried Lambda after the publish).
    AlreadyPublished,
}

/// The package (made when missing), the draft, the publish, the default.
pub async fn register(
    iot: &aws_sdk_iot::Client,
    v: &VersionRequest<'_>,
) -> Result<Registered, OtaError> {
    let reg = v.registration;
    ensure_package(iot, &reg.package_name, &v.client_token).await?;
    let outcome = match put_draft(iot, v).await? {
        Some(Registered::AlreadyPublished) => Registered::AlreadyPublished,
        _ => {
            publish(iot, v).await?;
            Registered::Published
        }
    };
    if reg.make_default {
        iot.update_package()
            .package_name(&reg.package_name)
            .default_version_name(&reg.version_name)
            .send()
            .await
            .map_err(|e| classify("UpdatePackage", &e))?;
        info!(package = %reg.package_name, version = %reg.version_name, "made the package's default version");
    }
    Ok(outcome)
}

/// GetPackage, then CreatePackage when it does not exist; a Conflict on
/// CreatePackage is another run that made it first.
async fn ensure_package(
    iot: &aws_sdk_iot::Client,
    name: &str,
    token: &str,
) -> Result<(), OtaError> {
    let got = found(iot.get_package().package_name(name).send().await, |e| {
        e.is_resource_not_found_exception()
    })
    .map_err(|e| classify("GetPackage", &e))?;
    if got.is_some() {
        return Ok(());
    }
    match iot
        .create_package()
        .package_name(name)
        .description("Firmware registered by the OTA pipeline")
        .client_token(token)
        .send()
        .await
    {
        Ok(_) => {
            info!(package = %name, "created the package");
            Ok(())
        }
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_conflict_exception()) =>
        {
            Ok(())
        }
        Err(e) => Err(classify("CreatePackage", &e)),
    }
}

fn artifact(v: &VersionRequest<'_>) -> PackageVersionArtifact {
    PackageVersionArtifact::builder()
        .s3_location(
            S3Location::builder()
                .bucket(v.bucket)
                .key(v.key)
                .version(v.version_id)
                .build(),
        )
        .build()
}

fn attribute_map(v: &VersionRequest<'_>) -> HashMap<String, String> {
    v.attributes.clone().into_iter().collect()
}

/// CreatePackageVersion as a draft; when the version exists, what exists
/// decides ([`existing`]). `Some(AlreadyPublished)` when there is nothing
/// left to publish.
async fn put_draft(
    iot: &aws_sdk_iot::Client,
    v: &VersionRequest<'_>,
) -> Result<Option<Registered>, OtaError> {
    let reg = v.registration;
    let created = iot
        .create_package_version()
        .package_name(&reg.package_name)
        .version_name(&reg.version_name)
        .description(&v.description)
        .set_attributes(Some(attribute_map(v)))
        .artifact(artifact(v))
        .set_recipe(v.recipe.clone())
        .client_token(&v.client_token)
        .send()
        .await;
    match created {
        // A replayed client token answers with the version as first made:
        // only a draft with exactly these attributes is this run's.
        Ok(out)
            if out.status() == Some(&PackageVersionStatus::Draft)
                && same(out.attributes(), &v.attributes) =>
        {
            info!(package = %reg.package_name, version = %reg.version_name, "created the package version as a draft");
            Ok(None)
        }
        Ok(_) => existing(iot, v).await,
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_conflict_exception()) =>
        {
            existing(iot, v).await
        }
        Err(e) => Err(classify("CreatePackageVersion", &e)),
    }
}

fn same(have: Option<&HashMap<String, String>>, want: &BTreeMap<String, String>) -> bool {
    let have: BTreeMap<&str, &str> = have
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let want: BTreeMap<&str, &str> = want.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    have == want
}

/// The version exists. A draft made for this same object version (by an
/// earlier run) is updated: drafts are mutable. Published with these
/// attributes is this run's, already done. Anything else is a Conflict that
/// says what to do.
async fn existing(
    iot: &aws_sdk_iot::Client,
    v: &VersionRequest<'_>,
) -> Result<Option<Registered>, OtaError> {
    let reg = v.registration;
    let named = format!("{}@{}", reg.package_name, reg.version_name);
    let got = iot
        .get_package_version()
        .package_name(&reg.package_name)
        .version_name(&reg.version_name)
        .send()
        .await
        .map_err(|e| classify("GetPackageVersion", &e))?;
    let attrs = got.attributes();
    let same_object = attrs.and_then(|a| a.get(ATTR_S3_KEY)).map(String::as_str) == Some(v.key)
        && attrs
            .and_then(|a| a.get(ATTR_S3_VERSION_ID))
            .map(String::as_str)
            == Some(v.version_id);
    match got.status() {
        Some(PackageVersionStatus::Draft) if same_object => {
            iot.update_package_version()
                .package_name(&reg.package_name)
                .version_name(&reg.version_name)
                .description(&v.description)
                .set_attributes(Some(attribute_map(v)))
                .artifact(artifact(v))
                .set_recipe(v.recipe.clone())
                .send()
                .await
                .map_err(|e| classify("UpdatePackageVersion", &e))?;
            info!(package = %reg.package_name, version = %reg.version_name, "updated the draft an earlier run made for this upload");
            Ok(None)
        }
        Some(PackageVersionStatus::Draft) => Err(OtaError::Conflict(format!(
            "package version {named} is a draft made for another upload ({}); register a new version name ({}), or delete that draft",
            describe_object(attrs),
            reg.field
        ))),
        Some(PackageVersionStatus::Published) if same(attrs, &v.attributes) => {
            info!(package = %reg.package_name, version = %reg.version_name, "already published with these attributes");
            Ok(Some(Registered::AlreadyPublished))
        }
        Some(PackageVersionStatus::Published) => Err(OtaError::Conflict(format!(
            "package version {named} is already published with other attributes ({}); a published version's attributes cannot change (and every signing makes a new signature): register a new version name ({})",
            describe_object(attrs),
            reg.field
        ))),
        other => Err(OtaError::Conflict(format!(
            "package version {named} exists in state {}; register a new version name ({})",
            other.map_or("unknown", PackageVersionStatus::as_str),
            reg.field
        ))),
    }
}

fn describe_object(attrs: Option<&HashMap<String, String>>) -> String {
    let get = |k| attrs.and_then(|a| a.get(k)).map_or("?", String::as_str);
    format!(
        "s3Key {}, s3VersionId {}",
        get(ATTR_S3_KEY),
        get(ATTR_S3_VERSION_ID)
    )
}

/// UpdatePackageVersion PUBLISH. A Conflict is a version another run
/// published meanwhile: it is this run's only with these attributes.
async fn publish(iot: &aws_sdk_iot::Client, v: &VersionRequest<'_>) -> Result<(), OtaError> {
    let reg = v.registration;
    match iot
        .update_package_version()
        .package_name(&reg.package_name)
        .version_name(&reg.version_name)
        .action(PackageVersionAction::Publish)
        .send()
        .await
    {
        Ok(_) => {
            info!(package = %reg.package_name, version = %reg.version_name, "published the package version");
            Ok(())
        }
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_conflict_exception()) =>
        {
            match existing(iot, v).await? {
                Some(Registered::AlreadyPublished) => Ok(()),
                _ => Err(classify("UpdatePackageVersion", &e)),
            }
        }
        Err(e) => Err(classify("UpdatePackageVersion", &e)),
    }
}
