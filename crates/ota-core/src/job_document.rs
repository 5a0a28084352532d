//! The job document, in the request's format (`ota:format`):
//! - `afr_ota`, the shape CreateOTAUpdate writes, with what the AWS device
//!   parsers need made explicit (see [`build`]): the FreeRTOS OTA agent and
//!   the AWS IoT Jobs OTA parser take it unchanged;
//! - `aws_fota`, Nordic's nRF Connect SDK AWS FOTA document (`location.url`,
//!   see [`build_aws_fota`]).
//!
//! crate::devices checks both against the device libraries' rules.

use crate::error::{invalid, OtaError};
use crate::request::OtaRequest;
use crate::values::{signature_key, DocumentFormat};
use serde_json::{json, Map, Value};

/// CreateJob's limit on the document.
pub const MAX_DOCUMENT_BYTES: usize = 32 * 1024;

/// The longest base64 signature a document can carry: devices accept at most
/// 384 bytes, 512 characters in base64.
pub const MAX_SIGNATURE_CHARS: usize = crate::values::MAX_SIGNATURE_BYTES.div_ceil(3) * 4;

/// The longest signature algorithm name (`sig-sha512-ecdsa` in the document).
const LONGEST_SIGNATURE_ALGORITHM: &str = "SHA512withECDSA";

/// Whether the document fits CreateJob's limit whatever signature the signer
/// returns: everything else in it is known before signing, and the signature
/// is bounded, so the start-signing step checks this before anything is
/// signed, streamed or created. `f.signature` and `f.signature_algorithm` are
/// ignored (the largest are used); the error is an InvalidRequest naming
/// `field`.
pub fn check_fits_any_signature(
    req: &OtaRequest,
    f: &FileFacts<'_>,
    field: &str,
) -> Result<(), OtaError> {
    check_files_fit_any_signature(req, f.stream_id, &[f.file(req)], field)
}

/// [`check_fits_any_signature`] for the files of a release: every file with
/// the largest signature.
pub fn check_files_fit_any_signature(
    req: &OtaRequest,
    stream_id: Option<&str>,
    files: &[DocumentFile<'_>],
    field: &str,
) -> Result<(), OtaError> {
    let signature = "A".repeat(MAX_SIGNATURE_CHARS);
    let worst: Vec<DocumentFile<'_>> = files
        .iter()
        .map(|f| DocumentFile {
            signature: &signature,
            signature_algorithm: LONGEST_SIGNATURE_ALGORITHM,
            ..f.clone()
        })
        .collect();
    match build_files(req, stream_id, &worst) {
        Ok(_) => Ok(()),
        Err(OtaError::InvalidRequest(p)) => Err(invalid(
            field,
            p.iter()
                .map(|p| p.message.as_str())
                .collect::<Vec<_>>()
                .join("; ")
                + " (with the largest signature devices accept)",
        )),
        Err(e) => Err(e),
    }
}

/// What the document says about the one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileFacts<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub version_id: &'a str,
    pub region: &'a str,
    /// The raw firmware size in bytes.
    pub size: u64,
    /// Base64 signature and the signer's algorithm name (`SHA256withECDSA`).
    pub signature: &'a str,
    pub signature_algorithm: &'a str,
    /// The certificate path on the device (the profile's `certname`).
    pub certfile: &'a str,
    /// The stream, when MQTT is used.
    pub stream_id: Option<&'a str>,
}

fn encode_path(key: &str) -> String {
    crate::values::percent_encode(key, b"-_.~/")
}

fn encode_query(v: &str) -> String {
    crate::values::percent_encode(v, b"-_.~")
}

/// IoT's presigned-URL placeholder for the exact object version; IoT swaps it
/// for a presigned URL when a device fetches the document.
///
/// AWS IoT Developer Guide, "Managing jobs", section "Presigned URL using
/// Amazon S3 versioning" (path-style form, quoted):
///
/// ```text
/// ${aws:iot:s3-presigned-url-v2:https://s3.region-code.amazonaws.com/bucket-name/key-name%3FversionId%3Dversion-id}
/// ```
///
/// The `?` and `=` are percent-encoded inside the placeholder, and "the
/// Amazon S3 Presigned URL placeholder ${aws:iot:s3-presigned-url-v2 requires
/// the Amazon S3 URL to be encoded to conform with the Amazon S3 SDK
/// standard": the key is percent-encoded but for `/` and the unreserved
/// characters, the version id likewise. Not verified against a real
/// account (README). The host's DNS suffix follows the partition: China
/// regions' S3 endpoints are `s3.REGION.amazonaws.com.cn` (untested).
pub fn presigned_url_placeholder(
    region: &str,
    bucket: &str,
    key: &str,
    version_id: &str,
) -> String {
    let suffix = match crate::event::partition_of(region) {
        "aws-cn" => "amazonaws.com.cn",
        _ => "amazonaws.com",
    };
    format!(
        "${{aws:iot:s3-presigned-url-v2:https://s3.{region}.{suffix}/{bucket}/{}%3FversionId%3D{}}}",
        encode_path(key),
        encode_query(version_id)
    )
}

/// The path the device writes the file to: `ota:file-path`, else the base
/// name of the uploaded key. Always a string: the AWS IoT Jobs OTA parser
/// requires `filepath` (Jobs-for-AWS-IoT-embedded-sdk
/// source/otaJobParser/job_parser.c, populateCommonFields: a missing
/// `filepath` fails the document), and IoT has been reported to drop
/// `null` members on the way to a device, while a null that arrives is read
/// as the text `null` by both AWS parsers (coreJSON's JSON_SearchConst
/// returns the raw token). See crate::devices.
pub fn file_path<'a>(req: &'a OtaRequest, key: &'a str) -> &'a str {
    req.file_path.as_deref().unwrap_or_else(|| base_name(key))
}

/// The last path segment of an object key (the whole key when it ends in
/// `/`): a file's device path when none is given.
pub fn base_name(key: &str) -> &str {
    key.rsplit('/')
        .next()
        .filter(|n| !n.is_empty())
        .unwrap_or(key)
}

/// Builds the document in the request's format, as a JSON value and its
/// compact text (what CreateJob receives), for a single-file upload: the
/// file path and type come from the request (`ota:file-path`,
/// `ota:file-type`). Fails for an unknown signature algorithm (`afr_ota`)
/// or a document over 32 KB.
pub fn build(req: &OtaRequest, f: &FileFacts<'_>) -> Result<(Value, String), OtaError> {
    build_files(req, f.stream_id, &[f.file(req)])
}

/// One file of a (possibly multi-file) document, with its own path and type
/// on the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentFile<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub version_id: &'a str,
    pub region: &'a str,
    pub size: u64,
    pub signature: &'a str,
    pub signature_algorithm: &'a str,
    pub certfile: &'a str,
    pub file_path: &'a str,
    pub file_type: u32,
}

impl<'a> FileFacts<'a> {
    /// The upload as the document's one file: its path and type on the
    /// device from the request (`ota:file-path`, `ota:file-type`).
    fn file(&self, req: &'a OtaRequest) -> DocumentFile<'a> {
        DocumentFile {
            bucket: self.bucket,
            key: self.key,
            version_id: self.version_id,
            region: self.region,
            size: self.size,
            signature: self.signature,
            signature_algorithm: self.signature_algorithm,
            certfile: self.certfile,
            file_path: file_path(req, self.key),
            file_type: req.file_type.unwrap_or(0),
        }
    }
}

/// The most files one document carries: the AWS IoT Jobs OTA parser reads
/// file indexes 0..=9 (crate::devices' jobs_parser::MAX_FILES cites it).
pub const MAX_FILES: usize = crate::devices::JOBS_PARSER_MAX_FILES;

/// Builds the document for `files`, in that order, file ids 0..N-1 (the
/// stream holds them under the same ids). `aws_fota` documents carry one
/// file (Nordic's document has a single `location`). Fails for an unknown
/// signature algorithm, no files or more than [`MAX_FILES`], or a document
/// over 32 KB.
pub fn build_files(
    req: &OtaRequest,
    stream_id: Option<&str>,
    files: &[DocumentFile<'_>],
) -> Result<(Value, String), OtaError> {
    if files.is_empty() || files.len() > MAX_FILES {
        return Err(OtaError::Internal(format!(
            "a job document carries 1 to {MAX_FILES} files, not {}",
            files.len()
        )));
    }
    let doc = match (req.format, files) {
        (DocumentFormat::AfrOta, _) => build_afr_ota(req, stream_id, files)?,
        (DocumentFormat::AwsFota, [f]) => build_aws_fota(req, f),
        (DocumentFormat::AwsFota, _) => {
            return Err(invalid(
                "ota:format",
                format!(
                    "an aws_fota document carries one file (its single location.url), not {}; use afr_ota for a multi-file release",
                    files.len()
                ),
            ))
        }
    };
    let text = doc.to_string();
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(too_large(text.len(), files));
    }
    Ok((doc, text))
}

/// The 32 KB refusal, naming what the user controls: a single file's path,
/// certificate path and key, or every file's in a release.
fn too_large(len: usize, files: &[DocumentFile<'_>]) -> OtaError {
    let head = format!(
        "the job document would be {len} bytes; CreateJob accepts at most {MAX_DOCUMENT_BYTES}"
    );
    match files {
        [f] => invalid(
            "ota:file-path",
            format!(
                "{head}: its file path is {} bytes, the certificate path {}, the object key {}",
                f.file_path.len(),
                f.certfile.len(),
                f.key.len()
            ),
        ),
        _ => invalid(
            "manifest.files",
            format!(
                "{head}: its {} files' paths are {} bytes in all, their certificate paths {}, their object keys {}",
                files.len(),
                files.iter().map(|f| f.file_path.len()).sum::<usize>(),
                files.iter().map(|f| f.certfile.len()).sum::<usize>(),
                files.iter().map(|f| f.key.len()).sum::<usize>()
            ),
        ),
    }
}

/// Nordic's document (nRF Connect SDK "AWS FOTA" library documentation):
/// `{"operation":"app_fw_update","fwversion":...,"size":...,"location":
/// {"url":...}}`. NCS 2.x's `aws_fota_json.c` reads only `location`: `url`
/// (here IoT's presigned-URL placeholder for the exact object version,
/// which IoT replaces when the device fetches the document), else `host` +
/// `path`. `operation`, `fwversion` (only with `ota:firmware-version`) and
/// `size` are for the application. No signature: MCUboot verifies the image.
fn build_aws_fota(req: &OtaRequest, f: &DocumentFile<'_>) -> Value {
    let mut doc = Map::new();
    doc.insert("operation".into(), json!("app_fw_update"));
    if let Some(v) = &req.firmware_version {
        doc.insert("fwversion".into(), json!(v));
    }
    doc.insert("size".into(), json!(f.size));
    let url = presigned_url_placeholder(f.region, f.bucket, f.key, f.version_id);
    doc.insert("location".into(), json!({ "url": url }));
    Value::Object(doc)
}

/// The `afr_ota` document. Fails for an unknown signature algorithm.
///
/// What the devices need, from their parsers (crate::devices holds the
/// rules, each citing its source): `filepath` and `certfile` always strings;
/// `fileType` always a number (default 0, the value the parsers use when it
/// is absent; Jobs parser v1.4.0-v1.5.1 require it for HTTP); no `null`
/// members at all: `update_data_url` and `auth_scheme` appear only with
/// HTTP (optional in the FreeRTOS agent's model, source/ota.c
/// otaJobDocModelParamStructure, and read by the Jobs parser only on its
/// HTTP branch); compact text, because the agent copies the raw `protocols`
/// array text into a 20-byte buffer.
fn build_afr_ota(
    req: &OtaRequest,
    stream_id: Option<&str>,
    files: &[DocumentFile<'_>],
) -> Result<Value, OtaError> {
    let protocols: Vec<&str> = req.protocols.iter().map(|p| p.as_str()).collect();
    let files = files
        .iter()
        .enumerate()
        .map(|(id, f)| afr_ota_file(req, id, f))
        .collect::<Result<Vec<_>, _>>()?;
    let mut ota = Map::new();
    ota.insert("protocols".into(), json!(protocols));
    if req.uses_mqtt() {
        let stream = stream_id
            .ok_or_else(|| OtaError::Internal("MQTT job document without a stream".into()))?;
        ota.insert("streamname".into(), json!(stream));
    }
    ota.insert("files".into(), Value::Array(files));
    Ok(json!({ "afr_ota": Value::Object(ota) }))
}

/// One `files[]` entry; `fileid` is its index, the stream's file id.
fn afr_ota_file(req: &OtaRequest, id: usize, f: &DocumentFile<'_>) -> Result<Value, OtaError> {
    let sig_key = signature_key(f.signature_algorithm)
        .map_err(|e| OtaError::SignedObjectInvalid(format!("signatureAlgorithm {e}")))?;
    let mut file = Map::new();
    file.insert("filepath".into(), json!(f.file_path));
    file.insert("filesize".into(), json!(f.size));
    file.insert("fileid".into(), json!(id));
    file.insert("fileType".into(), json!(f.file_type));
    file.insert("certfile".into(), json!(f.certfile));
    if req.uses_http() {
        file.insert(
            "update_data_url".into(),
            json!(presigned_url_placeholder(
                f.region,
                f.bucket,
                f.key,
                f.version_id
            )),
        );
        file.insert("auth_scheme".into(), json!("aws.s3.presigned"));
    }
    file.insert(sig_key, json!(f.signature));
    Ok(Value::Object(file))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{validate, RequestContext};
    use crate::tags::parse_tags;
    use time::macros::datetime;

    fn request(protocols: &str, extra: &[(&str, &str)]) -> OtaRequest {
        let mut tags = vec![
            ("ota:targets".to_string(), "thinggroup/Lab".to_string()),
            ("ota:profile".to_string(), "OtaProfile".to_string()),
            ("ota:protocols".to_string(), protocols.to_string()),
        ];
        tags.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let (spec, p) = parse_tags(&tags);
        assert!(p.is_empty(), "{p}");
        validate(&spec, &context()).unwrap()
    }

    fn context() -> RequestContext {
        RequestContext {
            partition: "aws".into(),
            region: "us-east-1".into(),
            account: "123456789012".into(),
            bucket: "fw".into(),
            key: "firmware/app.bin".into(),
            version_id: "v1".into(),
            upload_time: datetime!(2026-11-22 10:00 UTC),
        }
    }

    fn facts(stream: Option<&'static str>) -> FileFacts<'static> {
        FileFacts {
            bucket: "fw",
            key: "firmware/app v1.bin",
            version_id: "3HL4kq/tJ+",
            region: "us-east-1",
            size: 366816,
            signature: "MEUCIQ==",
            signature_algorithm: "SHA256withECDSA",
            certfile: "ecdsasigner.crt",
            stream_id: stream,
        }
    }

    #[test]
    fn mqtt_is_create_ota_updates_shape_without_nulls() {
        let (doc, text) = build(&request("MQTT", &[]), &facts(Some("AFR_OTA-app-1"))).unwrap();
        let expected: Value = serde_json::from_str(
            r#"{"afr_ota":{"protocols":["MQTT"],"streamname":"AFR_OTA-app-1","files":[{
              "filepath":"app v1.bin","filesize":366816,"fileid":0,"fileType":0,
              "certfile":"ecdsasigner.crt","sig-sha256-ecdsa":"MEUCIQ=="}]}}"#,
        )
        .unwrap();
        assert_eq!(doc, expected);
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), expected);
        assert!(
            !text.contains("null") && !text.contains(": ") && !text.contains("\n"),
            "{text}"
        );
    }

    #[test]
    fn http_matches_create_ota_update_with_a_pinned_placeholder() {
        let (doc, _) = build(
            &request("HTTP", &[("ota:file-path", "/ota/app.bin")]),
            &facts(None),
        )
        .unwrap();
        let expected: Value = serde_json::from_str(
            r#"{"afr_ota":{"protocols":["HTTP"],"files":[{
              "filepath":"/ota/app.bin","filesize":366816,"fileid":0,"fileType":0,"certfile":"ecdsasigner.crt",
              "update_data_url":"${aws:iot:s3-presigned-url-v2:https://s3.us-east-1.amazonaws.com/fw/firmware/app%20v1.bin%3FversionId%3D3HL4kq%2FtJ%2B}",
              "auth_scheme":"aws.s3.presigned","sig-sha256-ecdsa":"MEUCIQ=="}]}}"#,
        )
        .unwrap();
        assert_eq!(doc, expected);
    }

    #[test]
    fn mqtt_and_http_carry_both() {
        let (doc, _) = build(
            &request("MQTT HTTP", &[("ota:file-type", "2")]),
            &facts(Some("AFR_OTA-app-1")),
        )
        .unwrap();
        let ota = &doc["afr_ota"];
        assert_eq!(ota["protocols"], json!(["MQTT", "HTTP"]));
        assert_eq!(ota["streamname"], "AFR_OTA-app-1");
        assert_eq!(ota["files"][0]["auth_scheme"], "aws.s3.presigned");
        assert_eq!(ota["files"][0]["fileType"], 2);
        assert!(ota["files"][0].get("filetype").is_none());
        assert!(ota["files"][0]["update_data_url"]
            .as_str()
            .unwrap()
            .contains("%3FversionId%3D"));
    }

    #[test]
    fn the_placeholder_has_the_documented_versioned_form_and_the_partitions_host() {
        assert_eq!(
            presigned_url_placeholder("us-east-1", "fw", "firmware/über v1+rc.bin", "a.b_c"),
            "${aws:iot:s3-presigned-url-v2:https://s3.us-east-1.amazonaws.com/fw/firmware/%C3%BCber%20v1%2Brc.bin%3FversionId%3Da.b_c}"
        );
        assert!(
            presigned_url_placeholder("cn-north-1", "fw", "k", "v").starts_with(
                "${aws:iot:s3-presigned-url-v2:https://s3.cn-north-1.amazonaws.com.cn/fw/k"
            )
        );
        assert!(
            presigned_url_placeholder("us-gov-west-1", "fw", "k", "v").starts_with(
                "${aws:iot:s3-presigned-url-v2:https://s3.us-gov-west-1.amazonaws.com/fw/k"
            )
        );
    }

    #[test]
    fn signature_key_follows_the_algorithm() {
        let mut f = facts(Some("s"));
        f.signature_algorithm = "SHA1withRSA";
        let (doc, _) = build(&request("MQTT", &[]), &f).unwrap();
        assert_eq!(doc["afr_ota"]["files"][0]["sig-sha1-rsa"], "MEUCIQ==");
        f.signature_algorithm = "ROT13";
        assert_eq!(
            build(&request("MQTT", &[]), &f).unwrap_err().error_type(),
            "SignedObjectInvalid"
        );
    }

    #[test]
    fn a_document_that_fits_only_a_short_signature_is_refused_before_signing() {
        let r = request("MQTT HTTP", &[]);
        let f = facts(Some("AFR_OTA-app-1"));
        let base = build(
            &r,
            &FileFacts {
                certfile: "",
                ..f.clone()
            },
        )
        .unwrap()
        .1
        .len();
        // Room for today's 8-character signature but not for 512.
        let tight = "c".repeat(MAX_DOCUMENT_BYTES - base - 100);
        let f = FileFacts {
            certfile: &tight,
            ..f
        };
        assert!(build(&r, &f).is_ok());
        let e = check_fits_any_signature(&r, &f, "ota:profile").unwrap_err();
        assert_eq!(e.error_type(), "InvalidRequest");
        assert_eq!(e.problems()[0].field, "ota:profile");
        assert!(e.to_string().contains("the certificate path"), "{e}");
        // With room for the largest signature it passes.
        let roomy = "c".repeat(MAX_DOCUMENT_BYTES - base - MAX_SIGNATURE_CHARS - 20);
        check_fits_any_signature(
            &r,
            &FileFacts {
                certfile: &roomy,
                ..f
            },
            "x",
        )
        .unwrap();
        assert_eq!(MAX_SIGNATURE_CHARS, 512);
    }

    #[test]
    fn oversize_document_is_rejected() {
        let mut r = request("MQTT", &[]);
        r.file_path = Some("p".repeat(MAX_DOCUMENT_BYTES));
        let e = build(&r, &facts(Some("s"))).unwrap_err();
        assert_eq!(e.error_type(), "InvalidRequest");
        assert!(e.to_string().contains("at most 32768"));
    }

    #[test]
    fn aws_fota_is_nordics_shape_with_the_versioned_placeholder_and_no_signature() {
        let r = request_with_targets(&[
            ("ota:format", "aws_fota"),
            ("ota:firmware-version", "v1.4.0"),
        ]);
        let (doc, text) = build(&r, &facts(None)).unwrap();
        let expected: Value = serde_json::from_str(
            r#"{"operation":"app_fw_update","fwversion":"v1.4.0","size":366816,"location":{
              "url":"${aws:iot:s3-presigned-url-v2:https://s3.us-east-1.amazonaws.com/fw/firmware/app%20v1.bin%3FversionId%3D3HL4kq%2FtJ%2B}"}}"#,
        )
        .unwrap();
        assert_eq!(doc, expected);
        assert!(
            !text.contains("null") && !text.contains("afr_ota"),
            "{text}"
        );
        // Without a version there is no fwversion (never a null).
        let (doc, _) = build(
            &request_with_targets(&[("ota:format", "aws_fota")]),
            &facts(None),
        )
        .unwrap();
        assert!(doc.get("fwversion").is_none(), "{doc}");
    }

    fn request_with_targets(extra: &[(&str, &str)]) -> OtaRequest {
        let mut tags = vec![("ota:targets".to_string(), "thinggroup/Nrf".to_string())];
        tags.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let (spec, p) = parse_tags(&tags);
        assert!(p.is_empty(), "{p}");
        validate(&spec, &context()).unwrap()
    }
}
