//! `ota:register-package`: the upload becomes that package version, with the
//! signature, certificate path and download location now known as its
//! attributes, published right before CreateJob (a job deploys only a
//! published version; ota_aws::package_catalog), after every check that can
//! still refuse the run. The version's ARN is already among the request's
//! destinationPackageVersions.

use ota_aws::package_catalog::{self, Registered, VersionRequest};
use ota_core::package_version::{self as pv, AttributeFacts};
use ota_core::{OtaError, PipelineState};
use tracing::info;

/// `document` is the text CreateJob will receive: with
/// `ota:document-values=package` it is also the version's recipe.
pub async fn register(
    iot: &aws_sdk_iot::Client,
    state: &PipelineState,
    document: &str,
) -> Result<(), OtaError> {
    let Some(reg) = &state.request.package_registration else {
        return Ok(());
    };
    let src = &state.source;
    let file = state
        .signed_file
        .as_ref()
        .ok_or_else(|| OtaError::Internal("create-job called before make-stream".into()))?;
    let signed = !matches!(state.request.signing, ota_core::Signing::Unsigned);
    let attributes = pv::attributes(&AttributeFacts {
        key: &src.key,
        version_id: &src.version_id,
        size: file.size,
        signature: signed.then_some(file.signature.as_str()),
        signature_algorithm: signed.then_some(file.signature_algorithm.as_str()),
        certfile: Some(&state.signing.certfile),
        stream_id: state.stream.as_ref().map(|s| s.stream_id.as_str()),
    });
    // start-signing checked these with the signature at its largest; this
    // is the same rule on the real values, before the catalog is touched.
    pv::check_attributes(&attributes).map_err(|m| {
        ota_core::error::invalid(
            reg.field.clone(),
            format!("{}@{}: {m}", reg.package_name, reg.version_name),
        )
    })?;
    let request = VersionRequest {
        registration: reg,
        attributes,
        bucket: &src.bucket,
        key: &src.key,
        version_id: &src.version_id,
        description: pv::description(&src.bucket, &src.key, &src.version_id),
        recipe: (!state.request.document_values.is_literal()).then(|| document.to_string()),
        client_token: pv::client_token(
            &src.bucket,
            &src.key,
            &src.version_id,
            &state.request.job_id,
        ),
    };
    let outcome = package_catalog::register(iot, &request).await?;
    info!(package_version = %reg.arn, already_published = outcome == Registered::AlreadyPublished, "package version registered");
    Ok(())
}
