//! The AWS IoT Jobs OTA parser used by the modular FreeRTOS OTA
//! (aws/Jobs-for-AWS-IoT-embedded-sdk, `source/otaJobParser/`; v1.4.0-v1.5.1
//! alike, then v2.0.0 and v2.0.1 = f092329). It reads `execution.jobDocument`
//! only. Line numbers are v2.0.1's unless a version is named.

use super::{core_json_text, finding, DeviceFamily, Finding};
use serde_json::Value;

const J: DeviceFamily = DeviceFamily::AwsIotJobsParser;

/// `JOBS_JOBID_MAX_LENGTH 64U` (source/include/jobs.h L73).
pub const MAX_JOB_ID: usize = 64;
/// `fileIndex <= 9U` (ota_job_handler.c L92-106; job_parser.c L234).
pub const MAX_FILES: usize = 10;

/// uintFromString (job_parser.c L480-529): digits only, over the raw text.
fn digits(v: &Value) -> bool {
    let t = core_json_text(v);
    !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())
}

fn valid_job_id(id: &str) -> bool {
    // jobs.c isValidID L149-173, isValidChar L103-134.
    (1..=MAX_JOB_ID).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub fn check(job_id: &str, doc: &Value) -> Vec<Finding> {
    let mut out = Vec::new();
    if !valid_job_id(job_id) {
        out.push(finding(J, "job-id", "jobs.h L73, jobs.c L149-173",
            format!("job id '{job_id}' is not 1-{MAX_JOB_ID} characters of [A-Za-z0-9_-]: the device cannot report its status")));
    }
    let Some(ota) = doc.get("afr_ota") else {
        out.push(finding(
            J,
            "afr-ota-required",
            "ota_job_handler.c L74-82",
            "no afr_ota: not a FreeRTOS OTA job",
        ));
        return out;
    };
    let files = ota
        .get("files")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if files.is_empty() {
        out.push(finding(
            J,
            "files-required",
            "ota_job_handler.c L92-106",
            "afr_ota.files[0] is missing: no file to update",
        ));
    }
    if files.len() > MAX_FILES {
        out.push(finding(
            J,
            "files-max",
            "ota_job_handler.c L92-106, job_parser.c L234",
            format!(
                "{} files; the parser reads at most {MAX_FILES}",
                files.len()
            ),
        ));
    }
    // v1.x and v2.0.0 read protocols[0] only (v1.5.1 job_parser.c
    // L146-181; v2.0.0 L166-174): "MQTT" is MQTT, any other 4-character
    // value HTTP.
    let first = ota
        .get("protocols")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .map(core_json_text);
    let http = first
        .as_deref()
        .is_some_and(|p| p != "MQTT" && p.len() == 4);
    if first.as_deref() == Some("MQTT") {
        let name = ota
            .get("streamname")
            .map(core_json_text)
            .unwrap_or_default();
        if name.is_empty() {
            out.push(finding(
                J,
                "streamname-for-mqtt",
                "job_parser.c L354-379 (v1.5.1 L284-309)",
                "protocols[0] is MQTT but afr_ota.streamname is missing or empty",
            ));
        }
        if ota.get("streamname").is_some_and(|s| !s.is_string()) {
            out.push(finding(
                J,
                "string-not-null",
                "core_json.c L1726-1733",
                format!(
                    "streamname is {}: the parser reads the raw text",
                    ota["streamname"]
                ),
            ));
        }
    }
    for (i, file) in files.iter().take(MAX_FILES).enumerate() {
        for key in ["filesize", "fileid"] {
            match file.get(key) {
                None => out.push(finding(
                    J,
                    "number-required",
                    "job_parser.c L236-263",
                    format!("files[{i}].{key} is missing (required)"),
                )),
                Some(v) if !digits(v) => out.push(finding(
                    J,
                    "number-digits",
                    "job_parser.c L480-529",
                    format!("files[{i}].{key} {v} is not digits"),
                )),
                Some(_) => {}
            }
        }
        for (key, src) in [
            ("filepath", "job_parser.c L268-281"),
            ("certfile", "job_parser.c L286-299"),
        ] {
            match file.get(key) {
                None => out.push(finding(
                    J,
                    if key == "filepath" {
                        "filepath-required"
                    } else {
                        "certfile-required"
                    },
                    src,
                    format!("files[{i}].{key} is missing (required): the document is rejected"),
                )),
                Some(v) if !v.is_string() => out.push(finding(
                    J,
                    "string-not-null",
                    "core_json.c L1726-1733",
                    format!(
                        "files[{i}].{key} is {v}: the parser reads the raw text '{}'",
                        core_json_text(v)
                    ),
                )),
                Some(_) => {}
            }
        }
        if file.get("sig-sha256-ecdsa").is_none() {
            let other: Vec<&String> = file
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k)
                .filter(|k| k.starts_with("sig-"))
                .collect();
            out.push(finding(J, "signature-sha256-ecdsa", "job_parser.c L304-317",
                format!("files[{i}] has no sig-sha256-ecdsa (the only signature key the parser reads){}",
                    if other.is_empty() { String::new() } else { format!("; it has {other:?}") })));
        }
        match file.get("fileType") {
            Some(t) if !digits(t) => out.push(finding(
                J,
                "fileType-digits",
                "job_parser.c L340-351",
                format!("files[{i}].fileType {t} is not digits: the document is rejected"),
            )),
            None if http => out.push(finding(
                J,
                "fileType-for-http",
                "v1.5.1 job_parser.c L322-331",
                format!(
                    "files[{i}] has no fileType: v1.4.0-v1.5.1 reject an HTTP document without it"
                ),
            )),
            _ => {}
        }
        if http {
            if file.get("auth_scheme").is_none() {
                out.push(finding(
                    J,
                    "auth-scheme-for-http",
                    "job_parser.c L392-405 (v1.5.1 L335-349)",
                    format!("protocols[0] is HTTP but files[{i}].auth_scheme is missing"),
                ));
            }
            if file
                .get("update_data_url")
                .map(core_json_text)
                .unwrap_or_default()
                .is_empty()
            {
                out.push(finding(
                    J,
                    "url-for-http",
                    "job_parser.c L409-428 (v1.5.1 L353-373)",
                    format!(
                        "protocols[0] is HTTP but files[{i}].update_data_url is missing or empty"
                    ),
                ));
            }
            for key in ["auth_scheme", "update_data_url"] {
                if file.get(key).is_some_and(|v| !v.is_string()) {
                    out.push(finding(
                        J,
                        "string-not-null",
                        "core_json.c L1726-1733",
                        format!(
                            "files[{i}].{key} is {}: the parser reads the raw text",
                            file[key]
                        ),
                    ));
                }
            }
        }
    }
    out
}
