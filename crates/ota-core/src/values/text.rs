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

/// The firmware version an `aws_fota` document carries for the application
/// (`fwversion`): 1 to 256 characters (an S3 tag value's limit) with no
/// Unicode category C character, as descriptions. No Nordic library reads
/// it (crate::devices::nrf), so nothing narrower applies; the whole message
/// is still held to the device's payload size by the device rules.
pub fn parse_firmware_version(s: &str) -> Result<String, String> {
    if s.is_empty() || s.chars().count() > 256 || s.chars().any(is_refused_in_description) {
        Err(format!(
            "'{s}' is not a firmware version: 1 to 256 characters with no control, format, private-use or unassigned character, e.g. v1.4.0"
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

/// Whether IoT refuses `c` in a job description: any character of Unicode
/// general category C (Cc control, Cf format such as U+200B ZERO WIDTH SPACE,
/// Cs surrogate, Co private use, Cn unassigned). The CreateJob API reference
/// gives the description's pattern as `[^\p{C}]+`, at most 2028 characters.
pub fn is_refused_in_description(c: char) -> bool {
    use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};
    c.general_category_group() == GeneralCategoryGroup::Other
}

/// A job description: 1 to 2028 characters, none of Unicode category C.
pub fn parse_description(s: &str) -> Result<String, String> {
    if s.is_empty() || s.chars().count() > 2028 {
        return Err("must be 1 to 2028 characters with no control, format, private-use or unassigned characters (Unicode category C)".into());
    }
    match s.chars().find(|c| is_refused_in_description(*c)) {
        Some(c) => Err(format!(
            "contains U+{:04X}, a control, format, private-use or unassigned character (Unicode category C), which IoT refuses in a description; 1 to 2028 other characters",
            c as u32
        )),
        None => Ok(s.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_refuse_every_category_c_character() {
        assert!(parse_description("Release 1.4, with notes (ünïcödé ✓ 日本)").is_ok());
        for bad in [
            "a\u{7}b",
            "zero\u{200B}width",
            "bom\u{FEFF}",
            "private\u{E000}",
            "unassigned\u{0378}",
            "rtl\u{202E}mark",
        ] {
            let e = parse_description(bad).unwrap_err();
            assert!(
                e.contains("Unicode category C") && e.contains("U+"),
                "{bad:?}: {e}"
            );
        }
        assert!(parse_description("").is_err());
        assert!(parse_description(&"x".repeat(2029)).is_err());
        assert!(parse_description(&"é".repeat(2028)).is_ok());
    }
}
