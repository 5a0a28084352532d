//! create-job's re-check of the schedule against its own clock.
//!
//! IoT measures a scheduled start's 30-minute lead (and an end's) from the
//! CreateJob call, not from the upload. Validation at start-signing measures
//! from the upload, which catches most mistakes before anything is signed,
//! but by the time create-job runs the signer, retries or a late EventBridge
//! delivery may have eaten into that lead. So, right before CreateJob:
//! - a time the user gave as an offset (`+2h`: "two hours from the upload")
//!   that has become too close moves to the earliest minute IoT accepts, and
//!   the move is reported (job tag, output, logs);
//! - a fixed time (`2026-12-01T02:00`) that has become too close is refused
//!   with InvalidRequest naming its tag, and Clean Up removes what the run
//!   made: the user chose that minute, and a different one could be wrong.
//!
//! The one- and two-year horizons are checked the same way; time passing
//! only moves a start or end further from them, but a moved start can bring
//! the end closer than 30 minutes after it.

use super::{Schedule, TimeOrigin, MIN_LEAD_MINUTES};
use crate::error::{OtaError, Problems};
use crate::times::{ceil_minute, format_minute, parse_minute as parse};
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

/// A time create-job moved: which (`start`, `end`), its field, from and to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub which: &'static str,
    pub field: String,
    pub from: String,
    pub to: String,
}

impl Moved {
    /// As an IoT tag value (letters, digits, spaces and `_ . : / = + - @`).
    pub fn tag_value(&self) -> String {
        format!("{} moved from {} to {}", self.which, self.from, self.to)
    }
}

/// The earliest minute IoT takes for a job created now: 30 minutes ahead,
/// rounded up to a whole minute, plus a minute for the call itself.
pub fn earliest_minute(now: OffsetDateTime) -> PrimitiveDateTime {
    ceil_minute(now + Duration::minutes(MIN_LEAD_MINUTES + 1))
}

/// What the schedule becomes when the job is created `now`, and what moved;
/// InvalidRequest (every problem, each naming its field) when a fixed time no
/// longer fits.
pub fn reschedule(s: &Schedule, now: OffsetDateTime) -> Result<(Schedule, Vec<Moved>), OtaError> {
    let mut out = s.clone();
    let mut moved = Vec::new();
    let mut p = Problems::default();
    let earliest = earliest_minute(now);
    let now_minute = format_minute(PrimitiveDateTime::new(now.date(), now.time()));
    let start = s.start_time.as_deref().and_then(parse);
    let start = start.map(|t| {
        let origin = origin(&s.start_origin, "ota:start");
        let t = at_least(
            t,
            earliest,
            "start",
            &origin,
            &now_minute,
            &mut moved,
            &mut p,
        );
        if t > earliest + Duration::days(365) {
            p.push(
                origin.field.clone(),
                format!(
                    "{} is more than a year ahead; IoT schedules at most a year ahead",
                    format_minute(t)
                ),
            );
        }
        t
    });
    if let Some(e) = s.end_time.as_deref().and_then(parse) {
        let origin = origin(&s.end_origin, "ota:end");
        let mut e = at_least(e, earliest, "end", &origin, &now_minute, &mut moved, &mut p);
        if let Some(st) = start {
            e = at_least(
                e,
                st + Duration::minutes(MIN_LEAD_MINUTES),
                "end",
                &origin,
                &now_minute,
                &mut moved,
                &mut p,
            );
            if e > st + Duration::days(2 * 365) {
                p.push(
                    origin.field.clone(),
                    "is more than two years after the start; a job runs at most two years",
                );
            }
        }
        out.end_time = Some(format_minute(e));
    }
    out.start_time = start.map(format_minute);
    p.into_result()?;
    Ok((out, merge_moves(moved)))
}

/// A time no earlier than `floor`: an offset moves up to it, a fixed time
/// that is earlier is a problem.
fn at_least(
    t: PrimitiveDateTime,
    floor: PrimitiveDateTime,
    which: &'static str,
    origin: &TimeOrigin,
    now: &str,
    moved: &mut Vec<Moved>,
    p: &mut Problems,
) -> PrimitiveDateTime {
    if t >= floor {
        return t;
    }
    if origin.relative {
        moved.push(Moved {
            which,
            field: origin.field.clone(),
            from: format_minute(t),
            to: format_minute(floor),
        });
        floor
    } else {
        p.push(
            origin.field.clone(),
            format!(
                "{} is now too close: the job is being created at {now} UTC, and IoT needs a scheduled {which} at least {MIN_LEAD_MINUTES} minutes ahead of that (and an end at least {MIN_LEAD_MINUTES} minutes after the start); nothing was kept: upload again with a later time, or an offset such as +2h",
                format_minute(t)
            ),
        );
        t
    }
}

/// An end moved twice (past now, then past the moved start) is one move.
fn merge_moves(moved: Vec<Moved>) -> Vec<Moved> {
    let mut out: Vec<Moved> = Vec::new();
    for m in moved {
        match out.iter_mut().find(|o| o.which == m.which) {
            Some(o) => o.to = m.to,
            None => out.push(m),
        }
    }
    out
}

/// The origin recorded at validation; a state from before origins were
/// recorded counts as a fixed time from the tag.
fn origin(o: &Option<TimeOrigin>, tag: &str) -> TimeOrigin {
    o.clone().unwrap_or(TimeOrigin {
        field: tag.to_string(),
        relative: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn schedule(start: Option<(&str, bool)>, end: Option<(&str, bool)>) -> Schedule {
        let origin = |field: &str, (_, relative): (&str, bool)| TimeOrigin {
            field: field.into(),
            relative,
        };
        Schedule {
            start_time: start.map(|s| s.0.to_string()),
            end_time: end.map(|e| e.0.to_string()),
            end_behavior: None,
            maintenance_windows: Vec::new(),
            start_origin: start.map(|s| origin("ota:start", s)),
            end_origin: end.map(|e| origin("ota:end", e)),
        }
    }

    const NOW: OffsetDateTime = datetime!(2026-12-01 10:00:20 UTC);

    #[test]
    fn the_earliest_minute_leaves_thirty_minutes_and_a_margin() {
        assert_eq!(format_minute(earliest_minute(NOW)), "2026-12-01T10:32");
        assert_eq!(
            format_minute(earliest_minute(datetime!(2026-12-01 10:00:00 UTC))),
            "2026-12-01T10:31"
        );
    }

    #[test]
    fn times_still_far_enough_are_kept() {
        let s = schedule(
            Some(("2026-12-01T12:00", true)),
            Some(("2026-12-02T12:00", false)),
        );
        let (out, moved) = reschedule(&s, NOW).unwrap();
        assert_eq!(out, s);
        assert!(moved.is_empty());
    }

    #[test]
    fn an_offset_that_became_too_close_moves_to_the_earliest_minute() {
        // "+30m" from an upload at 09:55 resolved to 10:25; signing took long.
        let s = schedule(
            Some(("2026-12-01T10:25", true)),
            Some(("2026-12-01T10:40", true)),
        );
        let (out, moved) = reschedule(&s, NOW).unwrap();
        assert_eq!(out.start_time.as_deref(), Some("2026-12-01T10:32"));
        // The end moves past the moved start too: 30 minutes after it.
        assert_eq!(out.end_time.as_deref(), Some("2026-12-01T11:02"));
        assert_eq!(moved.len(), 2);
        assert_eq!(
            moved[0].tag_value(),
            "start moved from 2026-12-01T10:25 to 2026-12-01T10:32"
        );
        assert_eq!(
            moved[1].tag_value(),
            "end moved from 2026-12-01T10:40 to 2026-12-01T11:02"
        );
        for m in &moved {
            assert!(m
                .tag_value()
                .chars()
                .all(|c| c.is_alphanumeric() || " _.:/=+-@".contains(c)));
        }
    }

    #[test]
    fn a_fixed_time_that_became_too_close_is_refused_naming_its_field() {
        let s = schedule(Some(("2026-12-01T10:25", false)), None);
        let e = reschedule(&s, NOW).unwrap_err();
        assert_eq!(e.error_type(), "InvalidRequest");
        assert_eq!(e.problems().len(), 1);
        assert_eq!(e.problems()[0].field, "ota:start");
        assert!(
            e.problems()[0]
                .message
                .contains("2026-12-01T10:25 is now too close"),
            "{e}"
        );
        // A fixed end that a moved start overtakes is refused too.
        let s = schedule(
            Some(("2026-12-01T10:20", true)),
            Some(("2026-12-01T10:45", false)),
        );
        let e = reschedule(&s, NOW).unwrap_err();
        assert_eq!(e.problems()[0].field, "ota:end");
    }

    #[test]
    fn a_state_without_origins_counts_its_times_as_fixed() {
        let mut s = schedule(Some(("2026-12-01T10:25", true)), None);
        s.start_origin = None;
        assert!(reschedule(&s, NOW).is_err());
    }
}
