//! The release manifest: a manifest (every field of [`super::parse_manifest`])
//! plus `files`, the objects of a multi-file update (CreateOTAUpdate's
//! `files[]`), each with its own path and type on the device and its own
//! signing. Uploaded under the stack's ReleasePrefix.
//!
//! The file fields are per file, so the release's own `filePath`,
//! `fileType` and `customCodeSigning` are refused; its `signingProfile` is
//! the profile of every file that names none.

use super::shape::FileEntry;
use super::{fields, read_shape, Collector};
use crate::error::Problems;
use crate::release::{PreSignature, ReleaseFileSpec, FILES_FIELD, MAX_RELEASE_FILES};
use crate::spec::RequestSpec;
use crate::values::{
    parse_device_path, parse_profile_name, parse_signature, parse_signature_algorithm, FILE_TYPE,
};

/// Parses a release manifest: the request it carries, its files in order,
/// and every problem (a JSON or shape error is one problem, as for
/// manifests; value problems are all collected, each naming its path such
/// as `manifest.files[2].key`).
pub fn parse_release_manifest(
    bytes: &[u8],
    name: &str,
) -> (RequestSpec, Vec<ReleaseFileSpec>, Problems) {
    let mut c = Collector {
        p: Problems::default(),
    };
    let Some(mut m) = read_shape(bytes, name, &mut c.p) else {
        return (RequestSpec::default(), Vec::new(), c.p);
    };
    for (set, field) in [
        (m.file_path.is_some(), "filePath"),
        (m.file_type.is_some(), "fileType"),
        (m.custom_code_signing.is_some(), "customCodeSigning"),
    ] {
        if set {
            c.p.push(
                format!("manifest.{field}"),
                format!(
                    "is per file in a release manifest: give it in each entry of {FILES_FIELD}"
                ),
            );
        }
    }
    m.file_path = None;
    m.file_type = None;
    m.custom_code_signing = None;
    let entries = m.files.take();
    let mut s = RequestSpec::default();
    fields::delivery(&mut c, &mut s, &mut m);
    fields::signing(&mut c, &mut s, &mut m);
    fields::job_rules(&mut c, &mut s, &mut m);
    fields::references(&mut c, &mut s, &mut m);
    let files = match entries {
        None => {
            c.p.push(
                FILES_FIELD,
                format!("is missing: a release manifest lists its 1 to {MAX_RELEASE_FILES} files"),
            );
            Vec::new()
        }
        Some(e) if e.is_empty() || e.len() > MAX_RELEASE_FILES => {
            c.p.push(
                FILES_FIELD,
                format!(
                    "lists {} files; a release has 1 to {MAX_RELEASE_FILES} (the AWS IoT Jobs OTA parser reads at most {MAX_RELEASE_FILES})",
                    e.len()
                ),
            );
            Vec::new()
        }
        Some(e) => e
            .into_iter()
            .enumerate()
            .filter_map(|(i, f)| file(&mut c.p, i, f))
            .collect(),
    };
    (s.with_source(crate::spec::manifest_path), files, c.p)
}

/// One entry, each value checked with the parser its single-file tag uses.
fn file(p: &mut Problems, i: usize, f: FileEntry) -> Option<ReleaseFileSpec> {
    let at = |field: &str| format!("{FILES_FIELD}[{i}].{field}");
    let before = p.len();
    let mut take = |field: &str, r: Result<String, String>| match r {
        Ok(v) => Some(v),
        Err(e) => {
            p.push(at(field), e);
            None
        }
    };
    let key = take("key", object_key(&f.key));
    let version_id = f
        .version_id
        .map(|v| take("versionId", version_id(&v)))
        .unwrap_or(None);
    let file_path = f
        .file_path
        .map(|v| take("filePath", parse_device_path(&v)))
        .unwrap_or(None);
    let profile = f
        .signing_profile
        .map(|v| take("signingProfile", parse_profile_name(&v)))
        .unwrap_or(None);
    let pre_signed = f.custom_code_signing.map(|cs| {
        let mut need = |field: &str, v: Option<String>, parse: fn(&str) -> Result<String, String>| {
            match v {
                Some(v) => take(&format!("customCodeSigning.{field}"), parse(&v)),
                None => take(
                    &format!("customCodeSigning.{field}"),
                    Err("is missing: pre-signed firmware needs signature, signatureAlgorithm and certfile".into()),
                ),
            }
        };
        let signature = need("signature", cs.signature, parse_signature);
        let signature_algorithm =
            need("signatureAlgorithm", cs.signature_algorithm, parse_signature_algorithm);
        let certfile = need("certfile", cs.certfile, parse_device_path);
        Some(PreSignature {
            signature: signature?,
            signature_algorithm: signature_algorithm?,
            certfile: certfile?,
        })
    });
    let file_type = match f.file_type.map(|t| FILE_TYPE.check(t)) {
        Some(Err(e)) => {
            p.push(at("fileType"), e);
            None
        }
        Some(Ok(t)) => Some(t),
        None => None,
    };
    if profile.is_some() && pre_signed.is_some() {
        p.push(
            at("customCodeSigning"),
            format!("pre-signed firmware cannot also name a signing profile ({}); give one or the other", at("signingProfile")),
        );
    }
    if p.len() > before {
        return None;
    }
    Some(ReleaseFileSpec {
        key: key?,
        version_id,
        file_path,
        file_type,
        profile,
        pre_signed: pre_signed.flatten(),
    })
}

/// An S3 key: 1 to 1024 bytes of UTF-8 (serde checked the UTF-8), with no
/// control characters (S3 would take some, but no tag or device path could
/// name them).
fn object_key(k: &str) -> Result<String, String> {
    if k.is_empty() || k.len() > 1024 || k.chars().any(char::is_control) {
        return Err(format!(
            "'{}' is not an S3 object key: 1 to 1024 bytes, no control characters",
            k.escape_debug()
        ));
    }
    Ok(k.to_string())
}

/// An S3 version id as S3 returns them: 1 to 1024 printable characters
/// (`null` is the id of an object stored before versioning was enabled).
fn version_id(v: &str) -> Result<String, String> {
    if v.is_empty() || v.len() > 1024 || v.chars().any(|c| c.is_control() || c == ' ') {
        return Err(format!(
            "'{}' is not an S3 version id: 1 to 1024 printable characters, no spaces; leave it out to pin the current version",
            v.escape_debug()
        ));
    }
    Ok(v.to_string())
}
