//! The job document as it will be, judged before anything is signed,
//! streamed or created: it must fit CreateJob's limit with any signature the
//! signer may return, and the device rules (crate::devices) decide on it.
//! start-signing runs this (through ota-aws's preflight, after the signing
//! profile is read); `ota validate` runs it offline too.

use crate::devices::{self, Finding};
use crate::job_document::{self, FileFacts};
use crate::state::SourceObject;
use crate::{ids, OtaError, OtaRequest, RequestSpec, Signing};

/// Checks the document of `request` for `source`, whose certificate path on
/// the device is `certfile` (from `certfile_field`: the profile or
/// `ota:certfile`). Fails when it cannot fit CreateJob's limit, or when
/// families the request names (`ota:devices`) would reject it; otherwise
/// returns what the families reading its format would find (warnings: the
/// caller logs or prints them). Before a profile signs, the signature is
/// unknown and its rules wait for create-job.
pub fn check_document(
    request: &OtaRequest,
    merged: &RequestSpec,
    source: &SourceObject,
    certfile: &str,
    certfile_field: &str,
) -> Result<Vec<Finding>, OtaError> {
    let stream_id = stream_of(request, source);
    let fits = facts(source, certfile, &stream_id, "", "");
    job_document::check_fits_any_signature(request, &fits, certfile_field)?;

    let stand_in = stand_in();
    let (signature, algorithm, known) = before_signing(&request.signing, &stand_in);
    let facts = facts(source, certfile, &stream_id, signature, algorithm);
    let (document, _) = job_document::build(request, &facts)?;
    // With ota:document-values=package, what CreateJob will receive (and
    // the version's recipe) must fit too; it does not depend on the
    // signature, which becomes a substitution parameter.
    crate::package_version::sent_document(request, &document)?;
    judge(request, merged, &document, known)
}

/// A stand-in of a typical ECDSA signature's size (72 bytes) for profile
/// signing, whose signature is not known yet.
fn stand_in() -> String {
    "A".repeat(96)
}

/// The signature and algorithm the document will carry as far as known
/// before signing: the user's, none (aws_fota), or `stand_in` for a profile
/// (then `false`: the signature rules are left out).
fn before_signing<'a>(signing: &'a Signing, stand_in: &'a str) -> (&'a str, &'a str, bool) {
    match signing {
        Signing::PreSigned {
            signature,
            signature_algorithm,
            ..
        } => (signature.as_str(), signature_algorithm.as_str(), true),
        Signing::Profile { .. } => (stand_in, "SHA256withECDSA", false),
        Signing::Unsigned => ("", "", true),
    }
}

/// The device rules on the document: a refusal for the families the
/// request names (`ota:devices`), else the warnings.
fn judge(
    request: &OtaRequest,
    merged: &RequestSpec,
    document: &serde_json::Value,
    signature_known: bool,
) -> Result<Vec<Finding>, OtaError> {
    let findings = devices::findings_for(
        &request.devices,
        request.format,
        &request.job_id,
        document,
        signature_known,
    );
    if !request.devices.is_empty() && !findings.is_empty() {
        return Err(devices::refusal(&findings, &merged.source_of("devices")));
    }
    Ok(findings)
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
) -> FileFacts<'a> {
    FileFacts {
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

/// [`check_document`] for a release: its files (pinned, sizes known, each
/// certificate path set in `signing.certfile`) in one document, which must
/// fit CreateJob's limit with the largest signature for every file, and the
/// device rules on it (a stand-in signature where a profile will sign).
pub fn check_release_document(
    request: &OtaRequest,
    merged: &RequestSpec,
    source: &SourceObject,
    files: &[crate::state::ReleaseFileState],
) -> Result<Vec<Finding>, OtaError> {
    let stream_id = stream_of(request, source);
    let stand_in = stand_in();
    let mut known = true;
    let document_files: Vec<job_document::DocumentFile<'_>> = files
        .iter()
        .map(|f| {
            let (signature, signature_algorithm, this_known) = before_signing(&f.method, &stand_in);
            known &= this_known;
            job_document::DocumentFile {
                bucket: &source.bucket,
                key: &f.key,
                version_id: &f.version_id,
                region: &source.region,
                size: f.size,
                signature,
                signature_algorithm,
                certfile: &f.signing.certfile,
                file_path: &f.file_path,
                file_type: f.file_type,
            }
        })
        .collect();
    job_document::check_files_fit_any_signature(
        request,
        Some(&stream_id),
        &document_files,
        crate::release::FILES_FIELD,
    )?;
    let (document, _) = job_document::build_files(request, Some(&stream_id), &document_files)?;
    judge(request, merged, &document, known)
}
