//! Names AWS checks by pattern: the job id and the signing profile name.

/// An IoT job id: 1-64 of letters, digits, '-', '_'.
pub fn parse_job_id(s: &str) -> Result<String, String> {
    if (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Ok(s.to_string())
    } else {
        Err(format!(
            "'{s}' is not a job id: 1 to 64 letters, digits, '-' or '_'"
        ))
    }
}

/// A Signer profile name: 2-64 of letters, digits, '_'.
pub fn parse_profile_name(s: &str) -> Result<String, String> {
    if (2..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Ok(s.to_string())
    } else {
        Err(format!(
            "'{s}' is not a signing profile name: 2 to 64 letters, digits or '_'"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::parse_signature;

    #[test]
    fn ids_names_and_signatures() {
        assert!(parse_job_id("AFR_OTA-app-1").is_ok());
        assert!(parse_job_id(&"a".repeat(65)).is_err());
        assert!(parse_job_id("a.b").is_err());
        assert!(parse_job_id("").is_err());
        assert!(parse_profile_name("OtaProfile_1").is_ok());
        assert!(parse_profile_name("a").is_err());
        assert!(parse_profile_name("ota-profile").is_err());
        assert!(parse_signature("MEUCIQ==").is_ok());
        assert!(parse_signature("not base64!").is_err());
        assert!(parse_signature("").is_err());
        use base64::Engine;
        let big = base64::engine::general_purpose::STANDARD.encode([1u8; 385]);
        assert!(parse_signature(&big).unwrap_err().contains("385"));
        let ok = base64::engine::general_purpose::STANDARD.encode([1u8; 384]);
        assert!(parse_signature(&ok).is_ok());
    }
}
