//! The Software Package Catalog version an upload registers as
//! (`ota:register-package`): its attributes, their limits, its client token
//! and description. ota-aws makes the calls; this is what they carry.
//!
//! Limits (IoT API reference, CreatePackageVersion; botocore's iot
//! service-2.json shapes ResourceAttributeKey, ResourceAttributeValue,
//! ResourceDescription, ClientToken): "The combined size of all the
//! attributes on a package version is limited to 3KB"; a key matches
//! `[a-zA-Z0-9:_-]+`; a value matches `[^\p{C}]+` (at least one character,
//! none of Unicode category C); a description `[^\p{C}]+`, at most 1024; a
//! client token `\S{36,64}`.

use crate::values::is_refused_in_description;
use crate::values::MAX_SIGNATURE_BYTES;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The package version an upload becomes, as CreateJob and the catalog
/// calls need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PackageRegistration {
    pub package_name: String,
    pub version_name: String,
    /// `ota:register-default=true`: UpdatePackage makes it the default.
    #[serde(default)]
    pub make_default: bool,
    /// Its ARN, also in the request's destinationPackageVersions.
    pub arn: String,
    /// Where it was asked for (`ota:register-package`, a manifest field),
    /// for a later refusal.
    #[serde(default)]
    pub field: String,
}

/// "limited to 3KB": counted here as the UTF-8 bytes of every key and value.
pub const MAX_ATTRIBUTES_BYTES: usize = 3072;
/// ResourceDescription's maximum.
pub const MAX_DESCRIPTION_CHARS: usize = 1024;

/// The attribute names, as the README lists them.
pub const ATTR_SIGNATURE: &str = "signature";
pub const ATTR_SIGNATURE_ALGORITHM: &str = "signatureAlgorithm";
pub const ATTR_CERTFILE: &str = "certfile";
pub const ATTR_FILE_SIZE: &str = "fileSize";
pub const ATTR_STREAM_NAME: &str = "streamName";
pub const ATTR_FILE_ID: &str = "fileId";
pub const ATTR_S3_KEY: &str = "s3Key";
pub const ATTR_S3_VERSION_ID: &str = "s3VersionId";

/// What the attributes say about the file. A value that is absent (no
/// signature for an unsigned `aws_fota` update, no stream without MQTT) is
/// left out: an attribute value cannot be empty.
#[derive(Debug, Clone, Copy)]
pub struct AttributeFacts<'a> {
    pub key: &'a str,
    pub version_id: &'a str,
    pub size: u64,
    pub signature: Option<&'a str>,
    pub signature_algorithm: Option<&'a str>,
    pub certfile: Option<&'a str>,
    pub stream_id: Option<&'a str>,
}

/// The version's attributes.
pub fn attributes(f: &AttributeFacts<'_>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut put = |k: &str, v: Option<&str>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            out.insert(k.to_string(), v.to_string());
        }
    };
    put(ATTR_SIGNATURE, f.signature);
    put(ATTR_SIGNATURE_ALGORITHM, f.signature_algorithm);
    put(ATTR_CERTFILE, f.certfile);
    put(ATTR_FILE_SIZE, Some(&f.size.to_string()));
    put(ATTR_STREAM_NAME, f.stream_id);
    // The stream holds one file, id 0 (ota_aws::stream).
    put(ATTR_FILE_ID, f.stream_id.map(|_| "0"));
    put(ATTR_S3_KEY, Some(f.key));
    put(ATTR_S3_VERSION_ID, Some(f.version_id));
    out
}

/// The catalog's rules for a set of attributes, as one message.
pub fn check_attributes(attrs: &BTreeMap<String, String>) -> Result<(), String> {
    for (k, v) in attrs {
        let key_ok = !k.is_empty()
            && k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'-'));
        if !key_ok {
            return Err(format!("attribute name '{k}' is not [a-zA-Z0-9:_-]+"));
        }
        if let Some(c) = v.chars().find(|c| is_refused_in_description(*c)) {
            return Err(format!(
                "attribute {k} would hold U+{:04X}, a control, format, private-use or unassigned character (Unicode category C), which a package version attribute cannot hold",
                c as u32
            ));
        }
    }
    let total: usize = attrs.iter().map(|(k, v)| k.len() + v.len()).sum();
    if total > MAX_ATTRIBUTES_BYTES {
        return Err(format!(
            "the package version's attributes would take {total} bytes; the Software Package Catalog allows {MAX_ATTRIBUTES_BYTES} (3 KB) in all (the S3 key and certificate path are the long ones)"
        ));
    }
    Ok(())
}

/// The longest signature a signing job can produce that devices accept:
/// MAX_SIGNATURE_BYTES decoded, as padded base64.
pub const MAX_SIGNATURE_BASE64_CHARS: usize = MAX_SIGNATURE_BYTES.div_ceil(3) * 4;

/// Before anything is signed: the attributes with the signature AWS Signer
/// has not made yet counted at its largest, so a version whose attributes
/// cannot fit is refused while nothing exists. Pre-signed firmware's
/// signature is known and counted as it is.
pub fn check_before_signing(f: &AttributeFacts<'_>, signer_signs: bool) -> Result<(), String> {
    let placeholder = "A".repeat(MAX_SIGNATURE_BASE64_CHARS);
    let facts = if signer_signs {
        AttributeFacts {
            signature: Some(&placeholder),
            // The longest algorithm name AWS Signer's OTA platforms report.
            signature_algorithm: Some("SHA256withECDSA"),
            ..*f
        }
    } else {
        *f
    };
    check_attributes(&attributes(&facts))
}

/// start-signing's check, once the certificate path is known and before
/// StartSigningJob: the attributes the version will carry fit the catalog's
/// rules, the signature counted at its largest when AWS Signer makes it.
pub fn check_request(
    req: &crate::OtaRequest,
    source: &crate::state::SourceObject,
    certfile: &str,
) -> Result<(), crate::OtaError> {
    let Some(reg) = &req.package_registration else {
        return Ok(());
    };
    let stream_id = req.uses_mqtt().then(|| {
        crate::ids::stream_id(&source.bucket, &source.key, &source.version_id, &req.job_id)
    });
    let (signature, algorithm) = match &req.signing {
        crate::Signing::PreSigned {
            signature,
            signature_algorithm,
            ..
        } => (Some(signature.as_str()), Some(signature_algorithm.as_str())),
        _ => (None, None),
    };
    let facts = AttributeFacts {
        key: &source.key,
        version_id: &source.version_id,
        size: source.size,
        signature,
        signature_algorithm: algorithm,
        certfile: Some(certfile),
        stream_id: stream_id.as_deref(),
    };
    let signer_signs = matches!(req.signing, crate::Signing::Profile { .. });
    check_before_signing(&facts, signer_signs).map_err(|m| {
        crate::error::invalid(
            reg.field.clone(),
            format!("{}@{}: {m}", reg.package_name, reg.version_name),
        )
    })
}

/// CreatePackageVersion's clientToken: derived from the exact object
/// version and the job id, so a duplicate event or a retried Lambda for that
/// version is one request, while `ota retry` (job id `-rN`) is a new one: its
/// version was deleted by Clean Up, and a replayed token would answer for
/// the deleted draft (`\S{36,64}`: 64 hex digits).
pub fn client_token(bucket: &str, key: &str, version_id: &str, job_id: &str) -> String {
    crate::ids::digest(&["package-version", bucket, key, version_id, job_id])
}

/// The version's description: which upload it is. A character the
/// description cannot hold (category C, possible in an S3 key) becomes '?'.
pub fn description(bucket: &str, key: &str, version_id: &str) -> String {
    let text = format!(
        "Firmware s3://{bucket}/{key} (version {version_id}), registered by the OTA pipeline"
    );
    text.chars()
        .map(|c| if is_refused_in_description(c) { '?' } else { c })
        .take(MAX_DESCRIPTION_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(key: &'a str, certfile: &'a str) -> AttributeFacts<'a> {
        AttributeFacts {
            key,
            version_id: "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY",
            size: 1_048_576,
            signature: Some("MEUCIQDk"),
            signature_algorithm: Some("SHA256withECDSA"),
            certfile: Some(certfile),
            stream_id: Some("AFR_OTA-app-bin-0123456789abcdef"),
        }
    }

    #[test]
    fn attributes_name_the_file_and_its_signature() {
        let a = attributes(&facts("firmware/app.bin", "/certs/ota.pem"));
        let keys: Vec<&str> = a.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "certfile",
                "fileId",
                "fileSize",
                "s3Key",
                "s3VersionId",
                "signature",
                "signatureAlgorithm",
                "streamName"
            ]
        );
        assert_eq!(a["fileSize"], "1048576");
        assert_eq!(a["fileId"], "0");
        assert!(check_attributes(&a).is_ok());
        // No stream (HTTP only), no signature (aws_fota): left out, not empty.
        let bare = attributes(&AttributeFacts {
            signature: None,
            signature_algorithm: None,
            certfile: None,
            stream_id: None,
            ..facts("firmware/app.bin", "")
        });
        assert_eq!(bare.len(), 3, "{bare:?}");
    }

    #[test]
    fn the_limits_are_the_catalogs() {
        // 3 KB in all: a 1024-character key and a 1400-character certificate
        // path fit with a short signature, not with the largest one.
        let key = format!("firmware/{}", "k".repeat(1015));
        let cert = format!("/{}", "c".repeat(1399));
        let f = facts(&key, &cert);
        assert!(check_attributes(&attributes(&f)).is_ok());
        let e = check_before_signing(&f, true).unwrap_err();
        assert!(e.contains("3072"), "{e}");
        assert!(check_before_signing(&f, false).is_ok());
        assert_eq!(MAX_SIGNATURE_BASE64_CHARS, 512);
        // A control character in the key cannot be an attribute value.
        let e = check_attributes(&attributes(&facts("firmware/a\tb.bin", "/c"))).unwrap_err();
        assert!(e.contains("U+0009") && e.contains("s3Key"), "{e}");
        let mut odd = BTreeMap::new();
        odd.insert("bad name".to_string(), "v".to_string());
        assert!(check_attributes(&odd).is_err());
    }

    #[test]
    fn token_and_description() {
        let t = client_token("b", "firmware/app.bin", "v1", "AFR_OTA-app-1");
        assert_eq!(t.len(), 64);
        assert!(t.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(
            t,
            client_token("b", "firmware/app.bin", "v1", "AFR_OTA-app-1")
        );
        assert_ne!(
            t,
            client_token("b", "firmware/app.bin", "v2", "AFR_OTA-app-1")
        );
        assert_ne!(
            t,
            client_token("b", "firmware/app.bin", "v1", "AFR_OTA-app-1-r1")
        );
        let d = description("b", "firmware/a\u{7}.bin", "v1");
        assert_eq!(
            d,
            "Firmware s3://b/firmware/a?.bin (version v1), registered by the OTA pipeline"
        );
        let long = description("b", &"k".repeat(2000), "v1");
        assert_eq!(long.chars().count(), MAX_DESCRIPTION_CHARS);
    }
}
