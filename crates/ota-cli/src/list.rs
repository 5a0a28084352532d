//! `ota list`: the jobs this pipeline created, newest first. The pipeline
//! creates no OTAUpdate resource; its jobs carry ota:source-* tags instead.

use crate::args::{GlobalArgs, ListArgs};
use crate::aws::Clients;
use crate::error::{aws, CliError};
use crate::status::job_tags_if_exists;
use ota_aws::collect_all;
use ota_core::create_job::{TAG_EXECUTION, TAG_SOURCE_BUCKET, TAG_SOURCE_KEY, TAG_SOURCE_VERSION};
use serde::Serialize;
use std::fmt::Write as _;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Update {
    pub job_id: String,
    pub status: String,
    /// RFC 3339.
    pub created_at: String,
    pub bucket: String,
    pub key: String,
    pub version_id: String,
    pub execution_arn: String,
}

pub async fn run(g: &GlobalArgs, a: &ListArgs) -> Result<Vec<Update>, CliError> {
    let c = Clients::new(g).await?;
    // Only this pipeline's updates: another stack's jobs carry the same tags
    // with its own bucket.
    let pipeline = c.pipeline(g).await?;
    list(&c, pipeline.bucket.as_deref(), a.limit).await
}

/// The jobs made from uploads to `bucket` (any bucket when None), newest
/// first, at most `limit`.
pub async fn list(
    c: &Clients,
    bucket: Option<&str>,
    limit: usize,
) -> Result<Vec<Update>, CliError> {
    let mut jobs = collect_all(c.iot.list_jobs().into_paginator().items().send())
        .await
        .map_err(aws("ListJobs"))?;
    jobs.sort_by_key(|j| std::cmp::Reverse(j.created_at().map(|t| (t.secs(), t.subsec_nanos()))));
    let mut out = Vec::new();
    for j in jobs {
        if out.len() >= limit {
            break;
        }
        let (Some(job_id), Some(arn)) = (j.job_id(), j.job_arn()) else {
            continue;
        };
        // A job deleted since the listing is not an update any more.
        let Some(tags) = job_tags_if_exists(c, arn).await? else {
            continue;
        };
        let tag = |k: &str| tags.iter().find(|(t, _)| t == k).map(|(_, v)| v.clone());
        // Jobs made by anything else have none of the pipeline's tags.
        let (Some(source_bucket), Some(key)) = (tag(TAG_SOURCE_BUCKET), tag(TAG_SOURCE_KEY)) else {
            continue;
        };
        if bucket.is_some_and(|b| b != source_bucket) {
            continue;
        }
        out.push(Update {
            job_id: job_id.to_string(),
            status: j
                .status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            created_at: j
                .created_at()
                .and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
                .unwrap_or_default(),
            bucket: source_bucket,
            key,
            version_id: tag(TAG_SOURCE_VERSION).unwrap_or_default(),
            execution_arn: tag(TAG_EXECUTION).unwrap_or_default(),
        });
    }
    Ok(out)
}

pub fn human(updates: &[Update]) -> String {
    if updates.is_empty() {
        return "no updates yet: upload firmware with `ota upload`\n".into();
    }
    let w = updates
        .iter()
        .map(|u| u.job_id.len())
        .max()
        .unwrap_or(6)
        .max(6);
    let mut s = format!(
        "{:<w$}  {:<11}  {:<20}  SOURCE\n",
        "JOB", "STATUS", "CREATED"
    );
    for u in updates {
        let _ = writeln!(
            s,
            "{:<w$}  {:<11}  {:<20}  s3://{}/{} (version {})",
            u.job_id, u.status, u.created_at, u.bucket, u.key, u.version_id
        );
    }
    s
}
