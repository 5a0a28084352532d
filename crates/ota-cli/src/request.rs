//! Flags -> tags -> the pipeline's own parser and validator (ota-core), and
//! the CreateJob preview `ota validate` prints.

use crate::args::{RequestFlags, StackDefaults};
use crate::error::CliError;
use ota_core::error::Problems;
use ota_core::job_document::{self, FileFacts};
use ota_core::request::parse_defaults;
use ota_core::state::SourceObject;
use ota_core::{OtaRequest, RequestContext, RequestSpec, Signing};
use serde_json::Value;
use time::OffsetDateTime;

/// The tags the flags stand for, in flag order; `ota:` tags first, then the
/// user's own `--tag`s. A malformed `--tag` is a problem, not a panic.
pub fn tags_from_flags(f: &RequestFlags) -> (Vec<(String, String)>, Problems) {
    let mut tags: Vec<(String, String)> = Vec::new();
    let mut problems = Problems::default();
    let mut one = |key: &str, v: &Option<String>| {
        if let Some(v) = v {
            tags.push((key.to_string(), v.clone()));
        }
    };
    one("ota:selection", &f.selection);
    one("ota:description", &f.description);
    one("ota:file-path", &f.file_path);
    one("ota:file-type", &f.file_type);
    one("ota:format", &f.format);
    one("ota:firmware-version", &f.firmware_version);
    one("ota:profile", &f.profile);
    one("ota:signature", &f.signature);
    one("ota:signature-algorithm", &f.signature_algorithm);
    one("ota:certfile", &f.certfile);
    one("ota:timeout", &f.timeout);
    one("ota:start", &f.start);
    one("ota:end", &f.end);
    one("ota:end-behavior", &f.end_behavior);
    one("ota:rollout", &f.rollout);
    one("ota:presigned-expiry", &f.presigned_expiry);
    one("ota:register-package", &f.register_package);
    one(
        "ota:register-default",
        &f.register_default.then(|| "true".to_string()),
    );
    one("ota:document-values", &f.document_values);
    one("ota:job-id", &f.job_id);
    one("ota:manifest", &f.manifest);
    // Lists: the tag grammar separates items with spaces, so a repeated flag
    // and one space-separated value mean the same.
    for (key, values) in [
        ("ota:targets", &f.targets),
        ("ota:protocols", &f.protocols),
        ("ota:retry", &f.retry),
        ("ota:windows", &f.windows),
        ("ota:abort", &f.abort),
        ("ota:packages", &f.packages),
        ("ota:devices", &f.devices),
    ] {
        if !values.is_empty() {
            tags.push((key.to_string(), values.join(" ")));
        }
    }
    // In the order the README's tag table (and ota-core's FIELDS) lists them.
    let rank = |k: &str| ota_core::spec::FIELDS.iter().position(|(_, t, _)| *t == k);
    tags.sort_by_key(|(k, _)| rank(k));
    for t in &f.extra_tags {
        match t.split_once('=') {
            Some((k, _)) if tags.iter().any(|(have, _)| have == k) => problems.push(
                k,
                format!("given twice (by its flag and by --tag {t}); give it once"),
            ),
            Some((k, v)) => tags.push((k.to_string(), v.to_string())),
            None => problems.push(
                "--tag",
                format!("'{t}' is not KEY=VALUE; write e.g. --tag team=firmware"),
            ),
        }
    }
    (tags, problems)
}

/// The defaults to validate with: each flag (or its environment variable)
/// over what the deployed pipeline says.
pub fn merge_defaults(flags: &StackDefaults, pipeline: Option<&StackDefaults>) -> StackDefaults {
    let or =
        |a: &Option<String>, b: Option<&Option<String>>| a.clone().or_else(|| b.cloned().flatten());
    StackDefaults {
        default_signing_profile: or(
            &flags.default_signing_profile,
            pipeline.map(|p| &p.default_signing_profile),
        ),
        default_targets: or(&flags.default_targets, pipeline.map(|p| &p.default_targets)),
        default_protocols: or(
            &flags.default_protocols,
            pipeline.map(|p| &p.default_protocols),
        ),
        default_document_format: or(
            &flags.default_document_format,
            pipeline.map(|p| &p.default_document_format),
        ),
        default_devices: or(&flags.default_devices, pipeline.map(|p| &p.default_devices)),
    }
}

/// Where the request will be uploaded, and what the pipeline will know of
/// the object when it decides.
pub struct Target<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    /// Known only after the upload; a placeholder of a real id's length
    /// before it (it is part of the job document's size).
    pub version_id: &'a str,
    pub region: &'a str,
    pub size: u64,
}

/// The profile's certname, before the pipeline reads the profile.
pub const CERTNAME_PLACEHOLDER: &str = "<the profile's certname>";

/// The account is not needed to validate; ARNs in the preview show this.
pub const ACCOUNT_PLACEHOLDER: &str = "ACCOUNT_ID";

/// A version id's length on S3, for the placeholder before the upload.
pub const VERSION_PLACEHOLDER: &str = "VERSION_ID_FROM_THE_UPLOAD_00000";

impl Target<'_> {
    fn context(&self) -> RequestContext {
        RequestContext {
            partition: ota_core::event::partition_of(self.region).to_string(),
            region: self.region.to_string(),
            account: ACCOUNT_PLACEHOLDER.to_string(),
            bucket: self.bucket.to_string(),
            key: self.key.to_string(),
            version_id: self.version_id.to_string(),
            upload_time: OffsetDateTime::now_utc(),
        }
    }

    /// The object as start-signing's checks see it.
    pub fn source(&self) -> SourceObject {
        let ctx = self.context();
        SourceObject {
            bucket: ctx.bucket,
            key: ctx.key,
            version_id: ctx.version_id,
            upload_time: String::new(),
            size: self.size,
            region: ctx.region,
            account: ctx.account,
            partition: ctx.partition,
        }
    }
}

/// Decides as start-signing does (ota_core::request::resolve): the tags
/// (already parsed, with the flags' own problems), the manifest (already
/// read, its problems included) and the stack defaults, every problem at
/// once.
pub fn resolve(
    tag_spec: RequestSpec,
    manifest_spec: RequestSpec,
    defaults: &StackDefaults,
    target: &Target<'_>,
    problems: Problems,
) -> Result<(OtaRequest, RequestSpec), CliError> {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let defaults = parse_defaults(&ota_core::request::StackDefaults {
        signing_profile: text(&defaults.default_signing_profile),
        targets: text(&defaults.default_targets),
        // The stack parameter's own default.
        protocols: defaults
            .default_protocols
            .clone()
            .unwrap_or_else(|| "MQTT".into()),
        document_format: text(&defaults.default_document_format),
        devices: text(&defaults.default_devices),
    });
    Ok(ota_core::request::resolve(
        tag_spec,
        manifest_spec,
        &defaults,
        problems,
        &target.context(),
    )?)
}

/// What the CreateJob request will look like. Values only the pipeline knows
/// (the signature, the stream, the OTA role) are shown as `<...>`.
pub fn preview(req: &OtaRequest, target: &Target<'_>) -> Result<Value, CliError> {
    let (signature, algorithm, certfile) = match &req.signing {
        Signing::Profile { .. } => (
            "<signature from AWS Signer>",
            "SHA256withECDSA",
            CERTNAME_PLACEHOLDER,
        ),
        Signing::PreSigned {
            signature,
            signature_algorithm,
            certfile,
        } => (
            signature.as_str(),
            signature_algorithm.as_str(),
            certfile.as_str(),
        ),
        Signing::Unsigned => ("", "", ""),
    };
    let facts = FileFacts {
        bucket: target.bucket,
        key: target.key,
        version_id: target.version_id,
        region: target.region,
        size: target.size,
        signature,
        signature_algorithm: algorithm,
        certfile,
        stream_id: Some("<stream created by make-stream>"),
    };
    let (document, _) = job_document::build(req, &facts)?;
    let document = ota_core::package_version::sent_document(req, &document)?;
    let tags = ota_core::create_job::job_tags(
        target.bucket,
        target.key,
        target.version_id,
        "<execution ARN>",
    );
    Ok(ota_core::create_job::request_json(
        req,
        &document,
        "<stack output OtaRoleArn>",
        &tags,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_and_space_separated_lists_are_the_same_tag() {
        let a = RequestFlags {
            targets: vec!["thinggroup/Lab".into(), "thing/dev-7".into()],
            windows: vec!["MON@02:00/60".into(), "SAT+SUN@01:00/30".into()],
            ..Default::default()
        };
        let b = RequestFlags {
            targets: vec!["thinggroup/Lab thing/dev-7".into()],
            windows: vec!["MON@02:00/60 SAT+SUN@01:00/30".into()],
            ..Default::default()
        };
        assert_eq!(tags_from_flags(&a), tags_from_flags(&b));
        let (tags, p) = tags_from_flags(&a);
        assert!(p.is_empty());
        assert!(tags.contains(&("ota:targets".into(), "thinggroup/Lab thing/dev-7".into())));
    }

    #[test]
    fn a_tag_given_twice_or_malformed_is_a_problem() {
        let f = RequestFlags {
            profile: Some("P1".into()),
            extra_tags: vec!["ota:profile=P2".into(), "novalue".into(), "team=fw".into()],
            ..Default::default()
        };
        let (tags, p) = tags_from_flags(&f);
        let fields: Vec<&str> = p.iter().map(|q| q.field.as_str()).collect();
        assert_eq!(fields, ["ota:profile", "--tag"]);
        assert!(tags.contains(&("team".into(), "fw".into())));
    }

    #[test]
    fn register_flags_are_the_register_tags() {
        let f = RequestFlags {
            register_package: Some("App@1.4.0".into()),
            register_default: true,
            document_values: Some("package".into()),
            ..Default::default()
        };
        let (tags, p) = tags_from_flags(&f);
        assert!(p.is_empty(), "{p}");
        assert_eq!(
            tags,
            [
                ("ota:register-package".to_string(), "App@1.4.0".to_string()),
                ("ota:register-default".to_string(), "true".to_string()),
                ("ota:document-values".to_string(), "package".to_string())
            ]
        );
        let (tags, _) = tags_from_flags(&RequestFlags::default());
        assert!(tags.is_empty(), "no flag, no tag: {tags:?}");
    }
}
