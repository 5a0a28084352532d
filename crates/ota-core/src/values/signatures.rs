//! Pre-signed firmware: the signature, its algorithm, and the job document key
//! the algorithm names.

/// The largest signature, decoded, that device OTA parsers accept.
pub const MAX_SIGNATURE_BYTES: usize = 384;

/// A base64 signature (standard alphabet, padded), 1..=384 bytes decoded.
pub fn parse_signature(s: &str) -> Result<String, String> {
    use base64::Engine;
    match base64::engine::general_purpose::STANDARD.decode(s) {
        Ok(b) if !b.is_empty() && b.len() <= MAX_SIGNATURE_BYTES => Ok(s.to_string()),
        Ok(b) if b.is_empty() => Err("is empty; expected a base64 signature".into()),
        Ok(b) => Err(format!(
            "decodes to {} bytes; devices accept at most {MAX_SIGNATURE_BYTES}",
            b.len()
        )),
        Err(_) => Err("is not standard base64 (A-Z a-z 0-9 + / with = padding)".into()),
    }
}

/// A signature algorithm as the signer names it: `SHA256withECDSA`.
pub fn parse_signature_algorithm(s: &str) -> Result<String, String> {
    signature_key(s).map(|_| s.to_string())
}

/// The job document key for a signature algorithm:
/// `SHA256withECDSA` -> `sig-sha256-ecdsa`, `SHA1withRSA` -> `sig-sha1-rsa`.
pub fn signature_key(algorithm: &str) -> Result<String, String> {
    let err = || {
        format!(
            "'{algorithm}' is not a signature algorithm; expected SHA<bits>with<ECDSA|RSA>, e.g. SHA256withECDSA or SHA1withRSA"
        )
    };
    let (hash, sig) = algorithm.split_once("with").ok_or_else(err)?;
    let bits = hash.strip_prefix("SHA").ok_or_else(err)?;
    if !matches!(bits, "1" | "224" | "256" | "384" | "512") || !matches!(sig, "ECDSA" | "RSA") {
        return Err(err());
    }
    Ok(format!("sig-sha{bits}-{}", sig.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_keys() {
        assert_eq!(
            signature_key("SHA256withECDSA").unwrap(),
            "sig-sha256-ecdsa"
        );
        assert_eq!(signature_key("SHA1withRSA").unwrap(), "sig-sha1-rsa");
        assert_eq!(signature_key("SHA384withRSA").unwrap(), "sig-sha384-rsa");
        assert!(signature_key("MD5withRSA").is_err());
        assert!(signature_key("SHA256").is_err());
        assert!(signature_key("SHA256withDSA").is_err());
    }
}
