//! The document format (`ota:format`) and what each format takes: `afr_ota`
//! has a file path, file type and certificate; `aws_fota` (Nordic) has a
//! firmware version, downloads over HTTP only and is not signed by the
//! pipeline. A setting the format has no place for is a problem, never
//! silently dropped.

use crate::error::Problems;
use crate::spec::RequestSpec;
use crate::values::{DocumentFormat, Protocol};

/// Why Nordic updates skip the signer, for messages.
pub(super) const AWS_FOTA_IS_NOT_SIGNED: &str = "an aws_fota update is not signed by the pipeline: nRF devices verify the image with MCUboot, and nothing on them reads an AWS Signer signature";

/// The format given (the stack's DefaultDocumentFormat included), else
/// `afr_ota`; with the fields only the other format has reported.
pub(super) fn format(spec: &RequestSpec, p: &mut Problems) -> DocumentFormat {
    if spec.is_unparsed("format") {
        // Which fields belong is unknown: say nothing more.
        return spec.format.unwrap_or_default();
    }
    let format = spec.format.unwrap_or_default();
    match format {
        DocumentFormat::AfrOta => {
            if spec.firmware_version.is_some() {
                p.push(
                    spec.source_of("firmware_version"),
                    format!(
                        "applies only to ota:format=aws_fota (Nordic's document has fwversion; the afr_ota document has no version field), and the format here is afr_ota (from {})",
                        spec.source_of("format")
                    ),
                );
            }
        }
        DocumentFormat::AwsFota => {
            for field in ["file_path", "file_type"] {
                let set = match field {
                    "file_path" => spec.file_path.is_some(),
                    _ => spec.file_type.is_some(),
                };
                if set && !spec.from_stack(field) {
                    p.push(
                        spec.source_of(field),
                        format!(
                            "applies only to the afr_ota format; the aws_fota document (from {}) has no file entries: the nRF device writes the image to its secondary slot",
                            spec.source_of("format")
                        ),
                    );
                }
            }
        }
    }
    format
}

/// The protocols for `aws_fota`: HTTP alone. The stack's DefaultProtocols
/// is for `afr_ota` updates and does not apply; MQTT from the upload itself
/// is a problem (aws_fota_json.c reads a URL to download; there is no MQTT
/// stream in its document).
pub(super) fn aws_fota_protocols(spec: &RequestSpec, p: &mut Problems) -> Vec<Protocol> {
    if let Some(given) = &spec.protocols {
        if !spec.from_stack("protocols") && given.as_slice() != [Protocol::Http] {
            p.push(
                spec.source_of("protocols"),
                "ota:format=aws_fota downloads over HTTP only (nRF aws_fota reads location.url; there is no MQTT stream for it): give HTTP or leave the protocols out",
            );
        }
    }
    vec![Protocol::Http]
}
