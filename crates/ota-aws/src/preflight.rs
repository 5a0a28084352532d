//! What must hold before anything is signed, streamed or created, beyond the
//! request's own rules: the signing profile is usable for this file (exists,
//! Active, names the certificate path on the device, its platform takes a
//! file this large), then the job document (ota_core::document_check: it
//! fits CreateJob's limit with any signature the signer may return, and the
//! device rules). start-signing runs this before it signs; the `ota`
//! command before it uploads.

use crate::sdk_error::{classify, found};
use ota_core::state::SourceObject;
use ota_core::{OtaError, OtaRequest, Problems, RequestSpec, Signing};

/// The largest firmware the AmazonFreeRTOS-* signing platforms accept.
pub const FREERTOS_MAX_FIRMWARE_BYTES: u64 = 16 * 1024 * 1024;
/// The largest file AWSIoTDeviceManagement-SHA256-ECDSA signs.
pub const DEVICE_MANAGEMENT_MAX_FIRMWARE_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// The largest file each signing platform (by id prefix) accepts.
const PLATFORM_MAX_BYTES: &[(&str, u64)] = &[
    ("AmazonFreeRTOS", FREERTOS_MAX_FIRMWARE_BYTES),
    (
        "AWSIoTDeviceManagement",
        DEVICE_MANAGEMENT_MAX_FIRMWARE_BYTES,
    ),
];

/// What the checks found: the certificate path on the device, and what the
/// device families reading the document's format would find, as warnings
/// (the caller logs or prints them; with `ota:devices` they refuse instead).
#[derive(Debug, Clone)]
pub struct Preflight {
    /// The profile's certname, or `ota:certfile` for pre-signed firmware
    /// (empty for aws_fota, which has no certificate in its document).
    pub certfile: String,
    pub device_warnings: Vec<ota_core::devices::Finding>,
}

/// Checks the signing side of `request` for `source`, then its document
/// (ota_core::document_check).
pub async fn check_signing(
    signer: &aws_sdk_signer::Client,
    request: &OtaRequest,
    merged: &RequestSpec,
    source: &SourceObject,
) -> Result<Preflight, OtaError> {
    let (certfile, field) = match &request.signing {
        Signing::PreSigned { certfile, .. } => (certfile.clone(), merged.source_of("certfile")),
        // aws_fota: no certificate on the device's side of the document.
        Signing::Unsigned => (String::new(), merged.source_of("format")),
        Signing::Profile { profile_name } => {
            let field = merged.source_of("profile");
            let certfile = check_profile(signer, profile_name, &field, source.size).await?;
            (certfile, field)
        }
    };
    let device_warnings =
        ota_core::document_check::check_document(request, merged, source, &certfile, &field)?;
    Ok(Preflight {
        certfile,
        device_warnings,
    })
}

/// [`check_signing`] for a release: each file's profile (or its own
/// certfile when pre-signed) sets its `signing.certfile`, every problem of
/// every file at once (each under `manifest.files[i]`), then the one
/// document (ota_core::document_check::check_release_document). Returns the
/// device warnings.
pub async fn check_release_signing(
    signer: &aws_sdk_signer::Client,
    request: &OtaRequest,
    merged: &RequestSpec,
    source: &SourceObject,
    files: &mut [ota_core::state::ReleaseFileState],
) -> Result<Vec<ota_core::devices::Finding>, OtaError> {
    let mut problems = Problems::default();
    for (i, f) in files.iter_mut().enumerate() {
        f.signing.certfile = match &f.method {
            Signing::PreSigned { certfile, .. } => certfile.clone(),
            Signing::Unsigned => String::new(),
            Signing::Profile { profile_name } => {
                let field = format!("{}[{i}].signingProfile", ota_core::release::FILES_FIELD);
                match check_profile(signer, profile_name, &field, f.size).await {
                    Ok(certfile) => certfile,
                    Err(OtaError::InvalidRequest(p)) => {
                        problems.extend(p);
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            }
        };
    }
    problems.into_result()?;
    ota_core::document_check::check_release_document(request, merged, source, files)
}

/// Checks the profile before signing: it exists, is Active, names the
/// certificate path on the device (`certname`), and its platform accepts a
/// file this large. Returns the certname.
async fn check_profile(
    signer: &aws_sdk_signer::Client,
    profile: &str,
    field: &str,
    size: u64,
) -> Result<String, OtaError> {
    let got = signer
        .get_signing_profile()
        .profile_name(profile)
        .send()
        .await;
    let out = found(got, |e| e.is_resource_not_found_exception())
        .map_err(|e| classify("GetSigningProfile", &e))?
        .ok_or_else(|| {
            ota_core::error::invalid(
                field,
                format!("signing profile '{profile}' does not exist in this account and region"),
            )
        })?;
    let mut problems = Problems::default();
    if let Some(status) = out.status() {
        if status.as_str() != "Active" {
            problems.push(
                field,
                format!(
                    "signing profile '{profile}' is {}, not Active",
                    status.as_str()
                ),
            );
        }
    }
    let certname = out
        .signing_parameters()
        .and_then(|p| p.get("certname"))
        .cloned()
        .unwrap_or_default();
    if certname.is_empty() {
        problems.push(
            field,
            format!("signing profile '{profile}' has no 'certname' signing parameter (the certificate path on the device)"),
        );
    }
    check_platform_size(out.platform_id().unwrap_or(""), size, field, &mut problems);
    problems.into_result()?;
    Ok(certname)
}

/// The signing platform's largest file.
fn check_platform_size(platform: &str, size: u64, field: &str, problems: &mut Problems) {
    for (prefix, max) in PLATFORM_MAX_BYTES {
        if platform.starts_with(prefix) && size > *max {
            problems.push(
                field,
                format!(
                    "the firmware is {size} bytes; the {platform} signing platform accepts at most {max}"
                ),
            );
        }
    }
}
