//! Free text and paths: the job description, device paths, and percent-encoding.

/// A file path on the device (or a certificate path): printable, 1..=1024.
pub fn parse_device_path(s: &str) -> Result<String, String> {
    if s.is_empty() || s.len() > 1024 || s.chars().any(char::is_control) {
        Err(format!(
            "'{s}' is not a device path: 1 to 1024 printable characters"
        ))
    } else {
        Ok(s.to_string())
    }
}

/// Percent-encodes every byte but ASCII letters, digits and `keep`.
pub fn percent_encode(s: &str, keep: &[u8]) -> String {
    let mut o = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || keep.contains(&b) {
            o.push(b as char);
        } else {
            o += &format!("%{b:02X}");
        }
    }
    o
}

/// A job description: at most 2028 characters, no control characters.
pub fn parse_description(s: &str) -> Result<String, String> {
    if s.is_empty() || s.chars().count() > 2028 || s.chars().any(char::is_control) {
        Err("must be 1 to 2028 characters with no control characters".into())
    } else {
        Ok(s.to_string())
    }
}
