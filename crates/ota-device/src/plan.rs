//! The received document -> what to download and how to check it, as the
//! device library the agent stands in for reads it. First the family's
//! acceptance rules (ota_core::devices): what the library would reject, the
//! agent rejects with the same reason. Then the transport the library would
//! choose: the Jobs OTA parser takes `protocols[0]` (job_parser.c), the
//! FreeRTOS agent's default build MQTT; Nordic's library always HTTP
//! (`location.url`).

use ota_core::devices::{check, check_nrf_with, DeviceFamily, NrfLimits};
use serde_json::Value;

/// Where the file comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// An HTTP(S) URL (a presigned URL IoT substituted).
    Http { url: String },
    /// File `file_id` of the MQTT stream `stream`.
    Stream { stream: String, file_id: u8 },
}

/// What the device will fetch and check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub source: Source,
    /// The size the document announces.
    pub size: u64,
    /// The file name under the agent's output directory.
    pub file_name: String,
    /// The signature to verify: its document key (`sig-sha256-ecdsa`) and
    /// the base64 value. None for Nordic, whose document has none (MCUboot
    /// checks the image on the device).
    pub signature: Option<(String, String)>,
}

impl Plan {
    /// Where the file comes from, for logs: the URL's host (never the
    /// query: it carries credentials), or the stream.
    pub fn source_shown(&self) -> String {
        match &self.source {
            Source::Http { url } => {
                let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
                format!(
                    "https host {}",
                    rest.split(['/', '?']).next().unwrap_or_default()
                )
            }
            Source::Stream { stream, file_id } => format!("MQTT stream {stream} file {file_id}"),
        }
    }
}

/// Why the agent will not take a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The library would reject the document: its findings.
    Rejected(Vec<String>),
    /// The library would download over MQTT, and the agent is connected
    /// over HTTPS only.
    MqttOnly,
    /// Not an update in this family's format (no `afr_ota`, no `location`):
    /// the library hands it to the application.
    NotAnUpdate,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Rejected(findings) => {
                write!(f, "document rejected: {}", findings.join("; "))
            }
            Refusal::MqttOnly => f.write_str("the library would download over MQTT"),
            Refusal::NotAnUpdate => f.write_str("not an update in this family's format"),
        }
    }
}

/// Judges `document` (the job document as received) for `family` and
/// plans its first file ([`plan_files`] with [`Files::First`]).
pub fn plan(
    family: DeviceFamily,
    nrf: &NrfLimits,
    job_id: &str,
    document: &Value,
    mqtt: bool,
) -> Result<Plan, Refusal> {
    let mut plans = plan_files(family, nrf, job_id, document, mqtt, Files::First)?;
    if plans.is_empty() {
        return Err(Refusal::Rejected(
            vec!["the document lists no files".into()],
        ));
    }
    Ok(plans.remove(0))
}

/// Judges `document` (the job document as received) for `family`; a
/// Nordic device with the Kconfig buffers `nrf` (the library's defaults
/// unless the device was built with others). `mqtt`: the agent has an MQTT
/// connection (else a document the library would stream is left alone).
/// The plan of each file taken (`files`), in the document's order.
pub fn plan_files(
    family: DeviceFamily,
    nrf: &NrfLimits,
    job_id: &str,
    document: &Value,
    mqtt: bool,
    files: Files,
) -> Result<Vec<Plan>, Refusal> {
    let shape = match family {
        DeviceFamily::NrfAwsFota => "location",
        _ => "afr_ota",
    };
    if !document.get(shape).is_some_and(Value::is_object) {
        return Err(Refusal::NotAnUpdate);
    }
    let findings = match family {
        DeviceFamily::NrfAwsFota => check_nrf_with(nrf, job_id, document),
        _ => check(family, job_id, document),
    };
    if !findings.is_empty() {
        return Err(Refusal::Rejected(
            findings.iter().map(ToString::to_string).collect(),
        ));
    }
    match family {
        DeviceFamily::NrfAwsFota => nordic(job_id, document).map(|p| vec![p]),
        DeviceFamily::AwsIotJobsParser | DeviceFamily::FreertosOtaAgent => {
            afr_ota(family, document, mqtt, files)
        }
    }
}

fn nordic(job_id: &str, document: &Value) -> Result<Plan, Refusal> {
    let url = document["location"]["url"].as_str().unwrap_or_default();
    if url.is_empty() {
        // host + path (NCS 1.x documents): not what this pipeline writes.
        return Err(Refusal::Rejected(vec![
            "nrf-aws-fota: this agent follows location.url only (NCS 2.x)".into(),
        ]));
    }
    Ok(Plan {
        source: Source::Http {
            url: url.to_string(),
        },
        size: document["size"].as_u64().unwrap_or(0),
        file_name: format!("{job_id}.bin"),
        signature: None,
    })
}

/// Which files of an `afr_ota` document the device takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Files {
    /// `files[0]` only: what the FreeRTOS OTA agent always does
    /// (ota_private.h L65 `OTA_MAX_FILES 1U`), and the default.
    #[default]
    First,
    /// Every entry, in order: what an application on the AWS IoT Jobs OTA
    /// parser does when it loops over `otaParser_parseJobDocFile`, which
    /// returns `fileIndex + 1` while `afr_ota.files[fileIndex + 1]` exists
    /// and 0 after the last (Jobs-for-AWS-IoT-embedded-sdk v1.5.1
    /// ota_job_processor.c L34-58, L54; the loop is its header's example).
    /// The FreeRTOS agent takes the first (and, judged by its rules, refuses
    /// a document of several: ota_core::devices `files-first-only`).
    All,
}

fn afr_ota(
    family: DeviceFamily,
    document: &Value,
    mqtt: bool,
    files: Files,
) -> Result<Vec<Plan>, Refusal> {
    let ota = &document["afr_ota"];
    let first_protocol = ota["protocols"][0].as_str().unwrap_or_default();
    // The Jobs parser takes protocols[0]; the FreeRTOS agent's default build
    // takes MQTT whenever it is offered (ota_interface.c L85-86; an HTTP-only
    // document is already a finding of its rules).
    let http = match family {
        DeviceFamily::FreertosOtaAgent => false,
        _ => first_protocol == "HTTP",
    };
    if !http && !mqtt {
        return Err(Refusal::MqttOnly);
    }
    let entries = ota["files"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let taken = match (family, files) {
        (DeviceFamily::AwsIotJobsParser, Files::All) => entries.len(),
        _ => entries.len().min(1),
    };
    let mut plans: Vec<Plan> = Vec::new();
    for (i, file) in entries[..taken].iter().enumerate() {
        let mut plan = afr_ota_file(ota, file, http);
        // Two device paths with one base name (/a/app.bin, /b/app.bin)
        // would overwrite each other under the output directory.
        if plans.iter().any(|p| p.file_name == plan.file_name) {
            plan.file_name = format!("file{i}-{}", plan.file_name);
        }
        plans.push(plan);
    }
    Ok(plans)
}

/// One `files[]` entry: where it comes from, its size, name and signature.
fn afr_ota_file(ota: &Value, file: &Value, http: bool) -> Plan {
    let source = if http {
        Source::Http {
            url: file["update_data_url"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        }
    } else {
        Source::Stream {
            stream: ota["streamname"].as_str().unwrap_or_default().to_string(),
            file_id: file["fileid"]
                .as_u64()
                .and_then(|f| u8::try_from(f).ok())
                .unwrap_or(0),
        }
    };
    let signature = file.as_object().and_then(|m| {
        m.iter()
            .find(|(k, _)| k.starts_with("sig-"))
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
    });
    let path = file["filepath"].as_str().unwrap_or_default();
    let file_name = path
        .rsplit('/')
        .find(|n| !n.is_empty() && *n != "." && *n != "..")
        .unwrap_or("firmware.bin")
        .to_string();
    Plan {
        source,
        size: file["filesize"].as_u64().unwrap_or(0),
        file_name,
        signature,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const JOB: &str = "AFR_OTA-app-1a2b3c4d5e6f";

    fn http_doc(protocols: Value) -> Value {
        json!({"afr_ota": {"protocols": protocols, "streamname": "AFR_OTA-s", "files": [{
            "filepath": "/ota/../app.bin", "filesize": 1000, "fileid": 0, "fileType": 0,
            "certfile": "c.crt", "update_data_url": "https://s3.example/fw/app.bin?X-Amz-Signature=abc",
            "auth_scheme": "aws.s3.presigned", "sig-sha256-ecdsa": "MEUCIQ=="}]}})
    }

    #[test]
    fn the_jobs_parser_downloads_over_http_when_it_comes_first() {
        let p = plan(
            DeviceFamily::AwsIotJobsParser,
            &NrfLimits::default(),
            JOB,
            &http_doc(json!(["HTTP", "MQTT"])),
            false,
        )
        .unwrap();
        assert_eq!(p.size, 1000);
        assert_eq!(
            p.file_name, "app.bin",
            "no path escapes the output directory"
        );
        assert_eq!(
            p.signature,
            Some(("sig-sha256-ecdsa".into(), "MEUCIQ==".into()))
        );
        assert_eq!(p.source_shown(), "https host s3.example");
        assert_eq!(
            plan(
                DeviceFamily::AwsIotJobsParser,
                &NrfLimits::default(),
                JOB,
                &http_doc(json!(["MQTT", "HTTP"])),
                false
            ),
            Err(Refusal::MqttOnly)
        );
    }

    #[test]
    fn what_the_library_rejects_is_rejected_with_its_rule() {
        let mut doc = http_doc(json!(["HTTP"]));
        let file = doc["afr_ota"]["files"][0].as_object_mut().unwrap();
        let sig = file.remove("sig-sha256-ecdsa").unwrap();
        file.insert("sig-sha256-rsa".into(), sig);
        match plan(
            DeviceFamily::AwsIotJobsParser,
            &NrfLimits::default(),
            JOB,
            &doc,
            false,
        ) {
            Err(Refusal::Rejected(f)) => {
                assert!(f[0].contains("signature-sha256-ecdsa"), "{f:?}")
            }
            other => panic!("{other:?}"),
        }
        // An afr_ota document for Nordic (its library answers "invalid
        // document"), or a custom job for the Jobs parser: not an update,
        // left to the application.
        let r = plan(
            DeviceFamily::NrfAwsFota,
            &NrfLimits::default(),
            JOB,
            &http_doc(json!(["HTTP"])),
            false,
        );
        assert_eq!(r, Err(Refusal::NotAnUpdate));
        let custom = json!({"operation": "reboot"});
        let r = plan(
            DeviceFamily::AwsIotJobsParser,
            &NrfLimits::default(),
            JOB,
            &custom,
            false,
        );
        assert_eq!(r, Err(Refusal::NotAnUpdate));
    }

    #[test]
    fn nordic_follows_location_url_and_has_no_signature() {
        let doc = json!({"operation": "app_fw_update", "size": 4000,
            "location": {"url": "http://127.0.0.1:4566/fw/nrf.bin?versionId=v1"}});
        let p = plan(
            DeviceFamily::NrfAwsFota,
            &NrfLimits::default(),
            JOB,
            &doc,
            true,
        )
        .unwrap();
        assert_eq!((p.size, p.signature.clone()), (4000, None));
        assert_eq!(p.file_name, format!("{JOB}.bin"));
    }

    #[test]
    fn with_mqtt_the_document_s_stream_is_followed_as_the_library_would() {
        let doc = http_doc(json!(["MQTT", "HTTP"]));
        for family in [
            DeviceFamily::AwsIotJobsParser,
            DeviceFamily::FreertosOtaAgent,
        ] {
            let p = plan(family, &NrfLimits::default(), JOB, &doc, true).unwrap();
            assert_eq!(
                p.source,
                Source::Stream {
                    stream: "AFR_OTA-s".into(),
                    file_id: 0
                },
                "{family}"
            );
        }
        // The Jobs parser still takes protocols[0] when it is HTTP.
        let p = plan(
            DeviceFamily::AwsIotJobsParser,
            &NrfLimits::default(),
            JOB,
            &http_doc(json!(["HTTP", "MQTT"])),
            true,
        )
        .unwrap();
        assert!(matches!(p.source, Source::Http { .. }), "{p:?}");
    }

    #[test]
    fn told_to_take_every_file_the_jobs_parser_plans_each_and_freertos_only_the_first() {
        let mut doc = http_doc(json!(["MQTT"]));
        let mut second = doc["afr_ota"]["files"][0].clone();
        second["fileid"] = json!(1);
        second["filesize"] = json!(20);
        second["filepath"] = json!("/radio/app.bin");
        second["sig-sha256-ecdsa"] = json!("MEYCIQ==");
        doc["afr_ota"]["files"].as_array_mut().unwrap().push(second);
        let plans = |family, files| {
            plan_files(family, &NrfLimits::default(), JOB, &doc, true, files).unwrap()
        };
        let all = plans(DeviceFamily::AwsIotJobsParser, Files::All);
        let taken: Vec<(&Source, u64, &str)> = all
            .iter()
            .map(|p| (&p.source, p.size, p.file_name.as_str()))
            .collect();
        let stream = |file_id| Source::Stream {
            stream: "AFR_OTA-s".into(),
            file_id,
        };
        assert_eq!(
            taken,
            [
                (&stream(0), 1000, "app.bin"),
                // Same base name, another device path: not written over
                // the first under the output directory.
                (&stream(1), 20, "file1-app.bin"),
            ]
        );
        assert_eq!(
            all[1].signature,
            Some(("sig-sha256-ecdsa".into(), "MEYCIQ==".into())),
            "each file is checked with its own signature"
        );
        assert_eq!(plans(DeviceFamily::AwsIotJobsParser, Files::First).len(), 1);
        // OTA_MAX_FILES 1U: as the FreeRTOS agent this agent reports the
        // rule (ota_core::devices) rather than take part of a release.
        match plan_files(
            DeviceFamily::FreertosOtaAgent,
            &NrfLimits::default(),
            JOB,
            &doc,
            true,
            Files::All,
        ) {
            Err(Refusal::Rejected(f)) => assert!(f[0].contains("files-first-only"), "{f:?}"),
            other => panic!("{other:?}"),
        }
    }
}
