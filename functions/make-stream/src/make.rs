//! Making the stream: read what the signer wrote, check it signs the
//! uploaded version, and CreateStream over that exact version.

use crate::Deps;
use ota_aws::classify_not_found;
use ota_core::signed_object::{SignedFormat, SignedObjectReader};
use ota_core::state::{SignedFile, SigningState, SigningStatus, SourceObject};
use ota_core::{OtaError, PipelineState, Signing};
use tracing::Instrument;

pub async fn make(state: PipelineState, deps: &Deps) -> Result<PipelineState, OtaError> {
    let span = ota_lambda::step_span("make_stream", &state);
    make_in_span(state, deps).instrument(span).await
}

async fn make_in_span(mut state: PipelineState, deps: &Deps) -> Result<PipelineState, OtaError> {
    if let Some(mut release) = state.release.take() {
        // Every file is read and checked before the one stream exists.
        for f in &mut release.files {
            let src = ota_core::release::file_source(&state.source, f);
            let signed = signed_file(&f.signing, &f.method, &src, deps).await?;
            check_signature(&f.method, &signed)?;
            f.signed_file = Some(signed);
        }
        for f in &release.files {
            source_still_there(deps, &ota_core::release::file_source(&state.source, f)).await?;
        }
        state.release = Some(release);
    } else {
        let signed =
            signed_file(&state.signing, &state.request.signing, &state.source, deps).await?;
        check_signature(&state.request.signing, &signed)?;
        state.signed_file = Some(signed);
        source_still_there(deps, &state.source).await?;
    }
    if state.request.uses_mqtt() {
        let spec = ota_aws::stream::spec_for(&state, &deps.ota_role_arn);
        let stream = ota_aws::stream::ensure(&deps.iot, &spec).await?;
        tracing::Span::current().record("stream_id", stream.stream_id.as_str());
        state.stream = Some(stream);
    }
    Ok(state)
}

/// Checked before the stream exists, so an unusable signature never leaves
/// anything behind. An aws_fota update carries none.
fn check_signature(method: &Signing, signed: &SignedFile) -> Result<(), OtaError> {
    if *method != Signing::Unsigned {
        ota_core::values::signature_key(&signed.signature_algorithm)
            .map_err(|e| OtaError::SignedObjectInvalid(format!("signatureAlgorithm {e}")))?;
        ota_core::values::parse_signature(&signed.signature)
            .map_err(|e| OtaError::SignedObjectInvalid(format!("signature {e}")))?;
    }
    Ok(())
}

/// Size, signature and algorithm of the file `src` signed as `method` says:
/// the user's for pre-signed firmware, none (the upload's size only) for
/// aws_fota, else from the signer's output, which must sign exactly that
/// version.
async fn signed_file(
    signing: &SigningState,
    method: &Signing,
    src: &SourceObject,
    deps: &Deps,
) -> Result<SignedFile, OtaError> {
    match (&signing.status, method) {
        (
            SigningStatus::NotRequired,
            Signing::PreSigned {
                signature,
                signature_algorithm,
                ..
            },
        ) => Ok(SignedFile {
            size: src.size,
            signature: signature.clone(),
            signature_algorithm: signature_algorithm.clone(),
            signed_version_id: None,
        }),
        (SigningStatus::NotRequired, Signing::Unsigned) => Ok(SignedFile {
            size: src.size,
            signature: String::new(),
            signature_algorithm: String::new(),
            signed_version_id: None,
        }),
        (SigningStatus::Succeeded, Signing::Profile { .. }) => {
            let loc = signing.signed_object.clone().ok_or_else(|| {
                OtaError::Internal("signing succeeded without a signed object".into())
            })?;
            let (signed, version) = read_signed_object(deps, &loc.bucket, &loc.key).await?;
            check_signs_upload(&signed, &loc, src)?;
            Ok(SignedFile {
                size: signed.raw_payload_size,
                signature: signed.signature,
                signature_algorithm: signed.signature_algorithm,
                signed_version_id: version,
            })
        }
        (status, _) => Err(OtaError::Internal(format!(
            "make-stream called with signing status {status:?} for s3://{}/{} and this kind of signing",
            src.bucket, src.key
        ))),
    }
}

/// The signer's output is about the uploaded version: a detached signature
/// names it, and the signed size is the version's size.
fn check_signs_upload(
    signed: &ota_core::signed_object::SignedObject,
    loc: &ota_core::state::S3Location,
    src: &ota_core::state::SourceObject,
) -> Result<(), OtaError> {
    if let SignedFormat::Detached {
        bucket,
        key,
        version,
    } = &signed.format
    {
        let same = bucket.as_deref().is_none_or(|b| b == src.bucket)
            && key.as_deref().is_none_or(|k| k == src.key)
            && version.as_deref().is_none_or(|v| v == src.version_id);
        if !same {
            return Err(OtaError::SignedObjectInvalid(format!(
                "s3://{}/{} signs s3://{}/{} version {}, not the uploaded version {}",
                loc.bucket,
                loc.key,
                bucket.as_deref().unwrap_or("?"),
                key.as_deref().unwrap_or("?"),
                version.as_deref().unwrap_or("?"),
                src.version_id
            )));
        }
    }
    if signed.raw_payload_size != src.size {
        return Err(OtaError::SignedObjectInvalid(format!(
            "the signer signed {} bytes but the uploaded version is {} bytes",
            signed.raw_payload_size, src.size
        )));
    }
    Ok(())
}

/// The pinned version must still exist before anything points devices at
/// it: a version deleted while the run was in flight would leave a stream or
/// presigned URL that cannot be read. (A newer upload to the same key does not
/// matter: this run keeps serving its own version.)
async fn source_still_there(
    deps: &Deps,
    src: &ota_core::state::SourceObject,
) -> Result<(), OtaError> {
    deps.s3
        .head_object()
        .bucket(&src.bucket)
        .key(&src.key)
        .version_id(&src.version_id)
        .send()
        .await
        .map_err(|e| {
            classify_not_found("HeadObject (firmware)", &e, || {
                OtaError::SourceNotFound(format!(
                    "s3://{}/{} version {} was deleted while this update was in flight; nothing was created",
                    src.bucket, src.key, src.version_id
                ))
            })
        })?;
    Ok(())
}

/// The signed object and the S3 version that was read (None in an
/// unversioned bucket, which S3 reports as "null").
async fn read_signed_object(
    deps: &Deps,
    bucket: &str,
    key: &str,
) -> Result<(ota_core::signed_object::SignedObject, Option<String>), OtaError> {
    let out = deps
        .s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| {
            classify_not_found("GetObject (signed object)", &e, || {
                OtaError::SignedObjectInvalid(format!(
                    "the signed object s3://{bucket}/{key} does not exist"
                ))
            })
        })?;
    let version = out
        .version_id()
        .filter(|v| *v != "null")
        .map(str::to_string);
    let mut body = out.body;
    let mut reader = SignedObjectReader::new();
    // Chunk by chunk: memory stays flat whatever the firmware size.
    while let Some(chunk) = body
        .try_next()
        .await
        .map_err(|e| OtaError::ServiceUnavailable(format!("reading s3://{bucket}/{key}: {e}")))?
    {
        reader.feed(&chunk)?;
    }
    Ok((reader.finish()?, version))
}
