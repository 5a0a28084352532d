//! Nordic's nRF Connect SDK AWS FOTA library (nrfconnect/sdk-nrf,
//! `subsys/net/lib/aws_fota/`). Rules follow the cJSON parser that takes
//! `location.url` (the NCS 2.x generation of `src/aws_fota_json.c`; the
//! stored copies do not name their commit, so its line numbers are of that
//! text, marked "2.x"), the default Kconfig (`Kconfig` at f35da31, L16-26)
//! and `aws_fota.c` at 221f28e. `operation`, `fwversion` and `size` are
//! never read by any generation: they are for the application.

use super::{finding, DeviceFamily, Finding};
use serde_json::Value;

const N: DeviceFamily = DeviceFamily::NrfAwsFota;

/// `CONFIG_AWS_FOTA_PAYLOAD_SIZE` default 1350 (Kconfig L16-18): the whole
/// MQTT message (`payload_buf`, aws_fota.c L61; -EMSGSIZE, L151-152).
pub const MAX_MESSAGE: usize = 1350;
/// `CONFIG_AWS_FOTA_HOSTNAME_MAX_LEN` / `_FILE_PATH_MAX_LEN` default 255
/// (Kconfig L20-26), the NUL included.
pub const MAX_HOST: usize = 254;
pub const MAX_FILE_PATH: usize = 254;
/// `AWS_JOBS_JOB_ID_MAX_LEN (64 + 1)` (include/net/aws_jobs.h L57).
pub const MAX_JOB_ID: usize = 64;

/// What IoT adds around the document in the notify-next message (timestamp,
/// jobId, status, queuedAt, lastUpdatedAt, versionNumber,
/// executionNumber): measured on a notify-next message with 10-digit
/// timestamps, without the job id and the document.
const MESSAGE_ENVELOPE: usize = 160;

/// The shortest session token we assume in a URL IoT presigns with role
/// credentials (X-Amz-Security-Token, URL-encoded). Real tokens of an
/// assumed role are longer; this keeps the estimate a lower bound.
pub const MIN_SESSION_TOKEN: usize = 700;

/// What IoT puts in place of `${aws:iot:s3-presigned-url-v2:URL}`: the URL's
/// host and its path with the SigV4 query (Algorithm, Credential, Date,
/// Expires, SignedHeaders, Security-Token, Signature and the versionId),
/// at least. `None` when `text` is not that placeholder.
pub fn presigned_url_estimate(text: &str) -> Option<(usize, usize)> {
    let url = text
        .strip_prefix("${aws:iot:s3-presigned-url-v2:")?
        .strip_suffix('}')?;
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    // key%3FversionId%3Dv becomes key?versionId=v: the same length less 4.
    let path = path.len().saturating_sub(4);
    let query = "&X-Amz-Algorithm=AWS4-HMAC-SHA256".len()
        + "&X-Amz-Credential=ASIAXXXXXXXXXXXXXXXX%2F20260101%2F".len()
        + "us-east-1%2Fs3%2Faws4_request".len()
        + "&X-Amz-Date=20260101T000000Z".len()
        + "&X-Amz-Expires=3600".len()
        + "&X-Amz-SignedHeaders=host".len()
        + "&X-Amz-Security-Token=".len()
        + MIN_SESSION_TOKEN
        + "&X-Amz-Signature=".len()
        + 64;
    Some((host.len(), path + query))
}

/// The Kconfig buffer sizes a device was built with; [`Default`] is the
/// library's defaults (the rules the pipeline applies). A device built with
/// larger ones (`CONFIG_AWS_FOTA_FILE_PATH_MAX_LEN=2048`, as a presigned URL
/// needs) is judged with [`check_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NrfLimits {
    /// `CONFIG_AWS_FOTA_PAYLOAD_SIZE`: the whole MQTT message.
    pub payload_size: usize,
    /// `CONFIG_AWS_FOTA_HOSTNAME_MAX_LEN`, the NUL included.
    pub hostname_max_len: usize,
    /// `CONFIG_AWS_FOTA_FILE_PATH_MAX_LEN`, the NUL included.
    pub file_path_max_len: usize,
}

impl Default for NrfLimits {
    fn default() -> Self {
        NrfLimits {
            payload_size: MAX_MESSAGE,
            hostname_max_len: MAX_HOST + 1,
            file_path_max_len: MAX_FILE_PATH + 1,
        }
    }
}

pub fn check(job_id: &str, doc: &Value) -> Vec<Finding> {
    check_with(&NrfLimits::default(), job_id, doc)
}

/// [`check`] for a device built with `limits`.
pub fn check_with(limits: &NrfLimits, job_id: &str, doc: &Value) -> Vec<Finding> {
    let (max_message, max_host, max_file_path) = (
        limits.payload_size,
        limits.hostname_max_len.saturating_sub(1),
        limits.file_path_max_len.saturating_sub(1),
    );
    let mut out = Vec::new();
    if job_id.len() > MAX_JOB_ID {
        out.push(finding(N, "job-id-length", "aws_jobs.h L57",
            format!("job id is {} characters; the library keeps {MAX_JOB_ID} (truncated, so its status updates name another job)", job_id.len())));
    }
    let message = MESSAGE_ENVELOPE + job_id.len() + doc.to_string().len();
    let Some(location) = doc.get("location").filter(|l| l.is_object()) else {
        out.push(finding(
            N,
            "location-required",
            "aws_fota_json.c (2.x) L116-121, L165-168",
            "no location object: the library answers 'invalid document' (it never reads afr_ota)",
        ));
        return out;
    };
    let text = |k: &str| location.get(k).and_then(Value::as_str);
    if let Some(url) = text("url") {
        let (host, file, estimated) = match presigned_url_estimate(url) {
            Some((h, f)) => (h, f, true),
            None => {
                let rest = url.split_once("://").map_or(url, |(_, r)| r);
                let (h, f) = rest.split_once('/').unwrap_or((rest, ""));
                (h.len(), f.split('#').next().unwrap_or("").len(), false)
            }
        };
        let what = if estimated { "at least " } else { "" };
        if host > max_host {
            out.push(finding(N, "url-host-length", "aws_fota_json.c (2.x) L138-143",
                format!("the URL's host is {what}{host} characters; CONFIG_AWS_FOTA_HOSTNAME_MAX_LEN leaves room for {max_host} (URL_TOO_LONG)")));
        }
        if file > max_file_path {
            out.push(finding(N, "url-path-length", "aws_fota_json.c (2.x) L138-143",
                format!("the URL's path and query are {what}{file} characters (a presigned URL carries its session token); CONFIG_AWS_FOTA_FILE_PATH_MAX_LEN leaves room for {max_file_path} (URL_TOO_LONG): raise it on the device")));
        }
        let substituted = if estimated {
            message - url.len() + host + file + "https:///".len()
        } else {
            message
        };
        if substituted > max_message {
            out.push(finding(N, "message-size", "aws_fota.c L61, L151-152; Kconfig L16-18",
                format!("the Jobs message is {what}{substituted} bytes; CONFIG_AWS_FOTA_PAYLOAD_SIZE takes {max_message} (-EMSGSIZE): raise it on the device")));
        }
        return out;
    }
    match (text("host"), text("path")) {
        (Some(h), Some(p)) => {
            if h.len() > max_host || p.len() > max_file_path {
                out.push(finding(N, "host-path-length", "aws_fota_json.c (2.x) L158-162",
                    format!("host {} and path {} characters; the buffers leave room for {max_host} each (URL_TOO_LONG)", h.len(), p.len())));
            }
        }
        _ => out.push(finding(
            N,
            "url-or-host-path",
            "aws_fota_json.c (2.x) L155-156, L165-168",
            "location has neither a url nor host and path strings: 'invalid document'",
        )),
    }
    if message > max_message {
        out.push(finding(N, "message-size", "aws_fota.c L61, L151-152; Kconfig L16-18",
            format!("the Jobs message is {message} bytes; CONFIG_AWS_FOTA_PAYLOAD_SIZE takes {max_message}")));
    }
    out
}
