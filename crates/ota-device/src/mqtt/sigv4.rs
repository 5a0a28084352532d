//! The SigV4 query signature of a MQTT-over-WebSocket upgrade, as the AWS
//! IoT device SDKs make it (developer guide, "MQTT over the WebSocket
//! protocol"): `GET /mqtt` signed for service `iotdevicegateway` with only
//! the `host` header, the signature in the query, and the session token
//! (temporary credentials) appended after signing: it is not part of the
//! canonical request.

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, SessionTokenMode, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
};
use aws_sigv4::sign::v4::SigningParams;
use std::time::{Duration, SystemTime};

/// The service name the device gateway checks signatures for.
const SERVICE: &str = "iotdevicegateway";

/// The query string (`X-Amz-Algorithm=...&X-Amz-Signature=...`, and
/// `X-Amz-Security-Token` when the credentials have one) for `GET /mqtt` on
/// `host` (the `Host` header the upgrade sends, with its port if it has one).
pub fn presigned_query(
    credentials: &Credentials,
    region: &str,
    host: &str,
    at: SystemTime,
) -> Result<String, String> {
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(300));
    settings.session_token_mode = SessionTokenMode::Exclude;
    let identity = credentials.clone().into();
    let params = SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(SERVICE)
        .time(at)
        .settings(settings)
        .build()
        .map_err(|e| format!("SigV4 parameters: {e}"))?
        .into();
    let url = format!("https://{host}/mqtt");
    let request = SignableRequest::new(
        "GET",
        &url,
        std::iter::once(("host", host)),
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| format!("SigV4 request: {e}"))?;
    let (instructions, _signature) = sign(request, &params)
        .map_err(|e| format!("SigV4 signing: {e}"))?
        .into_parts();
    let (_headers, query) = instructions.into_parts();
    Ok(query
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&"))
}

/// RFC 3986 unreserved characters stay; everything else is %XX (as SigV4
/// canonical query values are encoded).
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_appended_and_not_signed() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let plain = Credentials::new("AKIDEXAMPLE", "secret", None, None, "t");
        let with_token =
            Credentials::new("AKIDEXAMPLE", "secret", Some("tok/en+=".into()), None, "t");
        let a = presigned_query(&plain, "us-east-1", "h.iot.us-east-1.amazonaws.com", at).unwrap();
        let b = presigned_query(
            &with_token,
            "us-east-1",
            "h.iot.us-east-1.amazonaws.com",
            at,
        )
        .unwrap();
        // The same signature: the token is outside the canonical request.
        let sig = |q: &str| {
            q.split('&')
                .find(|p| p.starts_with("X-Amz-Signature="))
                .unwrap()
                .to_string()
        };
        assert_eq!(sig(&a), sig(&b));
        assert!(b.ends_with("&X-Amz-Security-Token=tok%2Fen%2B%3D"), "{b}");
        assert!(a.contains("X-Amz-Credential=AKIDEXAMPLE%2F20231114%2Fus-east-1%2Fiotdevicegateway%2Faws4_request"), "{a}");
        assert!(a.contains("X-Amz-SignedHeaders=host"), "{a}");
        // A different secret, a different signature.
        let other = Credentials::new("AKIDEXAMPLE", "other", None, None, "t");
        let c = presigned_query(&other, "us-east-1", "h.iot.us-east-1.amazonaws.com", at).unwrap();
        assert_ne!(sig(&a), sig(&c));
    }
}
