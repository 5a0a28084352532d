//! The validated request: defaults < manifest < tags, checked against every
//! rule AWS enforces, resolved into the exact values CreateJob receives.
//!
//! `validate` is a sequence of named steps, one file each, every one adding
//! its problems to the same list: `format` (afr_ota or Nordic's aws_fota,
//! and the fields each takes), `targets` (target and package ARNs),
//! `signing` (profile, pre-signed, or none for aws_fota), `protocols` (MQTT/HTTP and the
//! presigned URL lifetime), `schedule` (start, end, windows), `package` (the
//! package version the upload registers as) and `naming` (job id and
//! description).

mod format;
mod naming;
mod package;
mod protocols;
pub mod reschedule;
mod schedule;
mod signing;
mod targets;

use crate::error::{OtaError, Problems};
use crate::spec::RequestSpec;
use crate::values::{
    AbortCriterion, DocumentFormat, DocumentValues, EndBehavior, Protocol, RetryCriterion, Rollout,
    TargetSelection,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// What validation needs to know besides the request itself.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub partition: String,
    pub region: String,
    pub account: String,
    pub bucket: String,
    pub key: String,
    pub version_id: String,
    /// When the object was uploaded: relative times count from it and the
    /// 30-minute lead is measured from it.
    pub upload_time: OffsetDateTime,
}

/// How the firmware gets its signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Signing {
    /// AWS Signer with this profile; the certfile comes from the profile's
    /// `certname` signing parameter.
    #[serde(rename_all = "camelCase")]
    Profile { profile_name: String },
    /// Pre-signed by the user (CreateOTAUpdate's customCodeSigning).
    #[serde(rename_all = "camelCase")]
    PreSigned {
        signature: String,
        signature_algorithm: String,
        certfile: String,
    },
    /// Not signed by the pipeline: `aws_fota` updates, which MCUboot
    /// verifies on the nRF device.
    Unsigned,
}

/// schedulingConfig, resolved to absolute UTC minutes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Schedule {
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub end_behavior: Option<EndBehavior>,
    pub maintenance_windows: Vec<WindowConfig>,
    /// Where the start and end came from (`ota:start`, a manifest field), and
    /// whether each was an offset from the upload (`+2h`): create-job
    /// re-checks both against its own clock ([`reschedule`]), moving an
    /// offset that became too close and refusing an absolute time that did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_origin: Option<TimeOrigin>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_origin: Option<TimeOrigin>,
}

/// Where a scheduled time came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeOrigin {
    /// The tag, manifest field or stack parameter, for messages.
    pub field: String,
    /// An offset from the upload (`+2h`), not a fixed minute.
    pub relative: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WindowConfig {
    /// `cron(...)`.
    pub start_time: String,
    pub duration_in_minutes: u32,
}

/// A request that passed every check: what CreateJob will be asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OtaRequest {
    pub job_id: String,
    /// Target ARNs.
    pub targets: Vec<String>,
    pub target_selection: TargetSelection,
    pub description: String,
    /// The job document's shape (`ota:format`).
    #[serde(default)]
    pub format: DocumentFormat,
    /// `fwversion` of an `aws_fota` document (`ota:firmware-version`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firmware_version: Option<String>,
    pub protocols: Vec<Protocol>,
    pub file_path: Option<String>,
    pub file_type: Option<u32>,
    /// The device families the update is for (`ota:devices`): the document
    /// must pass their rules (crate::devices), or the request is refused.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<crate::devices::DeviceFamily>,
    /// Where `devices` came from (`ota:devices`, `manifest.devices`, stack
    /// parameter DefaultDevices), for the refusal create-job may give.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub devices_source: Option<String>,
    pub signing: Signing,
    pub timeout_minutes: Option<u32>,
    pub retry: Vec<RetryCriterion>,
    pub schedule: Option<Schedule>,
    pub abort: Vec<AbortCriterion>,
    pub rollout: Option<Rollout>,
    /// Set when HTTP is among the protocols (3600 unless given).
    pub presigned_expiry_seconds: Option<u32>,
    /// destinationPackageVersions ARNs (the registered version's among them).
    pub package_versions: Vec<String>,
    /// The package version this upload registers as (`ota:register-package`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_registration: Option<crate::package_version::PackageRegistration>,
    /// `ota:document-values`: literal values, or the registered version's
    /// attributes by substitution parameter.
    #[serde(default, skip_serializing_if = "DocumentValues::is_literal")]
    pub document_values: DocumentValues,
}

impl OtaRequest {
    pub fn uses_http(&self) -> bool {
        self.protocols.contains(&Protocol::Http)
    }
    pub fn uses_mqtt(&self) -> bool {
        self.protocols.contains(&Protocol::Mqtt)
    }
}

/// The default presigned URL lifetime when HTTP is used and none is given.
pub const DEFAULT_PRESIGNED_EXPIRY_SECONDS: u32 = 3600;
/// IoT's minimum lead between now and a scheduled start or end.
pub const MIN_LEAD_MINUTES: i64 = 30;

/// Validates a merged spec. Every problem is reported, each naming the tag,
/// manifest field or stack parameter its value came from.
pub fn validate(spec: &RequestSpec, ctx: &RequestContext) -> Result<OtaRequest, OtaError> {
    let mut p = Problems::default();
    let format = format::format(spec, &mut p);
    let targets = targets::target_arns(spec, ctx, &mut p);
    let (protocols, signing) = match format {
        DocumentFormat::AfrOta => (protocols::protocols(spec), signing::signing(spec, &mut p)),
        DocumentFormat::AwsFota => (
            format::aws_fota_protocols(spec, &mut p),
            signing::unsigned(spec, &mut p),
        ),
    };
    let presigned_expiry_seconds = protocols::presigned_expiry(spec, &protocols, &mut p);
    let schedule = schedule::schedule(spec, ctx.upload_time, &mut p);
    let mut package_versions = targets::package_arns(spec, ctx, &mut p);
    let package_registration = package::registration(spec, ctx, &package_versions, &mut p);
    let document_values = package::document_values(spec, format, &mut p);
    if let Some(r) = &package_registration {
        package_versions.push(r.arn.clone());
    }
    let job_id = naming::job_id(spec, ctx);
    let description = naming::description(spec, ctx);

    p.into_result()?;
    Ok(OtaRequest {
        job_id,
        targets,
        target_selection: spec.target_selection.unwrap_or(TargetSelection::Snapshot),
        description,
        format,
        firmware_version: spec.firmware_version.clone(),
        protocols,
        file_path: spec.file_path.clone(),
        file_type: spec.file_type,
        devices: devices(spec, format),
        devices_source: spec.devices.as_ref().map(|_| spec.source_of("devices")),
        signing,
        timeout_minutes: spec.timeout_minutes,
        retry: spec.retry.clone().unwrap_or_default(),
        schedule,
        abort: spec.abort.clone().unwrap_or_default(),
        rollout: spec.rollout,
        presigned_expiry_seconds,
        package_versions,
        package_registration,
        document_values,
    })
}

/// The device families the update is for. The stack's DefaultDevices covers
/// every format, so only its families that read this one apply (an
/// `aws_fota` upload on a stack whose default is the FreeRTOS families is
/// judged by none, not refused by all); the upload's own list is kept whole.
fn devices(spec: &RequestSpec, format: DocumentFormat) -> Vec<crate::devices::DeviceFamily> {
    let named = spec.devices.clone().unwrap_or_default();
    if spec.from_stack("devices") {
        named.into_iter().filter(|f| f.reads(format)).collect()
    } else {
        named
    }
}

/// Merges tags over the manifest over the stack defaults and validates. The
/// problems found before (parsing the tags, reading the manifest) and the
/// defaults' own problems are reported with validation's, each once: a value
/// that failed to parse is not reported missing as well. start-signing and
/// the `ota` command both decide with this.
pub fn resolve(
    tags: RequestSpec,
    manifest: RequestSpec,
    defaults: &(RequestSpec, Problems),
    mut problems: Problems,
    ctx: &RequestContext,
) -> Result<(OtaRequest, RequestSpec), OtaError> {
    let merged = merge(tags, manifest, defaults, &mut problems);
    validate_merged(merged, problems, ctx)
}

/// Tags over the manifest over the stack defaults; the defaults' own
/// problems join `problems`, and the fields any problem names are marked
/// unparsed (the first half of [`resolve`]).
pub fn merge(
    tags: RequestSpec,
    manifest: RequestSpec,
    defaults: &(RequestSpec, Problems),
    problems: &mut Problems,
) -> RequestSpec {
    problems.extend(defaults.1.clone());
    let mut merged = tags.or(manifest).or(defaults.0.clone());
    merged.unparsed = crate::spec::fields_named_by(problems);
    merged
}

/// Validates a merged spec, reporting `problems` (found before) with
/// validation's, each field once (the second half of [`resolve`]).
pub fn validate_merged(
    merged: RequestSpec,
    mut problems: Problems,
    ctx: &RequestContext,
) -> Result<(OtaRequest, RequestSpec), OtaError> {
    match validate(&merged, ctx) {
        Ok(r) if problems.is_empty() => Ok((r, merged)),
        Ok(_) => Err(OtaError::InvalidRequest(problems)),
        Err(e) => {
            for p in e.problems() {
                if !problems.iter().any(|q| q.field == p.field) {
                    problems.push(p.field.clone(), p.message.clone());
                }
            }
            Err(OtaError::InvalidRequest(problems))
        }
    }
}

/// The stack's defaults: the template's Default* parameters, as
/// start-signing gets them (environment variables) and the `ota` command
/// reads them (the state machine's tags). Empty means not set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StackDefaults {
    pub signing_profile: String,
    pub targets: String,
    pub protocols: String,
    pub document_format: String,
    pub devices: String,
}

impl StackDefaults {
    /// Each default: (its tag, its value, the stack parameter).
    fn entries(&self) -> [(&'static str, &str, &'static str); 5] {
        [
            (
                "ota:profile",
                &self.signing_profile,
                "DefaultSigningProfile",
            ),
            ("ota:targets", &self.targets, "DefaultTargets"),
            ("ota:protocols", &self.protocols, "DefaultProtocols"),
            ("ota:format", &self.document_format, "DefaultDocumentFormat"),
            ("ota:devices", &self.devices, "DefaultDevices"),
        ]
    }
}

/// The stack's defaults parsed with the same grammar as the tags; every
/// value and problem names its stack parameter.
pub fn parse_defaults(defaults: &StackDefaults) -> (RequestSpec, Problems) {
    let entries = defaults.entries();
    let tags: Vec<(String, String)> = entries
        .iter()
        .filter(|(_, v, _)| !v.trim().is_empty())
        .map(|(k, v, _)| (k.to_string(), v.trim().to_string()))
        .collect();
    let (spec, mut problems) = crate::tags::parse_tags(&tags);
    let parameter_of_tag = |tag: &str| {
        entries
            .iter()
            .find(|(k, _, _)| *k == tag)
            .map(|(_, _, param)| format!("stack parameter {param}"))
    };
    for pr in problems.0.iter_mut() {
        if let Some(name) = parameter_of_tag(&pr.field) {
            pr.field = name;
        }
    }
    let spec = spec.with_source(|f| {
        parameter_of_tag(crate::spec::tag_key(f)).unwrap_or_else(|| "stack parameter".into())
    });
    (spec, problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tags::parse_tags;
    use time::macros::datetime;

    fn stack(profile: &str, targets: &str, protocols: &str) -> StackDefaults {
        StackDefaults {
            signing_profile: profile.into(),
            targets: targets.into(),
            protocols: protocols.into(),
            ..Default::default()
        }
    }

    fn ctx() -> RequestContext {
        RequestContext {
            partition: "aws".into(),
            region: "us-east-1".into(),
            account: "123456789012".into(),
            bucket: "fw-bucket".into(),
            key: "firmware/app-v1.4.bin".into(),
            version_id: "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY".into(),
            upload_time: datetime!(2026-11-22 10:00:00 UTC),
        }
    }

    fn spec(pairs: &[(&str, &str)]) -> RequestSpec {
        let tags: Vec<_> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let (s, p) = parse_tags(&tags);
        assert!(p.is_empty(), "{p}");
        s
    }

    fn problems(pairs: &[(&str, &str)]) -> Vec<String> {
        match validate(&spec(pairs), &ctx()) {
            Ok(_) => Vec::new(),
            Err(e) => e.problems().iter().map(|p| p.to_string()).collect(),
        }
    }

    const BASE: [(&str, &str); 2] = [
        ("ota:targets", "thinggroup/Lab"),
        ("ota:profile", "OtaProfile"),
    ];

    fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
        let mut v = BASE.to_vec();
        v.extend_from_slice(extra);
        v
    }

    #[test]
    fn minimal_request_resolves_defaults() {
        let r = validate(&spec(&BASE), &ctx()).unwrap();
        assert_eq!(
            r.targets,
            ["arn:aws:iot:us-east-1:123456789012:thinggroup/Lab"]
        );
        assert_eq!(r.protocols, [Protocol::Mqtt]);
        assert_eq!(r.target_selection, TargetSelection::Snapshot);
        assert!(r.job_id.starts_with("AFR_OTA-app-v1_4"), "{}", r.job_id);
        assert_eq!(r.presigned_expiry_seconds, None);
        assert!(r.schedule.is_none());
        assert_eq!(
            r.signing,
            Signing::Profile {
                profile_name: "OtaProfile".into()
            }
        );
    }

    #[test]
    fn targets_are_required() {
        let p = problems(&[("ota:profile", "OtaProfile")]);
        assert_eq!(p.len(), 1);
        assert!(p[0].starts_with("ota:targets: no targets"));
    }

    #[test]
    fn duplicate_targets_after_resolution_are_rejected() {
        let p = problems(&[
            (
                "ota:targets",
                "thing/a arn:aws:iot:us-east-1:123456789012:thing/a",
            ),
            ("ota:profile", "OtaProfile"),
        ]);
        assert!(p[0].contains("same target twice"), "{p:?}");
    }

    #[test]
    fn signing_needs_a_profile_or_a_signature() {
        let p = problems(&[("ota:targets", "thing/a")]);
        assert!(p[0].starts_with("ota:profile: no signing profile"), "{p:?}");
        let ok = validate(
            &spec(&[
                ("ota:targets", "thing/a"),
                ("ota:signature", "MEUCIQ=="),
                ("ota:signature-algorithm", "SHA256withECDSA"),
                ("ota:certfile", "/certs/ota.pem"),
            ]),
            &ctx(),
        )
        .unwrap();
        assert!(matches!(ok.signing, Signing::PreSigned { .. }));
        let p = problems(&with(&[("ota:signature", "MEUCIQ==")]));
        assert_eq!(p.len(), 3, "{p:?}");
        assert!(p[0].contains("cannot also name a signing profile"));
        assert!(p[1].starts_with("ota:signature-algorithm"));
        assert!(p[2].starts_with("ota:certfile"));
        let p = problems(&with(&[("ota:certfile", "/c.pem")]));
        assert!(
            p[0].starts_with("ota:certfile: applies only to pre-signed"),
            "{p:?}"
        );
    }

    #[test]
    fn a_signature_overrides_a_default_profile() {
        let (defaults, dp) = parse_defaults(&stack("DefaultProfile", "thinggroup/All", "MQTT"));
        assert!(dp.is_empty());
        let tags = spec(&[
            ("ota:signature", "MEUCIQ=="),
            ("ota:signature-algorithm", "SHA256withECDSA"),
            ("ota:certfile", "/c.pem"),
        ]);
        let r = validate(&tags.or(defaults), &ctx()).unwrap();
        assert!(matches!(r.signing, Signing::PreSigned { .. }));
        assert_eq!(
            r.targets,
            ["arn:aws:iot:us-east-1:123456789012:thinggroup/All"]
        );
    }

    #[test]
    fn bad_defaults_name_the_stack_parameter() {
        let (_, p) = parse_defaults(&StackDefaults {
            document_format: "nordic".into(),
            devices: "esp32".into(),
            ..stack("x", "Lab", "FTP")
        });
        let fields: Vec<_> = p.iter().map(|p| p.field.clone()).collect();
        assert_eq!(
            fields,
            [
                "stack parameter DefaultSigningProfile",
                "stack parameter DefaultTargets",
                "stack parameter DefaultProtocols",
                "stack parameter DefaultDocumentFormat",
                "stack parameter DefaultDevices"
            ]
        );
    }

    #[test]
    fn http_gets_a_presigned_lifetime_and_only_http() {
        let r = validate(&spec(&with(&[("ota:protocols", "MQTT HTTP")])), &ctx()).unwrap();
        assert_eq!(r.presigned_expiry_seconds, Some(3600));
        let r = validate(
            &spec(&with(&[
                ("ota:protocols", "HTTP"),
                ("ota:presigned-expiry", "600"),
            ])),
            &ctx(),
        )
        .unwrap();
        assert_eq!(r.presigned_expiry_seconds, Some(600));
        let p = problems(&with(&[("ota:presigned-expiry", "600")]));
        assert!(
            p[0].starts_with("ota:presigned-expiry: applies only"),
            "{p:?}"
        );
    }

    #[test]
    fn start_needs_thirty_minutes_lead_and_at_most_a_year() {
        assert!(problems(&with(&[("ota:start", "+30m")])).is_empty());
        let p = problems(&with(&[("ota:start", "+29m")]));
        assert!(p[0].contains("less than 30 minutes"), "{p:?}");
        let p = problems(&with(&[("ota:start", "2026-11-22T10:15")]));
        assert!(p[0].starts_with("ota:start"), "{p:?}");
        assert!(problems(&with(&[("ota:start", "2027-11-22T10:00")])).is_empty());
        let p = problems(&with(&[("ota:start", "2027-11-23T10:00")]));
        assert!(p[0].contains("more than a year"), "{p:?}");
    }

    #[test]
    fn end_rules() {
        assert!(problems(&with(&[("ota:start", "+1h"), ("ota:end", "+1h30m")])).is_empty());
        let p = problems(&with(&[("ota:start", "+1h"), ("ota:end", "+1h29m")]));
        assert!(
            p[0].contains("at least 30 minutes after the start"),
            "{p:?}"
        );
        let p = problems(&with(&[("ota:end", "+10m")]));
        assert!(p[0].starts_with("ota:end"), "{p:?}");
        let p = problems(&with(&[("ota:end", "2029-01-01T00:00")]));
        assert!(p[0].contains("two years"), "{p:?}");
        let p = problems(&with(&[("ota:end-behavior", "CANCEL")]));
        assert!(p[0].starts_with("ota:end-behavior: needs an end"), "{p:?}");
        let r = validate(
            &spec(&with(&[
                ("ota:start", "+1h"),
                ("ota:end", "+1d"),
                ("ota:end-behavior", "FORCE_CANCEL"),
                ("ota:windows", "MON-FRI@02:00/120"),
            ])),
            &ctx(),
        )
        .unwrap();
        let s = r.schedule.unwrap();
        assert_eq!(s.start_time.as_deref(), Some("2026-11-22T11:00"));
        assert_eq!(s.end_time.as_deref(), Some("2026-11-23T10:00"));
        assert_eq!(
            s.maintenance_windows[0].start_time,
            "cron(0 2 ? * MON-FRI *)"
        );
    }

    #[test]
    fn all_problems_at_once() {
        let p = problems(&[
            ("ota:start", "+5m"),
            ("ota:end-behavior", "CANCEL"),
            ("ota:presigned-expiry", "100"),
        ]);
        assert_eq!(p.len(), 5, "{p:?}");
    }

    #[test]
    fn a_registered_version_is_deployed_by_the_job() {
        let r = validate(
            &spec(&with(&[
                ("ota:packages", "Radio@2.0"),
                ("ota:register-package", "App@1.4.0"),
                ("ota:register-default", "true"),
            ])),
            &ctx(),
        )
        .unwrap();
        let reg = r.package_registration.clone().unwrap();
        assert_eq!(
            (reg.package_name.as_str(), reg.version_name.as_str()),
            ("App", "1.4.0")
        );
        assert!(reg.make_default);
        assert_eq!(
            r.package_versions,
            [
                "arn:aws:iot:us-east-1:123456789012:package/Radio/version/2.0",
                "arn:aws:iot:us-east-1:123456789012:package/App/version/1.4.0"
            ]
        );
        // The state carries it; an older state without it still reads.
        let text = serde_json::to_value(&r).unwrap();
        assert_eq!(text["packageRegistration"]["versionName"], "1.4.0");
        let mut old = text.clone();
        old.as_object_mut().unwrap().remove("packageRegistration");
        let back: OtaRequest = serde_json::from_value(old).unwrap();
        assert_eq!(back.package_registration, None);
    }

    #[test]
    fn registration_problems_name_their_tags() {
        let found = |pairs: &[(&'static str, &'static str)]| -> Vec<(String, String)> {
            match validate(&spec(&with(pairs)), &ctx()) {
                Ok(_) => Vec::new(),
                Err(e) => e
                    .problems()
                    .iter()
                    .map(|p| (p.field.clone(), p.message.clone()))
                    .collect(),
            }
        };
        let p = found(&[("ota:document-values", "package")]);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].0 == "ota:document-values" && p[0].1.contains("ota:register-package"),
            "{p:?}"
        );
        let fota = validate(
            &spec(&[
                ("ota:targets", "thinggroup/Lab"),
                ("ota:document-values", "package"),
                ("ota:register-package", "App@1"),
                ("ota:format", "aws_fota"),
            ]),
            &ctx(),
        )
        .unwrap_err();
        let p: Vec<(String, String)> = fota
            .problems()
            .iter()
            .map(|p| (p.field.clone(), p.message.clone()))
            .collect();
        assert!(
            p.iter()
                .any(|(f, m)| f == "ota:document-values" && m.contains("afr_ota")),
            "{p:?}"
        );
        let ok = validate(
            &spec(&with(&[
                ("ota:document-values", "package"),
                ("ota:register-package", "App@1"),
            ])),
            &ctx(),
        )
        .unwrap();
        assert_eq!(ok.document_values, crate::values::DocumentValues::Package);
        let p = found(&[("ota:register-default", "true")]);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].0, "ota:register-default");
        assert!(p[0].1.contains("ota:register-package"), "{p:?}");
        let p = found(&[
            ("ota:register-package", "App@2.0"),
            ("ota:packages", "App@1.0"),
        ]);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].0, "ota:register-package");
        assert!(p[0].1.contains("App@1.0"), "{p:?}");
        let many: String = (0..25).map(|i| format!("P{i}@1 ")).collect();
        let many: &'static str = Box::leak(many.into_boxed_str());
        let p = found(&[("ota:register-package", "App@2.0"), ("ota:packages", many)]);
        assert!(
            p.iter()
                .any(|(f, m)| f == "ota:register-package" && m.contains("26")),
            "{p:?}"
        );
    }

    #[test]
    fn packages_resolve_to_arns() {
        let r = validate(&spec(&with(&[("ota:packages", "MyPkg@1.4.0")])), &ctx()).unwrap();
        assert_eq!(
            r.package_versions,
            ["arn:aws:iot:us-east-1:123456789012:package/MyPkg/version/1.4.0"]
        );
    }

    #[test]
    fn user_job_id_is_kept() {
        let r = validate(&spec(&with(&[("ota:job-id", "release-1_4")])), &ctx()).unwrap();
        assert_eq!(r.job_id, "release-1_4");
    }

    /// Every problem `resolve` reports for these tags over stack defaults
    /// that give a profile and targets (as a deployed stack usually does).
    fn resolved_problems(pairs: &[(&str, &str)]) -> Vec<String> {
        let tags: Vec<_> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let (tag_spec, p) = parse_tags(&tags);
        let defaults = parse_defaults(&stack("DefaultProfile", "thinggroup/Default", "MQTT"));
        match resolve(tag_spec, RequestSpec::default(), &defaults, p, &ctx()) {
            Ok(_) => Vec::new(),
            Err(e) => e.problems().iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn a_malformed_value_causes_no_problems_in_the_fields_that_depend_on_it() {
        // A malformed signature with its algorithm and certfile: one problem,
        // the signature's, not "applies only to pre-signed firmware".
        let p = resolved_problems(&[
            ("ota:signature", "abc=def"),
            ("ota:signature-algorithm", "SHA256withECDSA"),
            ("ota:certfile", "/certs/vendor.pem"),
        ]);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].starts_with("ota:signature:"), "{p:?}");
        // Still pre-signed: a missing certfile is a real problem.
        let p = resolved_problems(&[
            ("ota:signature", "abc=def"),
            ("ota:signature-algorithm", "SHA256withECDSA"),
        ]);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p.iter().any(|m| m.starts_with("ota:certfile:")), "{p:?}");
        // Malformed protocols: the presigned lifetime is not "only for HTTP".
        let p = resolved_problems(&[("ota:protocols", "FTP"), ("ota:presigned-expiry", "900")]);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].starts_with("ota:protocols:"), "{p:?}");
        // A malformed end: the end behaviour does not "need an end time".
        let p = resolved_problems(&[("ota:end", "soon"), ("ota:end-behavior", "CANCEL")]);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].starts_with("ota:end:"), "{p:?}");
        // Without the malformed value the dependent rules still speak.
        let p = resolved_problems(&[("ota:end-behavior", "CANCEL")]);
        assert!(p.iter().any(|m| m.contains("needs an end time")), "{p:?}");
        let p = resolved_problems(&[
            ("ota:signature-algorithm", "SHA256withECDSA"),
            ("ota:certfile", "/c"),
        ]);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p
            .iter()
            .all(|m| m.contains("applies only to pre-signed firmware")));
    }

    #[test]
    fn aws_fota_is_http_only_and_unsigned_and_ignores_the_afr_ota_defaults() {
        let tags = spec(&[
            ("ota:targets", "thinggroup/Nrf"),
            ("ota:format", "aws_fota"),
            ("ota:firmware-version", "v1.4.0"),
        ]);
        let (defaults, dp) = parse_defaults(&stack("DefaultProfile", "", "MQTT"));
        assert!(dp.is_empty());
        let r = validate(&tags.or(defaults), &ctx()).unwrap();
        assert_eq!(r.format, DocumentFormat::AwsFota);
        assert_eq!(r.signing, Signing::Unsigned);
        assert_eq!(r.protocols, [Protocol::Http]);
        assert_eq!(r.presigned_expiry_seconds, Some(3600));
        assert_eq!(r.firmware_version.as_deref(), Some("v1.4.0"));
        // HTTP given explicitly is the same.
        let r = validate(
            &spec(&[
                ("ota:targets", "thing/n1"),
                ("ota:format", "aws_fota"),
                ("ota:protocols", "HTTP"),
            ]),
            &ctx(),
        )
        .unwrap();
        assert_eq!(r.protocols, [Protocol::Http]);
    }

    #[test]
    fn aws_fota_refuses_signing_mqtt_and_afr_ota_fields_each_with_its_reason() {
        let p = problems(&[
            ("ota:targets", "thing/n1"),
            ("ota:format", "aws_fota"),
            ("ota:profile", "OtaProfile"),
            ("ota:protocols", "MQTT"),
            ("ota:file-path", "/ota/app.bin"),
            ("ota:file-type", "1"),
        ]);
        assert_eq!(p.len(), 4, "{p:?}");
        assert!(
            p.iter().any(
                |m| m.starts_with("ota:profile: an aws_fota update is not signed")
                    && m.contains("MCUboot")
            ),
            "{p:?}"
        );
        assert!(
            p.iter()
                .any(|m| m.starts_with("ota:protocols:") && m.contains("HTTP only")),
            "{p:?}"
        );
        assert!(
            p.iter()
                .any(|m| m.starts_with("ota:file-path: applies only to the afr_ota format")),
            "{p:?}"
        );
        assert!(
            p.iter()
                .any(|m| m.starts_with("ota:file-type: applies only to the afr_ota format")),
            "{p:?}"
        );
        let p = problems(&[
            ("ota:targets", "thing/n1"),
            ("ota:format", "aws_fota"),
            ("ota:signature", "MEUCIQ=="),
            ("ota:signature-algorithm", "SHA256withECDSA"),
            ("ota:certfile", "/c.pem"),
        ]);
        assert_eq!(p.len(), 3, "{p:?}");
        assert!(
            p.iter().all(|m| m.contains("not signed by the pipeline")),
            "{p:?}"
        );
    }

    #[test]
    fn a_firmware_version_needs_aws_fota() {
        let p = problems(&with(&[("ota:firmware-version", "v1.4.0")]));
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with("ota:firmware-version: applies only to ota:format=aws_fota"),
            "{p:?}"
        );
        // A malformed format: nothing more is said about what it would take.
        let p = resolved_problems(&[("ota:format", "nordic"), ("ota:firmware-version", "v1")]);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with("ota:format: 'nordic' is not one of afr_ota, aws_fota"),
            "{p:?}"
        );
    }

    #[test]
    fn the_stacks_default_format_applies_and_an_upload_can_override_it() {
        let defaults = parse_defaults(&StackDefaults {
            document_format: "aws_fota".into(),
            ..stack("DefaultProfile", "thinggroup/Nrf", "MQTT")
        });
        let ctx = ctx();
        let (r, merged) = resolve(
            RequestSpec::default(),
            RequestSpec::default(),
            &defaults,
            Problems::default(),
            &ctx,
        )
        .unwrap();
        assert_eq!(r.format, DocumentFormat::AwsFota);
        assert_eq!(r.signing, Signing::Unsigned);
        assert_eq!(
            merged.source_of("format"),
            "stack parameter DefaultDocumentFormat"
        );
        let (r, _) = resolve(
            spec(&[("ota:format", "afr_ota")]),
            RequestSpec::default(),
            &defaults,
            Problems::default(),
            &ctx,
        )
        .unwrap();
        assert_eq!(r.format, DocumentFormat::AfrOta);
        assert_eq!(r.protocols, [Protocol::Mqtt]);
        assert!(matches!(r.signing, Signing::Profile { .. }));
    }

    #[test]
    fn the_stacks_default_devices_apply_only_to_the_formats_they_read() {
        let defaults = parse_defaults(&StackDefaults {
            devices: "freertos-ota-agent aws-iot-jobs-parser".into(),
            ..stack("", "thinggroup/Fleet", "MQTT")
        });
        let (r, _) = resolve(
            spec(&[("ota:format", "aws_fota")]),
            RequestSpec::default(),
            &defaults,
            Problems::default(),
            &ctx(),
        )
        .unwrap();
        assert!(r.devices.is_empty(), "{:?}", r.devices);
        // The upload's own list is kept whole: naming them is refused later.
        let (r, _) = resolve(
            spec(&[
                ("ota:format", "aws_fota"),
                ("ota:devices", "aws-iot-jobs-parser"),
            ]),
            RequestSpec::default(),
            &defaults,
            Problems::default(),
            &ctx(),
        )
        .unwrap();
        assert_eq!(r.devices, [crate::devices::DeviceFamily::AwsIotJobsParser]);
    }
}
