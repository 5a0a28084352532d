//! Job targets: a thing group, a thing or a full ARN, and the ARN each resolves to.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A job target as written: a thing group, a thing, or a full ARN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target {
    ThingGroup(String),
    Thing(String),
    Arn(String),
}

impl Target {
    /// The ARN CreateJob wants, in the given region and account.
    pub fn to_arn(&self, partition: &str, region: &str, account: &str) -> String {
        match self {
            Target::ThingGroup(n) => {
                format!("arn:{partition}:iot:{region}:{account}:thinggroup/{n}")
            }
            Target::Thing(n) => format!("arn:{partition}:iot:{region}:{account}:thing/{n}"),
            Target::Arn(a) => a.clone(),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::ThingGroup(n) => write!(f, "thinggroup/{n}"),
            Target::Thing(n) => write!(f, "thing/{n}"),
            Target::Arn(a) => f.write_str(a),
        }
    }
}

fn is_thing_name(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'-'))
}

pub fn parse_target(s: &str) -> Result<Target, String> {
    const ALLOWED: &str = "thinggroup/NAME, thing/NAME or arn:aws:iot:REGION:ACCOUNT:thing[group]/NAME, NAME of 1-128 letters, digits, ':', '_', '-'";
    if let Some(name) = s.strip_prefix("thinggroup/") {
        return if is_thing_name(name) {
            Ok(Target::ThingGroup(name.to_string()))
        } else {
            Err(format!("'{s}' is not a valid target; expected {ALLOWED}"))
        };
    }
    if let Some(name) = s.strip_prefix("thing/") {
        return if is_thing_name(name) {
            Ok(Target::Thing(name.to_string()))
        } else {
            Err(format!("'{s}' is not a valid target; expected {ALLOWED}"))
        };
    }
    if s.starts_with("arn:") {
        let parts: Vec<&str> = s.splitn(6, ':').collect();
        let ok = parts.len() == 6
            && parts[1].starts_with("aws")
            && parts[2] == "iot"
            && !parts[3].is_empty()
            && parts[4].len() == 12
            && parts[4].bytes().all(|b| b.is_ascii_digit())
            && match parts[5].split_once('/') {
                Some(("thing", n)) | Some(("thinggroup", n)) => is_thing_name(n),
                _ => false,
            };
        return if ok {
            Ok(Target::Arn(s.to_string()))
        } else {
            Err(format!(
                "'{s}' is not a valid target ARN; expected {ALLOWED}"
            ))
        };
    }
    Err(format!("'{s}' is not a valid target; expected {ALLOWED}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_and_resolve() {
        let t = parse_target("thinggroup/Lab").unwrap();
        assert_eq!(
            t.to_arn("aws", "eu-west-1", "123456789012"),
            "arn:aws:iot:eu-west-1:123456789012:thinggroup/Lab"
        );
        assert_eq!(
            parse_target("thing/dev-7").unwrap(),
            Target::Thing("dev-7".into())
        );
        let arn = "arn:aws:iot:us-east-1:123456789012:thing/dev-7";
        assert_eq!(parse_target(arn).unwrap(), Target::Arn(arn.into()));
        for bad in [
            "Lab",
            "thinggroup/",
            "thinggroup/a b",
            "thing/é",
            "arn:aws:iot:us-east-1:1234:thing/x",
            "arn:aws:s3:us-east-1:123456789012:thing/x",
            "arn:aws:iot:us-east-1:123456789012:job/x",
        ] {
            assert!(parse_target(bad).is_err(), "{bad} accepted");
        }
        assert!(parse_target(&format!("thing/{}", "a".repeat(129))).is_err());
        assert!(parse_target(&format!("thing/{}", "a".repeat(128))).is_ok());
    }
}
