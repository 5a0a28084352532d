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

/// Every attribute a registered version can carry, in the README's order.
pub const ATTRIBUTE_NAMES: [&str; 8] = [
    ATTR_SIGNATURE,
    ATTR_SIGNATURE_ALGORITHM,
    ATTR_CERTFILE,
    ATTR_FILE_SIZE,
    ATTR_STREAM_NAME,
    ATTR_FILE_ID,
    ATTR_S3_KEY,
    ATTR_S3_VERSION_ID,
];

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

/// A version's recipe (its inline job document) is at most this long
/// (PackageVersionRecipe, max 3072).
pub const MAX_RECIPE_CHARS: usize = 3072;

/// The substitution parameter for one attribute of a named version
/// ("Preparing AWS IoT Jobs", Substitution parameters:
/// `${aws:iot:package:<packageName>:version:<versionName>:attributes:<attributekey>}`).
pub fn placeholder(reg: &PackageRegistration, attribute: &str) -> String {
    format!(
        "${{aws:iot:package:{}:version:{}:attributes:{attribute}}}",
        reg.package_name, reg.version_name
    )
}

/// The document CreateJob receives, from the document devices must see
/// (`literal`, built by crate::job_document): with
/// `ota:document-values=package`, the `afr_ota` document's string values
/// that are attributes of the registered version (the signature, the
/// certificate path, the stream name) become substitution parameters, which
/// IoT Jobs replaces with the attribute values when it hands the document to
/// a device. Numbers stay literal: a parameter is replaced inside a JSON
/// string, and the devices read `filesize` and `fileid` as numbers (the
/// FreeRTOS OTA agent's job document model types them OTA_JSON_UINT32 in
/// source/ota.c otaJobDocModelParamStructure; the Jobs OTA parser reads them
/// with its number parser, otaJobParser/job_parser.c). The same text is the
/// version's recipe, so it must fit 3072 characters as well as CreateJob's
/// 32 KB.
pub fn sent_document(
    req: &crate::OtaRequest,
    literal: &serde_json::Value,
) -> Result<serde_json::Value, crate::OtaError> {
    let (Some(reg), crate::values::DocumentValues::Package) =
        (&req.package_registration, req.document_values)
    else {
        return Ok(literal.clone());
    };
    let mut doc = literal.clone();
    let put = |v: &mut serde_json::Value, attribute: &str| {
        if v.as_str().is_some_and(|s| !s.is_empty()) {
            *v = serde_json::Value::String(placeholder(reg, attribute));
        }
    };
    if let Some(ota) = doc.get_mut("afr_ota").and_then(|o| o.as_object_mut()) {
        if let Some(s) = ota.get_mut("streamname") {
            put(s, ATTR_STREAM_NAME);
        }
        for file in ota
            .get_mut("files")
            .and_then(|f| f.as_array_mut())
            .into_iter()
            .flatten()
            .filter_map(|f| f.as_object_mut())
        {
            for (k, v) in file.iter_mut() {
                if k == "certfile" {
                    put(v, ATTR_CERTFILE);
                } else if k.starts_with("sig-") {
                    put(v, ATTR_SIGNATURE);
                }
            }
        }
    }
    let len = doc.to_string().chars().count();
    let limit = MAX_RECIPE_CHARS.min(crate::job_document::MAX_DOCUMENT_BYTES);
    if len > limit {
        return Err(crate::error::invalid(
            reg.field.clone(),
            format!(
                "with ota:document-values=package the job document is also {}@{}'s recipe, at most {MAX_RECIPE_CHARS} characters; it would be {len} (the file path and the key are the long parts)",
                reg.package_name, reg.version_name
            ),
        ));
    }
    Ok(doc)
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
    fn package_values_become_substitution_parameters_and_numbers_stay() {
        use crate::values::DocumentValues;
        let reg = PackageRegistration {
            package_name: "App".into(),
            version_name: "1.4.0".into(),
            make_default: false,
            arn: "arn".into(),
            field: "ota:register-package".into(),
        };
        let literal = serde_json::json!({"afr_ota": {"protocols": ["MQTT"], "streamname": "AFR_OTA-s", "files": [{
            "filepath": "app.bin", "filesize": 10, "fileid": 0, "fileType": 0,
            "certfile": "/c.pem", "sig-sha256-ecdsa": "MEUC"}]}});
        let mut req: crate::OtaRequest = serde_json::from_value(serde_json::json!({
            "jobId": "j", "targets": [], "targetSelection": "SNAPSHOT", "description": "d",
            "protocols": ["MQTT"], "filePath": null, "fileType": null,
            "signing": {"kind": "unsigned"}, "timeoutMinutes": null, "retry": [], "schedule": null,
            "abort": [], "rollout": null, "presignedExpirySeconds": null, "packageVersions": []
        }))
        .unwrap();
        assert_eq!(
            sent_document(&req, &literal).unwrap(),
            literal,
            "literal by default"
        );
        req.package_registration = Some(reg);
        req.document_values = DocumentValues::Package;
        let sent = sent_document(&req, &literal).unwrap();
        let p = |a: &str| format!("${{aws:iot:package:App:version:1.4.0:attributes:{a}}}");
        assert_eq!(sent["afr_ota"]["streamname"], p("streamName"));
        let f = &sent["afr_ota"]["files"][0];
        assert_eq!(f["sig-sha256-ecdsa"], p("signature"));
        assert_eq!(f["certfile"], p("certfile"));
        assert_eq!(
            (f["filesize"].as_u64(), f["fileid"].as_u64()),
            (Some(10), Some(0))
        );
        assert_eq!(f["filepath"], "app.bin");
        // Over the recipe's 3072 characters: refused naming the field.
        let mut long = literal.clone();
        long["afr_ota"]["files"][0]["filepath"] = serde_json::json!("p".repeat(3000));
        let e = sent_document(&req, &long).unwrap_err();
        assert_eq!(e.problems()[0].field, "ota:register-package");
        assert!(e.to_string().contains("3072"), "{e}");
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
