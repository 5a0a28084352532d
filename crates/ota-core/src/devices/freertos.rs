//! The FreeRTOS OTA agent (aws/ota-for-aws-iot-embedded-sdk, main 477ee9a;
//! the document model is the same in v2.0.0-v3.4.1): `source/ota.c`
//! parses the whole Jobs message against `otaJobDocModelParamStructure`
//! (L613-636, keys in `source/include/ota_private.h` L137-159). Only the
//! first file is used (`OTA_MAX_FILES 1U`, ota_private.h L65). Rules follow
//! the library's default configuration, which devices may change.

use super::{core_json_text, finding, DeviceFamily, Finding};
use serde_json::Value;

const F: DeviceFamily = DeviceFamily::FreertosOtaAgent;

/// `OTA_JOB_ID_MAX_SIZE (72UL + 1UL)` (ota_private.h L111), copied with
/// room for the NUL (ota.c L1681).
pub const MAX_JOB_ID: usize = 72;
/// `OTA_PROTOCOL_BUFFER_SIZE 20U` (ota_private.h L117): the raw array text
/// and its NUL.
pub const MAX_PROTOCOLS_TEXT: usize = 19;
/// `STREAM_NAME_MAX_LEN 44U` (source/ota_mqtt.c L129; longer trips an
/// assert building the topic, L1061).
pub const MAX_STREAM_NAME: usize = 44;
/// The default block bitmap (`otaconfigMAX_BLOCK_BITMAP_SIZE 128U`, 4 KB
/// blocks: ota_config_defaults.h L97-98, L107-108) covers 4 MiB (ota.c
/// L2264, main after v3.4.1).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 1024 * 4096;
/// `kOTA_MaxSignatureSize 384` (ota_private.h L124; ota.c L1611-1612).
pub const MAX_SIGNATURE_BYTES: usize = 384;

/// UInt32 as the agent reads it: strtoul over the raw text, all of it
/// consumed (ota.c L1737-1746); null, true, 1.5 are DocParseErrInvalidNumChar.
fn uint32(v: &Value) -> Option<u64> {
    let t = core_json_text(v);
    let n: u64 = t.parse().ok()?;
    (n <= u64::from(u32::MAX)).then_some(n)
}

pub fn check(job_id: &str, doc: &Value) -> Vec<Finding> {
    let mut out = Vec::new();
    if job_id.len() > MAX_JOB_ID {
        out.push(finding(
            F,
            "job-id-length",
            "ota_private.h L111, ota.c L1681",
            format!(
                "job id is {} characters; the agent's buffer takes {MAX_JOB_ID}",
                job_id.len()
            ),
        ));
    }
    let Some(ota) = doc.get("afr_ota").filter(|v| v.is_object()) else {
        out.push(finding(
            F,
            "afr-ota-required",
            "ota.c L613-636, L2427",
            "no afr_ota object: not an OTA job, handed to the application's custom-job callback",
        ));
        return out;
    };
    match ota.get("protocols") {
        None => out.push(finding(
            F,
            "protocols-required",
            "ota.c L613-636",
            "afr_ota.protocols is missing (required): the document is malformed",
        )),
        Some(p) => {
            // ArrayCopy: the raw array text, brackets and quotes included.
            let raw = p.to_string();
            if raw.len() > MAX_PROTOCOLS_TEXT {
                out.push(finding(F, "protocols-buffer", "ota_private.h L117, ota.c L639",
                    format!("protocols text {raw} is {} bytes; the agent copies at most {MAX_PROTOCOLS_TEXT}", raw.len())));
            }
            // source/ota_interface.c L85-86: strstr for "\"MQTT\"" and
            // "\"HTTP\""; the default build enables MQTT only
            // (ota_config_defaults.h L292-293), and a job without a usable
            // protocol is aborted (ota.c L965-988).
            if raw.contains("\"MQTT\"") {
                match ota.get("streamname") {
                    Some(s) if s.is_string() => {
                        let n = core_json_text(s).len();
                        if n > MAX_STREAM_NAME {
                            out.push(finding(F, "streamname-length", "ota_mqtt.c L129, L1061",
                                format!("streamname is {n} characters; the agent's stream topics hold {MAX_STREAM_NAME}")));
                        }
                    }
                    Some(_) => out.push(finding(F, "string-not-null", "ota.c L613-636; core_json.c L1726-1733",
                        "streamname is not a string: the agent reads the raw text (null reads as the stream name 'null')")),
                    None => out.push(finding(F, "streamname-for-mqtt", "ota_mqtt.c L1061",
                        "MQTT without afr_ota.streamname: the agent has no stream to request")),
                }
            } else {
                out.push(finding(F, "mqtt-in-default-build", "ota_interface.c L85-86, ota_config_defaults.h L292-293",
                    "no \"MQTT\" in protocols: the agent's default build (configENABLED_DATA_PROTOCOLS = MQTT) aborts the job; only devices built with HTTP enabled take it"));
            }
        }
    }
    let files = ota.get("files").and_then(Value::as_array);
    if let Some(n) = files.map(Vec::len).filter(|n| *n > 1) {
        out.push(finding(F, "files-first-only", "ota_private.h L65, L137-159; ota.c L613-636",
            format!("{n} files: the agent takes only the first (OTA_MAX_FILES 1U; its model's keys are the first file's): the other files are never downloaded")));
    }
    let Some(file) = files.and_then(|a| a.first()) else {
        out.push(finding(F, "files-required", "ota.c L613-636, L1776-1810",
            "afr_ota.files is missing or empty: filesize and fileid (required) are missing, the document is malformed"));
        return out;
    };
    match file.get("filesize").map(uint32) {
        None => out.push(finding(F, "filesize-required", "ota.c L628, L1776-1810", "filesize is missing (required)")),
        Some(None) => out.push(finding(F, "filesize-number", "ota.c L1737-1746",
            format!("filesize {} is not an unsigned 32-bit number", file["filesize"]))),
        Some(Some(0)) => out.push(finding(F, "filesize-nonzero", "ota.c L2259-2262",
            "filesize 0 is refused (OtaJobParseErrZeroFileSize)")),
        Some(Some(n)) if n > DEFAULT_MAX_FILE_SIZE => out.push(finding(F, "filesize-default-max", "ota.c L2264, ota_config_defaults.h L97-98, L107-108",
            format!("filesize {n} is over the {DEFAULT_MAX_FILE_SIZE} bytes the default block bitmap covers (raise otaconfigMAX_BLOCK_BITMAP_SIZE or otaconfigLOG2_FILE_BLOCK_SIZE on the device)"))),
        Some(Some(_)) => {}
    }
    match file.get("fileid").map(uint32) {
        None => out.push(finding(
            F,
            "fileid-required",
            "ota.c L629, L1776-1810",
            "fileid is missing (required)",
        )),
        Some(None) => out.push(finding(
            F,
            "fileid-number",
            "ota.c L1737-1746",
            format!("fileid {} is not an unsigned 32-bit number", file["fileid"]),
        )),
        Some(Some(_)) => {}
    }
    if let Some(t) = file.get("fileType") {
        if uint32(t).is_none() {
            out.push(finding(
                F,
                "fileType-number",
                "ota_private.h L159, ota.c L1737-1746",
                format!("fileType {t} is not an unsigned 32-bit number"),
            ));
        }
    }
    if file.get("filetype").is_some() && file.get("fileType").is_none() {
        out.push(finding(F, "fileType-camel-case", "ota_private.h L159",
            "the key is \"fileType\" (case-sensitive); \"filetype\" is ignored and the file type read as 0"));
    }
    for key in ["filepath", "certfile", "update_data_url", "auth_scheme"] {
        if file.get(key).is_some_and(|v| !v.is_string()) {
            out.push(finding(
                F,
                "string-not-null",
                "ota.c L613-636; core_json.c L1726-1733",
                format!(
                    "{key} is {}: the agent stores the raw text ('{}')",
                    file[key],
                    core_json_text(&file[key])
                ),
            ));
        }
    }
    let sigs: Vec<(&String, &Value)> = file
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| k.starts_with("sig-"))
        .collect();
    for (key, value) in &sigs {
        if key.as_str() != "sig-sha256-ecdsa" {
            out.push(finding(F, "signature-key-of-the-pal", "ota.h L58, L70",
                format!("{key}: the agent reads only the key its PAL names (OTA_JsonFileSignatureKey); almost every port uses sig-sha256-ecdsa")));
        }
        let decoded = value.as_str().map(|s| {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.decode(s)
        });
        match decoded {
            Some(Ok(b)) if !b.is_empty() && b.len() <= MAX_SIGNATURE_BYTES => {}
            Some(Ok(b)) if !b.is_empty() => out.push(finding(
                F,
                "signature-size",
                "ota_private.h L124, ota.c L1611-1612",
                format!(
                    "{key} decodes to {} bytes; the agent holds {MAX_SIGNATURE_BYTES}",
                    b.len()
                ),
            )),
            _ => out.push(finding(
                F,
                "signature-base64",
                "ota_base64.c L194-252",
                format!("{key} is not standard base64"),
            )),
        }
    }
    if sigs.is_empty() {
        out.push(finding(
            F,
            "signature-present",
            "ota.c L633",
            "no signature (sig-*): the agent cannot verify the file and rejects it",
        ));
    }
    out
}
