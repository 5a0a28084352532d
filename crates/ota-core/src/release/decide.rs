//! What start-signing and `ota release` both decide about a release before
//! anything is uploaded or signed: the request (the release manifest's tags
//! over the manifest over the stack defaults) and its files, resolved
//! against the bucket's prefixes, every problem at once.

use super::{resolve, Prefixes, ReleaseFile, ReleaseFileSpec, FILES_FIELD};
use crate::error::{OtaError, Problems};
use crate::state::{ReleaseFileState, SigningState, SigningStatus};
use crate::{OtaRequest, RequestContext, RequestSpec, Signing};

/// The release, as parsed: the manifest object's own tags, the release
/// manifest's request and files, and the problems found reading them.
pub struct ReleaseInput {
    pub tags: RequestSpec,
    pub manifest: RequestSpec,
    pub files: Vec<ReleaseFileSpec>,
    pub problems: Problems,
}

/// Decides a release: the validated request, the merged spec (for the
/// document checks, which name each value's source) and the files
/// resolved ([`resolve`]). The request-level rule "a profile or a
/// signature" gives way to each file's own (its profile, else the
/// release's or the stack's), which names the file.
pub fn decide(
    input: ReleaseInput,
    defaults: &(RequestSpec, Problems),
    prefixes: &Prefixes<'_>,
    ctx: &RequestContext,
) -> Result<(OtaRequest, RequestSpec, Vec<ReleaseFile>), OtaError> {
    let ReleaseInput {
        tags,
        manifest,
        files,
        mut problems,
    } = input;
    if tags.manifest.is_some() {
        problems.push(
            "ota:manifest",
            "a release manifest is itself the manifest; put the fields in it (or in its other ota:* tags)",
        );
    }
    let mut merged = crate::request::merge(tags, manifest, defaults, &mut problems);
    // The signing rules stay quiet for a field marked unparsed.
    merged.unparsed.insert("profile");
    refuse_single_file_features(&merged, &mut problems);
    let files = match resolve(
        &files,
        merged.format.unwrap_or_default(),
        merged.profile.as_deref(),
        prefixes,
    ) {
        Ok(files) => files,
        Err(e) => {
            problems.extend(Problems(e.problems().to_vec()));
            Vec::new()
        }
    };
    let (request, merged) = crate::request::validate_merged(merged, problems, ctx)?;
    Ok((request, merged, files))
}

/// What describes one file and so does not fit a release (yet): a package
/// version records one file's signature and stream file id.
fn refuse_single_file_features(merged: &RequestSpec, p: &mut Problems) {
    for (set, field) in [
        (merged.register_package.is_some(), "register_package"),
        (merged.document_values.is_some(), "document_values"),
    ] {
        if set {
            p.push(
                merged.source_of(field),
                "registers one file as a package version, and a release has several; leave it out of a release (ota:packages may still name versions to deploy)",
            );
        }
    }
    for field in ["signature", "signature_algorithm", "certfile"] {
        if merged.sources.contains_key(field) {
            p.push(
                merged.source_of(field),
                format!("is per file in a release: give customCodeSigning in the entries of {FILES_FIELD}"),
            );
        }
    }
}

/// A resolved file pinned to `version_id` (`size` bytes), not signed yet:
/// Pending when a profile signs it, NotRequired otherwise.
pub fn pending(f: ReleaseFile, version_id: String, size: u64) -> ReleaseFileState {
    ReleaseFileState {
        key: f.key,
        version_id,
        size,
        file_path: f.file_path,
        file_type: f.file_type,
        signing: SigningState {
            status: match f.signing {
                Signing::Profile { .. } => SigningStatus::Pending,
                _ => SigningStatus::NotRequired,
            },
            job_id: None,
            certfile: String::new(),
            attempts: 0,
            wait_seconds: 0,
            started_at: String::new(),
            signed_object: None,
        },
        method: f.signing,
        signed_file: None,
    }
}
