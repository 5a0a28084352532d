//! How devices fetch the file: the protocols (MQTT unless given) and, with
//! HTTP, the presigned URL lifetime.

use super::DEFAULT_PRESIGNED_EXPIRY_SECONDS;
use crate::error::Problems;
use crate::spec::RequestSpec;
use crate::values::Protocol;

/// The protocols given, or MQTT alone.
pub(super) fn protocols(spec: &RequestSpec) -> Vec<Protocol> {
    spec.protocols
        .clone()
        .unwrap_or_else(|| vec![Protocol::Mqtt])
}

/// The presigned URL lifetime: set (3600 unless given) when HTTP is used,
/// and a problem when given without HTTP.
pub(super) fn presigned_expiry(
    spec: &RequestSpec,
    protocols: &[Protocol],
    p: &mut Problems,
) -> Option<u32> {
    // Presigned URLs belong to HTTP.
    if protocols.contains(&Protocol::Http) {
        Some(
            spec.presigned_expiry_seconds
                .unwrap_or(DEFAULT_PRESIGNED_EXPIRY_SECONDS),
        )
    } else {
        // With malformed ota:protocols (reported already) nobody knows
        // whether HTTP was meant.
        if spec.presigned_expiry_seconds.is_some() && !spec.is_unparsed("protocols") {
            p.push(
                spec.source_of("presigned_expiry_seconds"),
                "applies only when ota:protocols includes HTTP",
            );
        }
        None
    }
}
