//! S3's own tag rules: at most 10 tags per object, keys of 1 to 128 and
//! values of at most 256 characters, only letters, digits, spaces and
//! `+ - = . _ : / @`; and the URL-encoded form PutObject takes.

use crate::error::Problems;
use crate::values::percent_encode;

pub const MAX_TAGS: usize = 10;
pub const MAX_KEY_LEN: usize = 128;
pub const MAX_VALUE_LEN: usize = 256;

/// Whether S3 accepts this character in a tag key or value.
pub fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || c == ' ' || "+-=._:/@".contains(c)
}

/// Checks S3's own tag rules: count, lengths, characters.
pub fn check_s3_tag_rules(tags: &[(String, String)]) -> Problems {
    let mut p = Problems::default();
    if tags.len() > MAX_TAGS {
        p.push(
            "tags",
            format!("{} tags; S3 allows at most {MAX_TAGS} per object (move the rest into a manifest: ota:manifest)", tags.len()),
        );
    }
    for (k, v) in tags {
        // A problem names its tag; an empty key has no name to give.
        let field = if k.is_empty() {
            "(empty tag key)".to_string()
        } else {
            k.clone()
        };
        if k.is_empty() || k.chars().count() > MAX_KEY_LEN {
            p.push(
                field.clone(),
                format!("tag key must be 1 to {MAX_KEY_LEN} characters"),
            );
        }
        if v.chars().count() > MAX_VALUE_LEN {
            p.push(
                field.clone(),
                format!(
                    "value is {} characters; S3 allows at most {MAX_VALUE_LEN}",
                    v.chars().count()
                ),
            );
        }
        if let Some(c) = k.chars().chain(v.chars()).find(|c| !is_tag_char(*c)) {
            p.push(
                field,
                format!("'{c}' is not allowed in S3 tags; use letters, digits, spaces and + - = . _ : / @"),
            );
        }
    }
    p
}

/// The URL-encoded `k=v&k=v` form S3's PutObject `x-amz-tagging` takes.
pub fn tagging_string(tags: &[(String, String)]) -> String {
    let enc = |s: &str| percent_encode(s, b"-_.~");
    tags.iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tags::test_support::t;

    #[test]
    fn s3_rules_are_checked() {
        let many: Vec<(String, String)> = (0..11).map(|i| (format!("k{i}"), "v".into())).collect();
        assert!(check_s3_tag_rules(&many).0[0]
            .message
            .contains("at most 10"));
        let long = t(&[("ota:description", &"a".repeat(257))]);
        assert!(!check_s3_tag_rules(&long).is_empty());
        let ok = t(&[("ota:description", &"a".repeat(256))]);
        assert!(check_s3_tag_rules(&ok).is_empty());
        assert!(!check_s3_tag_rules(&t(&[("ota:windows", "cron(0 2 ? * SUN *)")])).is_empty());
    }

    #[test]
    fn tagging_string_is_url_encoded() {
        assert_eq!(
            tagging_string(&t(&[
                ("ota:targets", "thinggroup/Lab thing/x"),
                ("ota:retry", "FAILED:2")
            ])),
            "ota%3Atargets=thinggroup%2FLab%20thing%2Fx&ota%3Aretry=FAILED%3A2"
        );
    }
}
