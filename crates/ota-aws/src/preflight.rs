//! What must hold before anything is signed, streamed or created, beyond the
//! request's own rules: the signing profile is usable for this file (exists,
//! Active, names the certificate path on the device, its platform takes a
//! file this large) and the job document will fit CreateJob's limit with any
//! signature the signer may return. start-signing runs this before it signs;
//! the `ota` command before it uploads.

use crate::sdk_error::{classify, found};
use ota_core::state::SourceObject;
use ota_core::{ids, OtaError, OtaRequest, Problems, RequestSpec, Signing};

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

/// Checks the signing side of `request` for `source` and that its document
/// fits. Returns the certificate path on the device (the profile's certname,
/// or `ota:certfile` for pre-signed firmware).
pub async fn check_signing(
    signer: &aws_sdk_signer::Client,
    request: &OtaRequest,
    merged: &RequestSpec,
    source: &SourceObject,
) -> Result<String, OtaError> {
    let (certfile, field) = match &request.signing {
        Signing::PreSigned { certfile, .. } => (certfile.clone(), merged.source_of("certfile")),
        Signing::Profile { profile_name } => {
            let field = merged.source_of("profile");
            let certfile = check_profile(signer, profile_name, &field, source.size).await?;
            (certfile, field)
        }
    };
    document_fits(request, source, &certfile, &field)?;
    check_devices(request, merged, source, &certfile)?;
    Ok(certfile)
}

/// The document as it will be, judged by the device rules
/// (ota_core::devices): with `ota:devices` set, what those families would
/// reject or misread refuses the request before anything is signed; with
/// none set, what the `afr_ota` families would is logged as a warning.
/// Before a profile signs, the signature is unknown and its rules wait for
/// create-job.
fn check_devices(
    request: &OtaRequest,
    merged: &RequestSpec,
    source: &SourceObject,
    certfile: &str,
) -> Result<(), OtaError> {
    // A stand-in of a typical ECDSA signature's size (72 bytes) for profile
    // signing; the signature rules are left out then.
    let stand_in = "A".repeat(96);
    let (signature, algorithm, known) = match &request.signing {
        Signing::PreSigned {
            signature,
            signature_algorithm,
            ..
        } => (signature.as_str(), signature_algorithm.as_str(), true),
        Signing::Profile { .. } => (stand_in.as_str(), "SHA256withECDSA", false),
    };
    let stream_id = stream_of(request, source);
    let facts = facts(source, certfile, &stream_id, signature, algorithm);
    let (document, _) = ota_core::job_document::build(request, &facts)?;
    let findings =
        ota_core::devices::findings_for(&request.devices, &request.job_id, &document, known);
    if !request.devices.is_empty() && !findings.is_empty() {
        return Err(ota_core::devices::refusal(
            &findings,
            &merged.source_of("devices"),
        ));
    }
    crate::device_log::warn_findings(&findings);
    Ok(())
}

/// The stream the document will name.
fn stream_of(request: &OtaRequest, source: &SourceObject) -> String {
    ids::stream_id(
        &source.bucket,
        &source.key,
        &source.version_id,
        &request.job_id,
    )
}

/// What the document will say about the file, before signing.
fn facts<'a>(
    source: &'a SourceObject,
    certfile: &'a str,
    stream_id: &'a str,
    signature: &'a str,
    signature_algorithm: &'a str,
) -> ota_core::job_document::FileFacts<'a> {
    ota_core::job_document::FileFacts {
        bucket: &source.bucket,
        key: &source.key,
        version_id: &source.version_id,
        region: &source.region,
        size: source.size,
        signature,
        signature_algorithm,
        certfile,
        stream_id: Some(stream_id),
    }
}

/// The job document must fit CreateJob's limit whatever signature the signer
/// returns: checked before signing, so an update that could never become a
/// job signs and streams nothing. `field` is where the certificate path came
/// from (the profile's certname or ota:certfile), the usual cause.
fn document_fits(
    request: &OtaRequest,
    source: &SourceObject,
    certfile: &str,
    field: &str,
) -> Result<(), OtaError> {
    let stream_id = stream_of(request, source);
    let facts = facts(source, certfile, &stream_id, "", "");
    ota_core::job_document::check_fits_any_signature(request, &facts, field)
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
