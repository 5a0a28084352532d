//! Package versions to record on the job: `Name@Version` or a package version ARN.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A package version to record on the job: `Name@Version` or its ARN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PackageRef {
    NameVersion { name: String, version: String },
    Arn(String),
}

impl PackageRef {
    pub fn to_arn(&self, partition: &str, region: &str, account: &str) -> String {
        match self {
            PackageRef::NameVersion { name, version } => {
                format!("arn:{partition}:iot:{region}:{account}:package/{name}/version/{version}")
            }
            PackageRef::Arn(a) => a.clone(),
        }
    }
}

impl fmt::Display for PackageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PackageRef::NameVersion { name, version } => write!(f, "{name}@{version}"),
            PackageRef::Arn(a) => f.write_str(a),
        }
    }
}

fn is_package_name(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn is_version_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'+'))
}

pub fn parse_package(s: &str) -> Result<PackageRef, String> {
    let allowed = "NAME@VERSION (NAME: 1-128 of letters, digits, '-', '_', '.'; VERSION: 1-64 of those and '+') or arn:aws:iot:REGION:ACCOUNT:package/NAME/version/VERSION";
    if s.starts_with("arn:") {
        let parts: Vec<&str> = s.splitn(6, ':').collect();
        let resource_ok = parts.len() == 6
            && parts[1].starts_with("aws")
            && parts[2] == "iot"
            && parts[4].len() == 12
            && parts[4].bytes().all(|b| b.is_ascii_digit())
            && {
                let r: Vec<&str> = parts[5].split('/').collect();
                r.len() == 4
                    && r[0] == "package"
                    && is_package_name(r[1])
                    && r[2] == "version"
                    && is_version_name(r[3])
            };
        return if resource_ok {
            Ok(PackageRef::Arn(s.to_string()))
        } else {
            Err(format!(
                "'{s}' is not a package version ARN; expected {allowed}"
            ))
        };
    }
    match s.split_once('@') {
        Some((n, v)) if is_package_name(n) && is_version_name(v) => Ok(PackageRef::NameVersion {
            name: n.to_string(),
            version: v.to_string(),
        }),
        _ => Err(format!(
            "'{s}' is not a package version; expected {allowed}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages() {
        let p = parse_package("MyPkg@1.4.0").unwrap();
        assert_eq!(
            p.to_arn("aws", "us-east-1", "123456789012"),
            "arn:aws:iot:us-east-1:123456789012:package/MyPkg/version/1.4.0"
        );
        assert!(
            parse_package("arn:aws:iot:us-east-1:123456789012:package/MyPkg/version/1.4.0").is_ok()
        );
        assert!(parse_package("arn:aws:iot:us-east-1:123456789012:package/MyPkg").is_err());
        assert!(parse_package("MyPkg").is_err());
        assert!(parse_package("My Pkg@1").is_err());
        assert!(parse_package("@1").is_err());
    }
}
