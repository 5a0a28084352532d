//! The package version the upload registers as (`ota:register-package`,
//! `ota:register-default`): one of its own, in this account and region, not
//! a package `ota:packages` already names (a job deploys one version of a
//! package), within CreateJob's 25 destination package versions. Its
//! attributes' limits need the signing answer and are checked by
//! start-signing before it signs ([`crate::package_version::check_before_signing`]).

use super::targets::MAX_PACKAGE_VERSIONS;
use super::RequestContext;
use crate::error::Problems;
use crate::package_version::PackageRegistration;
use crate::spec::RequestSpec;
use crate::values::PackageRef;

pub(super) fn registration(
    spec: &RequestSpec,
    ctx: &RequestContext,
    deployed: &[String],
    p: &mut Problems,
) -> Option<PackageRegistration> {
    let Some(name) = &spec.register_package else {
        if spec.register_default == Some(true) && !spec.is_unparsed("register_package") {
            p.push(
                spec.source_of("register_default"),
                format!(
                    "makes the registered version the default, but no version is registered; set {} too",
                    spec.source_of("register_package")
                ),
            );
        }
        return None;
    };
    let source = spec.source_of("register_package");
    let same_package = spec.packages.iter().flatten().find(|r| match r {
        PackageRef::NameVersion { name: n, .. } => *n == name.name,
        PackageRef::Arn(a) => a.contains(&format!(":package/{}/version/", name.name)),
    });
    if let Some(other) = same_package {
        p.push(
            source.clone(),
            format!(
                "registers {name}, and {} deploys {other} of the same package; a job deploys one version of a package: drop it from {}",
                spec.source_of("packages"),
                spec.source_of("packages")
            ),
        );
    }
    if deployed.len() + 1 > MAX_PACKAGE_VERSIONS {
        p.push(
            source,
            format!(
                "with the {} versions of {} that makes {}; CreateJob takes at most {MAX_PACKAGE_VERSIONS}",
                deployed.len(),
                spec.source_of("packages"),
                deployed.len() + 1
            ),
        );
    }
    let arn = PackageRef::NameVersion {
        name: name.name.clone(),
        version: name.version.clone(),
    }
    .to_arn(&ctx.partition, &ctx.region, &ctx.account);
    Some(PackageRegistration {
        package_name: name.name.clone(),
        version_name: name.version.clone(),
        make_default: spec.register_default.unwrap_or(false),
        arn,
        field: spec.source_of("register_package"),
    })
}
