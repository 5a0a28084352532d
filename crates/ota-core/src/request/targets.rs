//! Where the job goes: the target ARNs (at least one, each once) and the
//! package version ARNs recorded on it.

use super::RequestContext;
use crate::error::Problems;
use crate::spec::RequestSpec;

/// The targets as the ARNs CreateJob takes. There must be at least one, and
/// none twice once resolved (`thing/a` and its ARN are one target).
pub(super) fn target_arns(
    spec: &RequestSpec,
    ctx: &RequestContext,
    p: &mut Problems,
) -> Vec<String> {
    let targets: Vec<String> = match &spec.targets {
        Some(t) if !t.is_empty() => t
            .iter()
            .map(|t| t.to_arn(&ctx.partition, &ctx.region, &ctx.account))
            .collect(),
        // Given but malformed: reported already, not "no targets".
        _ if spec.is_unparsed("targets") => Vec::new(),
        _ => {
            p.push(
                "ota:targets",
                "no targets; tag ota:targets (e.g. thinggroup/Lab thing/dev-7) or set the stack's DefaultTargets",
            );
            Vec::new()
        }
    };
    let mut unique = targets.clone();
    unique.sort();
    unique.dedup();
    if unique.len() != targets.len() {
        p.push(
            spec.source_of("targets"),
            "names the same target twice; each target at most once",
        );
    }
    targets
}

/// CreateJob's destinationPackageVersions: "Up to 25 package version ARNs
/// are allowed" (IoT API reference, CreateJob).
pub const MAX_PACKAGE_VERSIONS: usize = 25;

/// destinationPackageVersions: each package version as its ARN, at most
/// MAX_PACKAGE_VERSIONS of them.
pub(super) fn package_arns(
    spec: &RequestSpec,
    ctx: &RequestContext,
    p: &mut Problems,
) -> Vec<String> {
    let arns: Vec<String> = spec
        .packages
        .iter()
        .flatten()
        .map(|p| p.to_arn(&ctx.partition, &ctx.region, &ctx.account))
        .collect();
    if arns.len() > MAX_PACKAGE_VERSIONS {
        p.push(
            spec.source_of("packages"),
            format!(
                "{} package versions; CreateJob takes at most {MAX_PACKAGE_VERSIONS}",
                arns.len()
            ),
        );
    }
    arns
}
