//! Schedule times: absolute UTC minutes (`2026-12-01T02:00`) as IoT's
//! schedulingConfig takes them, or offsets from the upload (`+2h`, `+1d12h`).

use serde::{Deserialize, Serialize};
use time::macros::format_description;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

/// The time now in UTC, RFC 3339 to the second (`2026-12-02T20:41:07Z`): an
/// `ota retry` event's time, the `ota:cleaned-up` tag. Empty only for a
/// clock outside years 0-9999, which RFC 3339 cannot write.
pub fn now_rfc3339() -> String {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0)
        .unwrap_or(now)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A start or end time as the user wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimeSpec {
    /// UTC, minute precision.
    Absolute(#[serde(with = "minute_format")] PrimitiveDateTime),
    /// Minutes after the upload.
    Relative(u32),
}

/// `t` in UTC, rounded up to the next whole minute (unchanged when it is one).
pub fn ceil_minute(t: OffsetDateTime) -> PrimitiveDateTime {
    let t = t.to_offset(time::UtcOffset::UTC);
    let floor = t
        .replace_second(0)
        .and_then(|t| t.replace_nanosecond(0))
        .unwrap_or(t);
    let up = if floor == t {
        t
    } else {
        floor + Duration::minutes(1)
    };
    PrimitiveDateTime::new(up.date(), up.time())
}

/// The format IoT's schedulingConfig uses: `YYYY-MM-DDTHH:MM`, UTC.
pub fn format_minute(t: PrimitiveDateTime) -> String {
    let f = format_description!("[year]-[month]-[day]T[hour]:[minute]");
    // Formatting a PrimitiveDateTime with a fixed, valid description cannot
    // fail for years 0..=9999, which is all `parse` produces.
    t.format(&f).unwrap_or_default()
}

/// `YYYY-MM-DDTHH:MM` (a trailing `Z` allowed), UTC.
pub fn parse_minute(s: &str) -> Option<PrimitiveDateTime> {
    let s = s.strip_suffix('Z').unwrap_or(s);
    let f = format_description!("[year]-[month]-[day]T[hour]:[minute]");
    PrimitiveDateTime::parse(s, &f).ok()
}

/// The largest offset accepted: two years of 365 days, the farthest an end
/// may be (validation's limit, so the two can never disagree).
pub const MAX_RELATIVE_DAYS: u64 = 2 * 365;
const MAX_RELATIVE_MINUTES: u64 = MAX_RELATIVE_DAYS * 24 * 60;

pub const TIME_GRAMMAR: &str =
    "YYYY-MM-DDTHH:MM (UTC) or an offset from the upload: +90m, +2h, +1d, +1d12h";

impl TimeSpec {
    pub fn parse(s: &str) -> Result<TimeSpec, String> {
        let bad = || format!("'{s}' is not a time; expected {TIME_GRAMMAR}");
        if let Some(rest) = s.strip_prefix('+') {
            let mut total: u64 = 0;
            let mut num = String::new();
            let mut last_unit = 0u8;
            if rest.is_empty() {
                return Err(bad());
            }
            for c in rest.chars() {
                if c.is_ascii_digit() {
                    num.push(c);
                    if num.len() > 7 {
                        return Err(bad());
                    }
                    continue;
                }
                let (rank, mins) = match c {
                    'd' => (1, 24 * 60),
                    'h' => (2, 60),
                    'm' => (3, 1),
                    _ => return Err(bad()),
                };
                // Units in order d, h, m, each at most once.
                if num.is_empty() || rank <= last_unit {
                    return Err(bad());
                }
                last_unit = rank;
                let n: u64 = num.parse().map_err(|_| bad())?;
                total += n * mins;
                num.clear();
            }
            if !num.is_empty() || total == 0 {
                return Err(bad());
            }
            if total > MAX_RELATIVE_MINUTES {
                return Err(format!(
                    "'{s}' is more than two years ahead; an offset is at most two years (+{MAX_RELATIVE_DAYS}d)"
                ));
            }
            return Ok(TimeSpec::Relative(total as u32));
        }
        parse_minute(s).map(TimeSpec::Absolute).ok_or_else(bad)
    }

    /// The text form `parse` reads back.
    pub fn render(&self) -> String {
        match self {
            TimeSpec::Absolute(t) => format_minute(*t),
            TimeSpec::Relative(m) => {
                let (d, h, mm) = (m / 1440, (m % 1440) / 60, m % 60);
                let mut s = String::from("+");
                if d > 0 {
                    s += &format!("{d}d");
                }
                if h > 0 {
                    s += &format!("{h}h");
                }
                if mm > 0 {
                    s += &format!("{mm}m");
                }
                s
            }
        }
    }

    /// The absolute UTC minute. An offset counts from the upload and rounds
    /// up to the next whole minute, so `+30m` is never under 30 minutes.
    pub fn resolve(&self, upload_time: OffsetDateTime) -> PrimitiveDateTime {
        match self {
            TimeSpec::Absolute(t) => *t,
            TimeSpec::Relative(m) => ceil_minute(upload_time + Duration::minutes(i64::from(*m))),
        }
    }
}

mod minute_format {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::PrimitiveDateTime;

    pub fn serialize<S: Serializer>(t: &PrimitiveDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_minute(*t))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<PrimitiveDateTime, D::Error> {
        let s = String::deserialize(d)?;
        super::parse_minute(&s).ok_or_else(|| serde::de::Error::custom(format!("bad time '{s}'")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn absolute_and_relative() {
        assert_eq!(
            TimeSpec::parse("2026-12-01T02:00").unwrap(),
            TimeSpec::Absolute(datetime!(2026-12-01 02:00))
        );
        assert_eq!(
            TimeSpec::parse("2026-12-01T02:00Z").unwrap(),
            TimeSpec::Absolute(datetime!(2026-12-01 02:00))
        );
        assert_eq!(TimeSpec::parse("+2h").unwrap(), TimeSpec::Relative(120));
        assert_eq!(TimeSpec::parse("+1d12h").unwrap(), TimeSpec::Relative(2160));
        assert_eq!(TimeSpec::parse("+90m").unwrap(), TimeSpec::Relative(90));
        for bad in [
            "2026-13-01T02:00",
            "2026-12-01 02:00",
            "2026-12-01T02:00:00",
            "+",
            "+0m",
            "+2x",
            "+h",
            "+1h1d",
            "+1h1h",
            "+2",
            "+800d",
            "tomorrow",
        ] {
            assert!(TimeSpec::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn relative_rounds_up_to_the_minute() {
        let upload = datetime!(2026-11-22 10:00:30 UTC);
        assert_eq!(
            TimeSpec::Relative(30).resolve(upload),
            datetime!(2026-11-22 10:31)
        );
        let upload = datetime!(2026-11-22 10:00:00 UTC);
        assert_eq!(
            TimeSpec::Relative(30).resolve(upload),
            datetime!(2026-11-22 10:30)
        );
    }

    #[test]
    fn render_round_trips() {
        for s in ["+1d2h3m", "+2h", "+45m", "+3d", "2027-01-02T03:04"] {
            assert_eq!(TimeSpec::parse(s).unwrap().render(), s);
        }
    }
}
