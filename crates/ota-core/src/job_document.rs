//! The job document: the same `afr_ota` shape CreateOTAUpdate writes, so
//! devices (FreeRTOS OTA agent, the AWS IoT Jobs OTA parser, Nordic aws_fota)
//! accept it unchanged.

use crate::error::{invalid, OtaError};
use crate::request::OtaRequest;
use crate::values::signature_key;
use serde_json::{json, Map, Value};

/// CreateJob's limit on the document.
pub const MAX_DOCUMENT_BYTES: usize = 32 * 1024;

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
pub fn presigned_url_placeholder(
    region: &str,
    bucket: &str,
    key: &str,
    version_id: &str,
) -> String {
    format!(
        "${{aws:iot:s3-presigned-url-v2:https://s3.{region}.amazonaws.com/{bucket}/{}?versionId={}}}",
        encode_path(key),
        encode_query(version_id)
    )
}

/// Builds the document, as a JSON value and its compact text (what CreateJob
/// receives). Fails for an unknown signature algorithm or a document over
/// 32 KB.
pub fn build(req: &OtaRequest, f: &FileFacts<'_>) -> Result<(Value, String), OtaError> {
    let sig_key = signature_key(f.signature_algorithm)
        .map_err(|e| OtaError::SignedObjectInvalid(format!("signatureAlgorithm {e}")))?;
    let protocols: Vec<&str> = req.protocols.iter().map(|p| p.as_str()).collect();
    let mut file = Map::new();
    file.insert(
        "filepath".into(),
        req.file_path.as_deref().map_or(Value::Null, |p| json!(p)),
    );
    file.insert("filesize".into(), json!(f.size));
    file.insert("fileid".into(), json!(0));
    if let Some(t) = req.file_type {
        file.insert("filetype".into(), json!(t));
    }
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
    } else {
        file.insert("update_data_url".into(), Value::Null);
        file.insert("auth_scheme".into(), Value::Null);
    }
    file.insert(sig_key, json!(f.signature));
    let mut ota = Map::new();
    ota.insert("protocols".into(), json!(protocols));
    if req.uses_mqtt() {
        let stream = f
            .stream_id
            .ok_or_else(|| OtaError::Internal("MQTT job document without a stream".into()))?;
        ota.insert("streamname".into(), json!(stream));
    }
    ota.insert("files".into(), json!([Value::Object(file)]));
    let doc = json!({ "afr_ota": Value::Object(ota) });
    let text = doc.to_string();
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(invalid(
            "ota:file-path",
            format!(
                "the job document would be {} bytes; CreateJob accepts at most {MAX_DOCUMENT_BYTES}",
                text.len()
            ),
        ));
    }
    Ok((doc, text))
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
        let ctx = RequestContext {
            partition: "aws".into(),
            region: "us-east-1".into(),
            account: "123456789012".into(),
            bucket: "fw".into(),
            key: "firmware/app.bin".into(),
            version_id: "v1".into(),
            upload_time: datetime!(2026-11-22 10:00 UTC),
        };
        validate(&spec, &ctx).unwrap()
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
    fn mqtt_matches_create_ota_update() {
        let (doc, text) = build(&request("MQTT", &[]), &facts(Some("AFR_OTA-app-1"))).unwrap();
        let expected: Value = serde_json::from_str(
            r#"{"afr_ota":{"protocols":["MQTT"],"streamname":"AFR_OTA-app-1","files":[{
              "filepath":null,"filesize":366816,"fileid":0,"certfile":"ecdsasigner.crt",
              "update_data_url":null,"auth_scheme":null,"sig-sha256-ecdsa":"MEUCIQ=="}]}}"#,
        )
        .unwrap();
        assert_eq!(doc, expected);
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), expected);
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
              "filepath":"/ota/app.bin","filesize":366816,"fileid":0,"certfile":"ecdsasigner.crt",
              "update_data_url":"${aws:iot:s3-presigned-url-v2:https://s3.us-east-1.amazonaws.com/fw/firmware/app%20v1.bin?versionId=3HL4kq%2FtJ%2B}",
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
        assert_eq!(ota["files"][0]["filetype"], 2);
        assert!(ota["files"][0]["update_data_url"]
            .as_str()
            .unwrap()
            .contains("versionId="));
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
    fn oversize_document_is_rejected() {
        let mut r = request("MQTT", &[]);
        r.file_path = Some("p".repeat(MAX_DOCUMENT_BYTES));
        let e = build(&r, &facts(Some("s"))).unwrap_err();
        assert_eq!(e.error_type(), "InvalidRequest");
        assert!(e.to_string().contains("at most 32768"));
    }
}
