//! Where the agent's MQTT connection goes: the account's `iot:Data-ATS`
//! host (DescribeEndpoint), with the port and TLS each transport uses on
//! AWS IoT (developer guide, "Device communication protocols": MQTT over
//! mutual TLS on 8883, MQTT over WebSocket on 443).

/// How the agent authenticates decides the port and whether TLS is optional.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Mutual TLS with the thing's certificate.
    MutualTls,
    /// WebSocket with a SigV4-signed upgrade.
    WebSocket,
}

/// A parsed `--iot-endpoint`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub host: String,
    pub port: u16,
    pub tls: bool,
}

/// Parses `HOST`, `HOST:PORT`, or a URL `wss://`, `ws://` (WebSocket) or
/// `mqtts://` (mutual TLS) with an optional port. Without a scheme TLS is
/// `tls_default` (the local emulator serves WebSocket on plain HTTP); mutual
/// TLS is always TLS.
pub fn parse(address: &str, transport: Transport, tls_default: bool) -> Result<Address, String> {
    let (scheme, rest) = match address.split_once("://") {
        Some((s, r)) => (Some(s.to_ascii_lowercase()), r),
        None => (None, address),
    };
    let tls = match (scheme.as_deref(), transport) {
        (None, Transport::MutualTls) => true,
        (None, Transport::WebSocket) => tls_default,
        (Some("mqtts"), Transport::MutualTls) | (Some("wss"), Transport::WebSocket) => true,
        (Some("ws"), Transport::WebSocket) => false,
        (Some(s), Transport::MutualTls) => {
            return Err(format!(
                "{address}: with --cert and --key the agent connects with mutual TLS (mqtts://), not {s}://"
            ))
        }
        (Some(s), Transport::WebSocket) => {
            return Err(format!(
                "{address}: without --cert and --key the agent connects over WebSocket (wss:// or ws://), not {s}://"
            ))
        }
    };
    let rest = rest.trim_end_matches('/');
    if rest.is_empty() || rest.contains('/') {
        return Err(format!("{address}: expected HOST or HOST:PORT"));
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) => {
            let port = p
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| format!("{address}: the port {p:?} is not a number 1-65535"))?;
            (h, port)
        }
        None => (
            rest,
            match (transport, tls) {
                (Transport::MutualTls, _) => 8883,
                (Transport::WebSocket, true) => 443,
                (Transport::WebSocket, false) => 80,
            },
        ),
    };
    if host.is_empty() {
        return Err(format!("{address}: no host"));
    }
    Ok(Address {
        host: host.to_string(),
        port,
        tls,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_ports_by_transport_and_explicit_ports_and_schemes() {
        let host = "a1b2c3-ats.iot.eu-west-1.amazonaws.com";
        let at = |a: &str, t, d| parse(a, t, d).map(|a| (a.host, a.port, a.tls));
        assert_eq!(
            at(host, Transport::MutualTls, true),
            Ok((host.to_string(), 8883, true))
        );
        assert_eq!(
            at(host, Transport::WebSocket, true),
            Ok((host.to_string(), 443, true))
        );
        // The emulator's answer: a host with its (plain HTTP) port.
        assert_eq!(
            at(
                "x-ats.iot.us-east-1.localhost:4566",
                Transport::WebSocket,
                false
            ),
            Ok(("x-ats.iot.us-east-1.localhost".to_string(), 4566, false))
        );
        assert_eq!(
            at("wss://h:8443/", Transport::WebSocket, false),
            Ok(("h".to_string(), 8443, true))
        );
        assert_eq!(
            at("ws://h", Transport::WebSocket, true),
            Ok(("h".to_string(), 80, false))
        );
        assert_eq!(
            at("127.0.0.1:40123", Transport::MutualTls, false),
            Ok(("127.0.0.1".to_string(), 40123, true))
        );
    }

    #[test]
    fn a_scheme_the_transport_cannot_use_or_a_bad_port_is_refused_with_why() {
        let err = |a: &str, t| parse(a, t, true).unwrap_err();
        assert!(err("ws://h", Transport::MutualTls).contains("mutual TLS"));
        assert!(err("mqtts://h", Transport::WebSocket).contains("WebSocket"));
        assert!(err("h:0", Transport::WebSocket).contains("1-65535"));
        assert!(err("h:http", Transport::WebSocket).contains("1-65535"));
        assert!(err("h/mqtt", Transport::WebSocket).contains("HOST:PORT"));
        assert!(err(":8883", Transport::MutualTls).contains("no host"));
    }
}
