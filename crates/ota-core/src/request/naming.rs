//! The job's id and description: the ones given, or derived from the object
//! version.

use super::RequestContext;
use crate::ids;
use crate::spec::RequestSpec;
use crate::values::is_refused_in_description;

/// The job id given, or the deterministic one for the object version.
pub(super) fn job_id(spec: &RequestSpec, ctx: &RequestContext) -> String {
    spec.job_id
        .clone()
        .unwrap_or_else(|| ids::job_id(&ctx.bucket, &ctx.key, &ctx.version_id))
}

/// The description given, or one naming the object version (cut to 2028
/// characters, IoT's limit). An S3 key may hold characters IoT refuses in a
/// description (Unicode category C): the derived one shows each as `?`.
pub(super) fn description(spec: &RequestSpec, ctx: &RequestContext) -> String {
    spec.description.clone().unwrap_or_else(|| {
        let d = format!(
            "OTA update of s3://{}/{} version {}",
            ctx.bucket, ctx.key, ctx.version_id
        );
        d.chars()
            .map(|c| if is_refused_in_description(c) { '?' } else { c })
            .take(2028)
            .collect()
    })
}
