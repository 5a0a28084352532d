//! A partial request from one source (tags, manifest or stack defaults), and
//! how sources merge: defaults < manifest < tags, field by field, remembering
//! where each value came from so a problem can name its tag or field.

use crate::times::TimeSpec;
use crate::values::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

macro_rules! request_spec {
    ($( $(#[$m:meta])* $field:ident : $ty:ty => $tag:literal, $manifest:literal; )+) => {
        /// A partial request: every field optional.
        #[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
        pub struct RequestSpec {
            $( $(#[$m])* pub $field: Option<$ty>, )+
            /// For each field that is set, where its value came from.
            #[serde(skip)]
            pub sources: BTreeMap<&'static str, String>,
            /// Fields a source gave but whose value did not parse (its problem
            /// is already reported): rules that depend on such a field stay
            /// quiet instead of reporting what follows from its absence.
            #[serde(skip)]
            pub unparsed: BTreeSet<&'static str>,
        }

        /// Every field: (name, tag key, manifest path).
        pub const FIELDS: &[(&str, &str, &str)] = &[ $( (stringify!($field), $tag, $manifest), )+ ];

        impl RequestSpec {
            /// Fills every field this spec lacks from `lower` (lower precedence).
            pub fn or(mut self, lower: RequestSpec) -> RequestSpec {
                $(
                    if self.$field.is_none() && lower.$field.is_some() {
                        self.$field = lower.$field;
                        if let Some(src) = lower.sources.get(stringify!($field)) {
                            self.sources.insert(stringify!($field), src.clone());
                        }
                    }
                )+
                self
            }

            /// Records `source` as the origin of every field that is set.
            pub fn with_source(mut self, source: impl Fn(&'static str) -> String) -> RequestSpec {
                $(
                    if self.$field.is_some() {
                        self.sources.insert(stringify!($field), source(stringify!($field)));
                    }
                )+
                self
            }

            /// The fields that are set, equal in value, ignoring sources.
            pub fn same_values(&self, other: &RequestSpec) -> bool {
                true $( && self.$field == other.$field )+
            }
        }
    };
}

request_spec! {
    targets: Vec<Target> => "ota:targets", "targets";
    target_selection: TargetSelection => "ota:selection", "targetSelection";
    description: String => "ota:description", "description";
    protocols: Vec<Protocol> => "ota:protocols", "protocols";
    file_path: String => "ota:file-path", "filePath";
    file_type: u32 => "ota:file-type", "fileType";
    devices: Vec<crate::devices::DeviceFamily> => "ota:devices", "devices";
    format: DocumentFormat => "ota:format", "documentFormat";
    firmware_version: String => "ota:firmware-version", "firmwareVersion";
    profile: String => "ota:profile", "signingProfile";
    signature: String => "ota:signature", "customCodeSigning.signature";
    signature_algorithm: String => "ota:signature-algorithm", "customCodeSigning.signatureAlgorithm";
    certfile: String => "ota:certfile", "customCodeSigning.certfile";
    timeout_minutes: u32 => "ota:timeout", "timeoutConfig.inProgressTimeoutInMinutes";
    retry: Vec<RetryCriterion> => "ota:retry", "jobExecutionsRetryConfig.criteriaList";
    start: TimeSpec => "ota:start", "schedulingConfig.startTime";
    end: TimeSpec => "ota:end", "schedulingConfig.endTime";
    end_behavior: EndBehavior => "ota:end-behavior", "schedulingConfig.endBehavior";
    windows: Vec<MaintenanceWindow> => "ota:windows", "schedulingConfig.maintenanceWindows";
    abort: Vec<AbortCriterion> => "ota:abort", "abortConfig.criteriaList";
    rollout: Rollout => "ota:rollout", "jobExecutionsRolloutConfig";
    presigned_expiry_seconds: u32 => "ota:presigned-expiry", "presignedUrlConfig.expiresInSec";
    packages: Vec<PackageRef> => "ota:packages", "destinationPackageVersions";
    register_package: PackageVersionName => "ota:register-package", "registerPackage";
    register_default: bool => "ota:register-default", "registerDefault";
    document_values: DocumentValues => "ota:document-values", "documentValues";
    job_id: String => "ota:job-id", "jobId";
    manifest: String => "ota:manifest", "-";
}

/// The tag key of a field.
pub fn tag_key(field: &str) -> &'static str {
    FIELDS
        .iter()
        .find(|(f, _, _)| *f == field)
        .map(|(_, t, _)| *t)
        .unwrap_or("ota:?")
}

/// The manifest path of a field, prefixed `manifest.`.
pub fn manifest_path(field: &str) -> String {
    let p = FIELDS
        .iter()
        .find(|(f, _, _)| *f == field)
        .map(|(_, _, m)| *m)
        .unwrap_or("?");
    format!("manifest.{p}")
}

/// The fields `problems` name, by tag key or manifest path (`ota:signature`,
/// `manifest.customCodeSigning.signature`, `manifest.destinationPackageVersions[3]`).
pub fn fields_named_by(problems: &crate::error::Problems) -> BTreeSet<&'static str> {
    let mut out = BTreeSet::new();
    for q in problems.iter() {
        for (field, tag, manifest) in FIELDS {
            let path = format!("manifest.{manifest}");
            let in_manifest = q.field == path
                || q.field
                    .strip_prefix(&path)
                    .is_some_and(|rest| rest.starts_with('[') || rest.starts_with('.'));
            if q.field == *tag || in_manifest {
                out.insert(*field);
            }
        }
    }
    out
}

impl RequestSpec {
    /// Whether `field`'s value is the stack's default (a parameter), not the
    /// upload's own (tags or manifest).
    pub fn from_stack(&self, field: &str) -> bool {
        self.sources
            .get(field)
            .is_some_and(|s| s.starts_with("stack"))
    }

    /// Whether a source gave `field` but its value did not parse.
    pub fn is_unparsed(&self, field: &str) -> bool {
        self.unparsed.contains(field)
    }

    /// Where a field's value came from, for error messages; the tag key when
    /// the field is unset (that is where the user would set it).
    pub fn source_of(&self, field: &'static str) -> String {
        self.sources
            .get(field)
            .cloned()
            .unwrap_or_else(|| tag_key(field).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_override_manifest_override_defaults_and_sources_follow() {
        let defaults = RequestSpec {
            targets: Some(vec![Target::ThingGroup("Default".into())]),
            profile: Some("DefaultProfile".into()),
            timeout_minutes: Some(5),
            ..Default::default()
        }
        .with_source(|_| "stack parameter".into());
        let manifest = RequestSpec {
            timeout_minutes: Some(10),
            description: Some("from manifest".into()),
            ..Default::default()
        }
        .with_source(manifest_path);
        let tags = RequestSpec {
            targets: Some(vec![Target::Thing("dev-7".into())]),
            ..Default::default()
        }
        .with_source(|f| tag_key(f).to_string());
        let merged = tags.or(manifest).or(defaults);
        assert_eq!(merged.targets, Some(vec![Target::Thing("dev-7".into())]));
        assert_eq!(merged.timeout_minutes, Some(10));
        assert_eq!(merged.profile.as_deref(), Some("DefaultProfile"));
        assert_eq!(merged.source_of("targets"), "ota:targets");
        assert_eq!(
            merged.source_of("timeout_minutes"),
            "manifest.timeoutConfig.inProgressTimeoutInMinutes"
        );
        assert_eq!(merged.source_of("profile"), "stack parameter");
        assert_eq!(merged.source_of("retry"), "ota:retry");
    }
}
