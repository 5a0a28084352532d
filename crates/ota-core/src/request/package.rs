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
use crate::values::{DocumentFormat, DocumentValues, PackageRef};

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

/// `ota:document-values=package`: substitution parameters name the
/// registered version's attributes, so it needs `ota:register-package`; and
/// only the `afr_ota` document has string values to substitute (Nordic's
/// `aws_fota` carries a presigned URL and a number).
pub(super) fn document_values(
    spec: &RequestSpec,
    format: DocumentFormat,
    p: &mut Problems,
) -> DocumentValues {
    let v = spec.document_values.unwrap_or_default();
    if v == DocumentValues::Package {
        let field = spec.source_of("document_values");
        if spec.register_package.is_none() && !spec.is_unparsed("register_package") {
            p.push(
                field.clone(),
                format!(
                    "names the registered package version's attributes, but none is registered; set {} too",
                    spec.source_of("register_package")
                ),
            );
        }
        if format != DocumentFormat::AfrOta {
            p.push(
                field,
                "only the afr_ota document takes substitution parameters (aws_fota's values are a presigned URL and a number)",
            );
        }
    }
    v
}
