//! Package versions to record on the job: `Name@Version` or a package version ARN.
//!
//! Names and versions follow CreatePackageVersion's rules (API reference:
//! packageName `[a-zA-Z0-9-_.]+`, 1-128; versionName `[a-zA-Z0-9-_.]+`,
//! 1-64). The Software Package Catalog also documents two reserved versions
//! for CreateJob's destinationPackageVersions ("Preparing AWS IoT Jobs"):
//! `$default` (deploy the package's default version) and `$null` (remove the
//! package from the device's `$package` shadow). `$` cannot appear in an S3
//! tag value, so tags spell them `+default` and `+null`: `+` is allowed in a
//! tag and never in a version name, so neither spelling can be a real
//! version. The manifest takes either spelling.

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
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The reserved versions, as AWS spells them and as tags spell them.
const RESERVED_VERSIONS: &[(&str, &str)] = &[("$default", "+default"), ("$null", "+null")];

/// A version name, or a reserved version in either spelling (as AWS spells it).
fn version(v: &str) -> Option<String> {
    if is_version_name(v) {
        return Some(v.to_string());
    }
    RESERVED_VERSIONS
        .iter()
        .find(|(aws, tag)| v == *aws || v == *tag)
        .map(|(aws, _)| aws.to_string())
}

/// The tag spelling of a package version (`$default` -> `+default`).
pub fn package_tag_form(p: &PackageRef) -> String {
    let text = p.to_string();
    for (aws, tag) in RESERVED_VERSIONS {
        if let Some(stem) = text.strip_suffix(aws) {
            return format!("{stem}{tag}");
        }
    }
    text
}

const ALLOWED: &str = "NAME@VERSION (NAME: 1-128 of letters, digits, '-', '_', '.'; VERSION: 1-64 of letters, digits, '-', '_', '.', or the reserved +default / +null, $default / $null in a manifest) or arn:aws:iot:REGION:ACCOUNT:package/NAME/version/VERSION";

pub fn parse_package(s: &str) -> Result<PackageRef, String> {
    if s.starts_with("arn:") {
        return parse_package_arn(s)
            .ok_or_else(|| format!("'{s}' is not a package version ARN; expected {ALLOWED}"));
    }
    match s.split_once('@') {
        Some((n, v)) if is_package_name(n) => match version(v) {
            Some(version) => Ok(PackageRef::NameVersion {
                name: n.to_string(),
                version,
            }),
            None => Err(format!(
                "'{s}' is not a package version; expected {ALLOWED}"
            )),
        },
        _ => Err(format!(
            "'{s}' is not a package version; expected {ALLOWED}"
        )),
    }
}

/// `arn:PARTITION:iot:REGION:ACCOUNT:package/NAME/version/VERSION`, with a
/// reserved version in AWS's spelling.
fn parse_package_arn(s: &str) -> Option<PackageRef> {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    if parts.len() != 6
        || !parts[1].starts_with("aws")
        || parts[2] != "iot"
        || parts[4].len() != 12
        || !parts[4].bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let r: Vec<&str> = parts[5].split('/').collect();
    if r.len() != 4 || r[0] != "package" || !is_package_name(r[1]) || r[2] != "version" {
        return None;
    }
    let v = version(r[3])?;
    let stem = &s[..s.len() - r[3].len()];
    Some(PackageRef::Arn(format!("{stem}{v}")))
}

/// The package version this upload is registered as (`ota:register-package`):
/// `NAME@VERSION` with a real version name. Not an ARN (the version is made
/// in this account and region) and not `$default` / `$null` (reserved:
/// CreatePackageVersion's versionName pattern `[a-zA-Z0-9-_.]+` has no `$`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageVersionName {
    pub name: String,
    pub version: String,
}

impl fmt::Display for PackageVersionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.name, self.version)
    }
}

pub fn parse_package_registration(s: &str) -> Result<PackageVersionName, String> {
    let expected = "expected NAME@VERSION (NAME: 1-128 of letters, digits, '-', '_', '.'; VERSION: 1-64 of the same), the package version this upload becomes";
    match s.split_once('@') {
        Some((n, v)) if is_package_name(n) && is_version_name(v) => Ok(PackageVersionName {
            name: n.to_string(),
            version: v.to_string(),
        }),
        Some((_, v)) if version(v).is_some() => Err(format!(
            "'{s}' names a reserved version ({v}); a registered version needs a name of its own; {expected}"
        )),
        _ => Err(format!("'{s}' is not a package version name; {expected}")),
    }
}

/// Where the job document's file values come from (`ota:document-values`):
/// the values themselves (`literal`, the default), or substitution
/// parameters naming the registered package version's attributes
/// (`package`; crate::package_version::sent_document).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocumentValues {
    #[default]
    Literal,
    Package,
}

impl DocumentValues {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "literal" => Ok(Self::Literal),
            "package" => Ok(Self::Package),
            _ => Err(format!(
                "'{s}' is not literal (the values in the document, the default) or package (substitution parameters naming the registered package version's attributes)"
            )),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Literal => "literal",
            Self::Package => "package",
        }
    }
    pub fn is_literal(&self) -> bool {
        *self == Self::Literal
    }
}

/// `true` or `false`, as a tag spells a switch (`ota:register-default`).
pub fn parse_switch(s: &str) -> Result<bool, String> {
    match s {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("'{s}' is not true or false")),
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
        // CreatePackageVersion's versionName has no '+'.
        assert!(parse_package("MyPkg@1.0+build").is_err());
        assert!(parse_package(&format!("P@{}", "1".repeat(65))).is_err());
        // The reserved versions, in either spelling, become AWS's.
        for given in ["MyPkg@$default", "MyPkg@+default"] {
            let p = parse_package(given).unwrap();
            assert_eq!(
                p.to_arn("aws", "us-east-1", "123456789012"),
                "arn:aws:iot:us-east-1:123456789012:package/MyPkg/version/$default"
            );
            assert_eq!(package_tag_form(&p), "MyPkg@+default");
        }
        let null =
            parse_package("arn:aws:iot:us-east-1:123456789012:package/P/version/+null").unwrap();
        assert_eq!(
            null,
            PackageRef::Arn("arn:aws:iot:us-east-1:123456789012:package/P/version/$null".into())
        );
        assert_eq!(
            package_tag_form(&null),
            "arn:aws:iot:us-east-1:123456789012:package/P/version/+null"
        );
        assert!(parse_package("MyPkg@+latest").is_err());
        assert!(parse_package("MyPkg@$latest").is_err());
    }

    #[test]
    fn registrations() {
        let r = parse_package_registration("Firmware-App@1.4.0").unwrap();
        assert_eq!(
            (r.name.as_str(), r.version.as_str()),
            ("Firmware-App", "1.4.0")
        );
        assert_eq!(r.to_string(), "Firmware-App@1.4.0");
        for bad in [
            "App",
            "App@",
            "@1",
            "App@$default",
            "App@+null",
            "My App@1",
            "App@1+b",
        ] {
            assert!(parse_package_registration(bad).is_err(), "{bad}");
        }
        let reserved = parse_package_registration("App@+default").unwrap_err();
        assert!(reserved.contains("reserved"), "{reserved}");
        assert!(parse_package_registration(
            "arn:aws:iot:us-east-1:123456789012:package/P/version/1"
        )
        .is_err());
        assert_eq!(
            DocumentValues::parse("package"),
            Ok(DocumentValues::Package)
        );
        assert_eq!(
            DocumentValues::parse("literal"),
            Ok(DocumentValues::Literal)
        );
        assert!(DocumentValues::parse("Package").is_err());
        assert_eq!(parse_switch("true"), Ok(true));
        assert_eq!(parse_switch("false"), Ok(false));
        assert!(parse_switch("yes").is_err());
        assert!(parse_switch("True").is_err());
    }
}
