//! schedulingConfig: the start and end resolved against the upload time and
//! checked against IoT's lead and horizon, the end behavior, and the
//! maintenance windows as cron.

use super::{Schedule, TimeOrigin, WindowConfig, MIN_LEAD_MINUTES};
use crate::error::Problems;
use crate::spec::RequestSpec;
use crate::times::{format_minute, TimeSpec};
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

fn utc(t: PrimitiveDateTime) -> OffsetDateTime {
    t.assume_utc()
}

/// The upload time as a minute, for messages.
fn upload_minute(upload: OffsetDateTime) -> String {
    format_minute(PrimitiveDateTime::new(upload.date(), upload.time()))
}

/// The schedule, in absolute UTC minutes; None when the request sets no
/// start, end or window.
pub(super) fn schedule(
    spec: &RequestSpec,
    upload: OffsetDateTime,
    p: &mut Problems,
) -> Option<Schedule> {
    let start = spec.start.map(|t| t.resolve(upload));
    let end = spec.end.map(|t| t.resolve(upload));
    if let Some(s) = start {
        check_start(spec, s, upload, p);
    }
    if let Some(e) = end {
        check_end_after_upload(spec, e, upload, p);
        if let Some(s) = start {
            check_end_after_start(spec, e, s, p);
        }
    }
    if spec.end_behavior.is_some() && spec.end.is_none() && !spec.is_unparsed("end") {
        p.push(
            spec.source_of("end_behavior"),
            "needs an end time (ota:end)",
        );
    }
    let windows = maintenance_windows(spec);
    if start.is_some() || end.is_some() || !windows.is_empty() {
        let origin = |field: &'static str, t: Option<TimeSpec>| {
            t.map(|t| TimeOrigin {
                field: spec.source_of(field),
                relative: matches!(t, TimeSpec::Relative(_)),
            })
        };
        Some(Schedule {
            start_time: start.map(format_minute),
            end_time: end.map(format_minute),
            end_behavior: spec.end_behavior,
            maintenance_windows: windows,
            start_origin: origin("start", spec.start),
            end_origin: origin("end", spec.end),
        })
    } else {
        None
    }
}

/// A start at least 30 minutes and at most a year after the upload.
fn check_start(spec: &RequestSpec, s: PrimitiveDateTime, upload: OffsetDateTime, p: &mut Problems) {
    let lead = Duration::minutes(MIN_LEAD_MINUTES);
    if utc(s) < upload + lead {
        p.push(
            spec.source_of("start"),
            format!(
                "{} is less than 30 minutes after the upload ({}); IoT needs a start at least 30 minutes ahead",
                format_minute(s),
                upload_minute(upload)
            ),
        );
    } else if utc(s) > upload + Duration::days(365) {
        p.push(
            spec.source_of("start"),
            format!(
                "{} is more than a year ahead; IoT schedules at most a year ahead",
                format_minute(s)
            ),
        );
    }
}

/// An end at least 30 minutes and at most two years after the upload.
fn check_end_after_upload(
    spec: &RequestSpec,
    e: PrimitiveDateTime,
    upload: OffsetDateTime,
    p: &mut Problems,
) {
    let lead = Duration::minutes(MIN_LEAD_MINUTES);
    if utc(e) < upload + lead {
        p.push(
            spec.source_of("end"),
            format!(
                "{} is less than 30 minutes after the upload ({}); the end must be at least 30 minutes after the upload",
                format_minute(e),
                upload_minute(upload)
            ),
        );
    } else if utc(e) > upload + Duration::days(2 * 365) {
        p.push(
            spec.source_of("end"),
            format!(
                "{} is more than two years ahead; the end must be within two years of the upload",
                format_minute(e)
            ),
        );
    }
}

/// An end at least 30 minutes and at most two years after the start.
fn check_end_after_start(
    spec: &RequestSpec,
    e: PrimitiveDateTime,
    s: PrimitiveDateTime,
    p: &mut Problems,
) {
    let lead = Duration::minutes(MIN_LEAD_MINUTES);
    if e < s + lead {
        p.push(
            spec.source_of("end"),
            format!(
                "{} must be at least 30 minutes after the start ({})",
                format_minute(e),
                format_minute(s)
            ),
        );
    } else if e > s + Duration::days(2 * 365) {
        p.push(
            spec.source_of("end"),
            "is more than two years after the start; a job runs at most two years",
        );
    }
}

/// Each maintenance window as the cron start and duration IoT takes.
fn maintenance_windows(spec: &RequestSpec) -> Vec<WindowConfig> {
    spec.windows
        .iter()
        .flatten()
        .map(|w| WindowConfig {
            start_time: w.cron(),
            duration_in_minutes: w.duration_minutes,
        })
        .collect()
}
