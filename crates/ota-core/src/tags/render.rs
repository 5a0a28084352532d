//! Writing a RequestSpec as tags, in the grammar `parse_tags` reads, one tag
//! per set field in the order of `spec::FIELDS`.

use super::rollout::render_rollout;
use super::s3_rules::check_s3_tag_rules;
use crate::error::Problems;
use crate::spec::{tag_key, RequestSpec};
use crate::values::{render_percentage, render_window, AbortCriterion, RetryCriterion};

type Tags = Vec<(String, String)>;

fn put(out: &mut Tags, field: &str, v: String) {
    out.push((tag_key(field).to_string(), v));
}

fn join<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Renders a spec as tags, in the grammar `parse_tags` reads. Fails, naming
/// the tag, for what tags cannot carry (a raw cron window, a character S3
/// does not allow, more than 10 tags): put those in a manifest.
pub fn render_tags(s: &RequestSpec) -> Result<Vec<(String, String)>, Problems> {
    let mut out: Tags = Vec::new();
    let mut p = Problems::default();
    render_delivery(s, &mut out);
    render_signing(s, &mut out);
    render_job_rules(s, &mut out, &mut p);
    render_references(s, &mut out);
    p.extend(check_s3_tag_rules(&out));
    if p.is_empty() {
        Ok(out)
    } else {
        Err(p)
    }
}

/// Targets, selection, description, protocols, file path and type.
fn render_delivery(s: &RequestSpec, out: &mut Tags) {
    if let Some(v) = &s.targets {
        put(out, "targets", join(v));
    }
    if let Some(v) = &s.target_selection {
        put(out, "target_selection", v.to_string());
    }
    if let Some(v) = &s.description {
        put(out, "description", v.clone());
    }
    if let Some(v) = &s.protocols {
        put(out, "protocols", join(v));
    }
    if let Some(v) = &s.file_path {
        put(out, "file_path", v.clone());
    }
    if let Some(v) = &s.file_type {
        put(out, "file_type", v.to_string());
    }
    if let Some(v) = &s.devices {
        put(out, "devices", join(v));
    }
    if let Some(v) = &s.format {
        put(out, "format", v.to_string());
    }
    if let Some(v) = &s.firmware_version {
        put(out, "firmware_version", v.clone());
    }
}

/// The signing profile, or the signature, its algorithm and the certfile.
fn render_signing(s: &RequestSpec, out: &mut Tags) {
    if let Some(v) = &s.profile {
        put(out, "profile", v.clone());
    }
    if let Some(v) = &s.signature {
        put(out, "signature", v.clone());
    }
    if let Some(v) = &s.signature_algorithm {
        put(out, "signature_algorithm", v.clone());
    }
    if let Some(v) = &s.certfile {
        put(out, "certfile", v.clone());
    }
}

/// Timeout, retry, the schedule, abort, rollout and the presigned URL
/// lifetime.
fn render_job_rules(s: &RequestSpec, out: &mut Tags, p: &mut Problems) {
    if let Some(v) = &s.timeout_minutes {
        put(out, "timeout_minutes", v.to_string());
    }
    if let Some(v) = &s.retry {
        put(out, "retry", render_retry(v));
    }
    render_schedule(s, out, p);
    if let Some(v) = &s.abort {
        put(out, "abort", render_abort(v));
    }
    if let Some(v) = &s.rollout {
        put(out, "rollout", render_rollout(v));
    }
    if let Some(v) = &s.presigned_expiry_seconds {
        put(out, "presigned_expiry_seconds", v.to_string());
    }
}

/// Start, end, end behavior and windows; a raw cron window is a problem.
fn render_schedule(s: &RequestSpec, out: &mut Tags, p: &mut Problems) {
    if let Some(v) = &s.start {
        put(out, "start", v.render());
    }
    if let Some(v) = &s.end {
        put(out, "end", v.render());
    }
    if let Some(v) = &s.end_behavior {
        put(out, "end_behavior", v.to_string());
    }
    if let Some(v) = &s.windows {
        let rendered: Option<Vec<String>> = v.iter().map(render_window).collect();
        match rendered {
            Some(r) => put(out, "windows", r.join(" ")),
            None => p.push(
                "ota:windows",
                "a raw cron window cannot be a tag value; put it in the manifest",
            ),
        }
    }
}

/// Package versions, the job id and the manifest.
fn render_references(s: &RequestSpec, out: &mut Tags) {
    if let Some(v) = &s.packages {
        // `$default` cannot be a tag value: tags spell it `+default`.
        let forms: Vec<String> = v.iter().map(crate::values::package_tag_form).collect();
        put(out, "packages", forms.join(" "));
    }
    if let Some(v) = &s.register_package {
        put(out, "register_package", v.to_string());
    }
    if let Some(v) = s.register_default {
        put(out, "register_default", v.to_string());
    }
    if let Some(v) = s.document_values {
        put(out, "document_values", v.as_str().to_string());
    }
    if let Some(v) = &s.job_id {
        put(out, "job_id", v.clone());
    }
    if let Some(v) = &s.manifest {
        put(out, "manifest", v.clone());
    }
}

/// `FAILED:2 TIMED_OUT:3`.
fn render_retry(v: &[RetryCriterion]) -> String {
    v.iter()
        .map(|c| format!("{}:{}", c.failure_type, c.number_of_retries))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `FAILED:10:50`, the percentage exact.
fn render_abort(v: &[AbortCriterion]) -> String {
    v.iter()
        .map(|a| {
            format!(
                "{}:{}:{}",
                a.failure_type,
                render_percentage(a.threshold_basis_points),
                a.min_number_of_executed_things
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::{MaintenanceWindow, WindowStart};

    #[test]
    fn raw_cron_cannot_render_as_a_tag() {
        let s = RequestSpec {
            windows: Some(vec![MaintenanceWindow {
                start: WindowStart::Cron("cron(0 2 ? * SUN *)".into()),
                duration_minutes: 60,
            }]),
            ..Default::default()
        };
        let e = render_tags(&s).unwrap_err();
        assert_eq!(e.0[0].field, "ota:windows");
    }
}
