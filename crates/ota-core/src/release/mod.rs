//! A multi-file release (CreateOTAUpdate's `files[]`): the files a release
//! manifest lists (crate::manifest::parse_release_manifest), checked against
//! the bucket's prefixes, and resolved to what each file is on the device
//! and how it is signed.

use crate::error::{OtaError, Problems};
use crate::state::{ReleaseFileState, SourceObject};
use crate::values::DocumentFormat;
use crate::Signing;
use serde::{Deserialize, Serialize};

mod decide;
pub use decide::{decide, pending, ReleaseInput};

/// The tag on a release's files (`ota release` puts it there): the upload
/// is part of the release manifest it names, and starts no update of its
/// own. Its value is the release manifest's key.
pub const RELEASE_FILE_TAG: &str = "ota:release";

/// Where a release manifest's files are named.
pub const FILES_FIELD: &str = "manifest.files";

/// The most files a release has: the AWS IoT Jobs OTA parser reads at most
/// ten (crate::devices cites it), and a document carries no more.
pub const MAX_RELEASE_FILES: usize = crate::job_document::MAX_FILES;

/// One file as the release manifest gives it, each value checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseFileSpec {
    pub key: String,
    /// None: the version current when the release starts is pinned.
    pub version_id: Option<String>,
    pub file_path: Option<String>,
    pub file_type: Option<u32>,
    pub profile: Option<String>,
    pub pre_signed: Option<PreSignature>,
}

/// A file signed by the user (the manifest's `customCodeSigning`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreSignature {
    pub signature: String,
    pub signature_algorithm: String,
    pub certfile: String,
}

/// The bucket's prefixes (the stack parameters of the same names).
#[derive(Debug, Clone, Copy)]
pub struct Prefixes<'a> {
    pub upload: &'a str,
    pub signed: &'a str,
    pub manifest: &'a str,
    pub release: &'a str,
}

/// One file of a release, resolved: its path and type on the device and its
/// signing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseFile {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    pub file_path: String,
    pub file_type: u32,
    pub signing: Signing,
}

/// Resolves the files of a release whose request has document `format` and
/// signs, unless a file says otherwise, with `default_profile` (the
/// release's `signingProfile`, its tags' or the stack's default). Checks
/// every rule the files must meet before anything is signed: each key under
/// the upload prefix and none of the others (the OTA role reads only
/// there), no file listed twice, no two files written to one device path,
/// one file for `aws_fota` (Nordic's document has one location), and a
/// signing for each `afr_ota` file. All problems are reported at once.
pub fn resolve(
    files: &[ReleaseFileSpec],
    format: DocumentFormat,
    default_profile: Option<&str>,
    prefixes: &Prefixes<'_>,
) -> Result<Vec<ReleaseFile>, OtaError> {
    let mut p = Problems::default();
    if format == DocumentFormat::AwsFota && files.len() > 1 {
        p.push(
            FILES_FIELD,
            format!(
                "lists {} files, but an aws_fota document carries one (its single location.url); use afr_ota for a multi-file release",
                files.len()
            ),
        );
    }
    let mut out = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let at = |field: &str| format!("{FILES_FIELD}[{i}].{field}");
        if let Some(why) = outside(&f.key, prefixes) {
            p.push(at("key"), why);
        }
        if let Some(j) = files[..i]
            .iter()
            .position(|e| e.key == f.key && e.version_id == f.version_id)
        {
            p.push(
                at("key"),
                format!("lists the same object version as {FILES_FIELD}[{j}]; a release names each file once"),
            );
        }
        let file_path = f
            .file_path
            .clone()
            .unwrap_or_else(|| crate::job_document::base_name(&f.key).to_string());
        if let Some(j) = out
            .iter()
            .position(|e: &ReleaseFile| e.file_path == file_path)
        {
            p.push(
                at("filePath"),
                format!("'{file_path}' is also the device path of {FILES_FIELD}[{j}]: the second file would overwrite the first; give each a distinct filePath"),
            );
        }
        let signing = signing(f, format, default_profile, &at, &mut p);
        out.push(ReleaseFile {
            key: f.key.clone(),
            version_id: f.version_id.clone(),
            file_path,
            file_type: f.file_type.unwrap_or(0),
            signing,
        });
    }
    p.into_result().map(|()| out)
}

/// Why `key` cannot be a release file, if it cannot.
fn outside(key: &str, prefixes: &Prefixes<'_>) -> Option<String> {
    let under = [
        (prefixes.signed, "the signed prefix (the signer's output)"),
        (prefixes.manifest, "the manifest prefix"),
        (prefixes.release, "the release prefix"),
    ];
    if let Some((prefix, what)) = under.iter().find(|(p, _)| key.starts_with(p)) {
        return Some(format!(
            "'{key}' is under {what} {prefix}: a release file is firmware uploaded under the upload prefix {}",
            prefixes.upload
        ));
    }
    (!key.starts_with(prefixes.upload)).then(|| {
        format!(
            "'{key}' is not under the upload prefix {}: the pipeline's OTA role reads firmware only there",
            prefixes.upload
        )
    })
}

fn signing(
    f: &ReleaseFileSpec,
    format: DocumentFormat,
    default_profile: Option<&str>,
    at: &dyn Fn(&str) -> String,
    p: &mut Problems,
) -> Signing {
    if format == DocumentFormat::AwsFota {
        for (set, field) in [
            (f.profile.is_some(), "signingProfile"),
            (f.pre_signed.is_some(), "customCodeSigning"),
        ] {
            if set {
                p.push(
                    at(field),
                    "aws_fota updates are not signed by the pipeline (MCUboot verifies the image on the device); leave it out",
                );
            }
        }
        return Signing::Unsigned;
    }
    match (&f.pre_signed, f.profile.as_deref().or(default_profile)) {
        (Some(s), _) => Signing::PreSigned {
            signature: s.signature.clone(),
            signature_algorithm: s.signature_algorithm.clone(),
            certfile: s.certfile.clone(),
        },
        (None, Some(profile)) => Signing::Profile {
            profile_name: profile.to_string(),
        },
        (None, None) => {
            p.push(
                at("signingProfile"),
                "no signing profile and no signature for this file; give it signingProfile or customCodeSigning, give the release a signingProfile, or set the stack's DefaultSigningProfile",
            );
            Signing::Profile {
                profile_name: String::new(),
            }
        }
    }
}

/// A release file as the object it is: the release's bucket, region and
/// account with the file's key, pinned version and size (what signing,
/// make-stream's checks and the logs take for an upload).
pub fn file_source(release: &SourceObject, f: &ReleaseFileState) -> SourceObject {
    SourceObject {
        key: f.key.clone(),
        version_id: f.version_id.clone(),
        size: f.size,
        ..release.clone()
    }
}

/// What the document says about each file of a signed release (after
/// make-stream): its own pinned version, size, signature, certificate path,
/// device path and type, in the release's order.
pub fn document_files<'a>(
    source: &'a SourceObject,
    files: &'a [ReleaseFileState],
) -> Result<Vec<crate::job_document::DocumentFile<'a>>, OtaError> {
    files
        .iter()
        .map(|f| {
            let signed = f.signed_file.as_ref().ok_or_else(|| {
                OtaError::Internal(format!(
                    "create-job called before make-stream read {}",
                    f.key
                ))
            })?;
            Ok(crate::job_document::DocumentFile {
                bucket: &source.bucket,
                key: &f.key,
                version_id: &f.version_id,
                region: &source.region,
                size: signed.size,
                signature: &signed.signature,
                signature_algorithm: &signed.signature_algorithm,
                certfile: &f.signing.certfile,
                file_path: &f.file_path,
                file_type: f.file_type,
            })
        })
        .collect()
}
