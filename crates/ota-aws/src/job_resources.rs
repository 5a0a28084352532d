//! What a job the pipeline made brings with it, named by the job's tags
//! (ota_core::create_job::TAG_STREAM and the signing tags): its IoT stream
//! and the version of the signer's output object that holds its signature.
//! `ota delete` and make-stream's clean-up sweep both find the jobs that
//! still carry a tag here (Resource Groups Tagging API GetResources, which
//! covers every resource type) and remove a resource only the pipeline made.

use crate::sdk_error::{classify, collect_all, found};
use aws_sdk_resourcegroupstagging::types::TagFilter;
use ota_core::OtaError;
use std::collections::BTreeMap;

/// Put on a job once its stream and signed object are dealt with (the
/// value is when, RFC 3339): the sweep skips it, and it no longer counts as
/// using them.
pub const TAG_CLEANED_UP: &str = "ota:cleaned-up";

/// A job and its tags, as GetResources returns them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedJob {
    pub arn: String,
    pub tags: BTreeMap<String, String>,
}

impl TaggedJob {
    /// The job id, from `arn:...:job/<id>`.
    pub fn job_id(&self) -> &str {
        self.arn.rsplit_once("job/").map_or("", |(_, id)| id)
    }

    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags.get(key).map(String::as_str)
    }

    pub fn cleaned_up(&self) -> bool {
        self.tags.contains_key(TAG_CLEANED_UP)
    }
}

/// The IoT jobs carrying tag `key` (with `value`, when given).
pub async fn jobs_tagged(
    tagging: &aws_sdk_resourcegroupstagging::Client,
    key: &str,
    value: Option<&str>,
) -> Result<Vec<TaggedJob>, OtaError> {
    let filter = TagFilter::builder()
        .key(key)
        .set_values(value.map(|v| vec![v.to_string()]))
        .build();
    let pages = collect_all(
        tagging
            .get_resources()
            .tag_filters(filter)
            .resource_type_filters("iot:job")
            .into_paginator()
            .send(),
    )
    .await
    .map_err(|e| classify("GetResources", &e))?;
    Ok(pages
        .iter()
        .flat_map(|p| p.resource_tag_mapping_list())
        .filter_map(|m| {
            Some(TaggedJob {
                arn: m.resource_arn()?.to_string(),
                tags: m
                    .tags()
                    .iter()
                    .map(|t| (t.key().to_string(), t.value().to_string()))
                    .collect(),
            })
        })
        .collect())
}

/// What happened to one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Removed; what it was.
    Removed(String),
    /// Left in place; what and why.
    Kept(String),
}

/// The object version a job's tags say it serves.
pub struct Source<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub version_id: &'a str,
}

/// Deletes the stream when the pipeline made it for this upload: its
/// description names the upload (crate::stream::description). The caller
/// has made sure no other job uses it.
pub async fn remove_stream(
    iot: &aws_sdk_iot::Client,
    source: &Source<'_>,
    stream_id: &str,
) -> Result<Outcome, OtaError> {
    let d = iot.describe_stream().stream_id(stream_id).send().await;
    let Some(info) = found(d, |e| e.is_resource_not_found_exception())
        .map_err(|e| classify("DescribeStream", &e))?
        .and_then(|d| d.stream_info)
    else {
        return Ok(Outcome::Kept(format!(
            "nothing for stream {stream_id}: it was already gone"
        )));
    };
    let ours = crate::stream::description_of_upload(source.bucket, source.key, source.version_id);
    if !info.description().is_some_and(|d| d.starts_with(&ours)) {
        return Ok(Outcome::Kept(format!(
            "stream {stream_id}: the pipeline did not make it for this upload"
        )));
    }
    let r = iot.delete_stream().stream_id(stream_id).send().await;
    found(r, |e| e.is_resource_not_found_exception()).map_err(|e| classify("DeleteStream", &e))?;
    Ok(Outcome::Removed(stream_id.to_string()))
}

/// Deletes the signer's output object, that version only (the bucket is
/// versioned: a delete without the version would add a marker and keep the
/// bytes). The caller has made sure no other job uses it.
pub async fn remove_signed(
    signer: &aws_sdk_signer::Client,
    s3: &aws_sdk_s3::Client,
    signing_job: &str,
    version: &str,
) -> Result<Outcome, OtaError> {
    let d = signer
        .describe_signing_job()
        .job_id(signing_job)
        .send()
        .await;
    let s3_object = found(d, |e| e.is_resource_not_found_exception())
        .map_err(|e| classify("DescribeSigningJob", &e))?
        .and_then(|d| d.signed_object)
        .and_then(|o| o.s3);
    let Some((bucket, key)) = s3_object.and_then(|s| Some((s.bucket_name?, s.key?))) else {
        return Ok(Outcome::Kept(format!(
            "the signed object of signing job {signing_job}: the signer no longer says where it is"
        )));
    };
    s3.delete_object()
        .bucket(&bucket)
        .key(&key)
        .version_id(version)
        .send()
        .await
        .map_err(|e| classify("DeleteObject", &e))?;
    Ok(Outcome::Removed(format!(
        "s3://{bucket}/{key} version {version}"
    )))
}

/// "still used by ..." for the jobs in `users`, or None when there are none.
pub fn still_used(what: &str, users: &[&TaggedJob]) -> Option<Outcome> {
    if users.is_empty() {
        return None;
    }
    let arns: Vec<&str> = users.iter().map(|j| j.arn.as_str()).collect();
    Some(Outcome::Kept(format!(
        "{what}: still used by {}",
        arns.join(", ")
    )))
}
