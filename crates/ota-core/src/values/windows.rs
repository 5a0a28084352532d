//! Maintenance windows: the tag grammar's weekly form, raw cron from the
//! manifest, and the cron expression each becomes.

use super::bounds::{HOUR, MINUTE, WINDOW_MINUTES};
use super::keywords::Weekday;
use serde::{Deserialize, Serialize};

/// A maintenance window: when it opens (cron) and for how long.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintenanceWindow {
    pub start: WindowStart,
    pub duration_minutes: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum WindowStart {
    /// The tag grammar's weekly form: on these days (empty: every day) at
    /// hour:minute UTC.
    Weekly {
        days: Vec<DayRange>,
        hour: u32,
        minute: u32,
    },
    /// A raw cron expression from the manifest, `cron(...)`.
    Cron(String),
}

/// A day or an inclusive range of days (`MON-FRI`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayRange {
    pub from: Weekday,
    pub to: Weekday,
}

impl DayRange {
    /// `MON`, `MON-FRI`, ... joined with `sep` (`,` in cron, `+` in tags).
    pub fn join(days: &[DayRange], sep: &str) -> String {
        days.iter()
            .map(|d| {
                if d.from == d.to {
                    d.from.to_string()
                } else {
                    format!("{}-{}", d.from, d.to)
                }
            })
            .collect::<Vec<_>>()
            .join(sep)
    }
}

impl MaintenanceWindow {
    /// The `startTime` cron expression IoT wants.
    pub fn cron(&self) -> String {
        match &self.start {
            WindowStart::Cron(c) => c.clone(),
            WindowStart::Weekly { days, hour, minute } => {
                let dow = if days.is_empty() {
                    "*".to_string()
                } else {
                    DayRange::join(days, ",")
                };
                format!("cron({minute} {hour} ? * {dow} *)")
            }
        }
    }
}

pub const WINDOW_GRAMMAR: &str =
    "DAYS@HH:MM/MINUTES, DAYS one of DAILY, MON, MON-FRI, SAT+SUN (times UTC, 1-1430 minutes)";

pub fn parse_window(s: &str) -> Result<MaintenanceWindow, String> {
    let bad = || format!("'{s}' is not a maintenance window; expected {WINDOW_GRAMMAR}");
    let (days, rest) = s.split_once('@').ok_or_else(bad)?;
    let (time, duration) = rest.split_once('/').ok_or_else(bad)?;
    let (hh, mm) = time.split_once(':').ok_or_else(bad)?;
    if hh.len() != 2 || mm.len() != 2 {
        return Err(bad());
    }
    let hour = HOUR.parse(hh).map_err(|_| bad())?;
    let minute = MINUTE.parse(mm).map_err(|_| bad())?;
    let duration_minutes = WINDOW_MINUTES.parse(duration)?;
    let days = if days == "DAILY" {
        Vec::new()
    } else {
        let mut out = Vec::new();
        for part in days.split('+') {
            let range = match part.split_once('-') {
                Some((a, b)) => DayRange {
                    from: Weekday::parse(a).map_err(|_| bad())?,
                    to: Weekday::parse(b).map_err(|_| bad())?,
                },
                None => {
                    let d = Weekday::parse(part).map_err(|_| bad())?;
                    DayRange { from: d, to: d }
                }
            };
            out.push(range);
        }
        out
    };
    Ok(MaintenanceWindow {
        start: WindowStart::Weekly { days, hour, minute },
        duration_minutes,
    })
}

pub fn render_window(w: &MaintenanceWindow) -> Option<String> {
    match &w.start {
        WindowStart::Cron(_) => None,
        WindowStart::Weekly { days, hour, minute } => {
            let d = if days.is_empty() {
                "DAILY".to_string()
            } else {
                DayRange::join(days, "+")
            };
            Some(format!("{d}@{hour:02}:{minute:02}/{}", w.duration_minutes))
        }
    }
}

/// A raw cron expression as EventBridge and IoT accept it: `cron(` six fields `)`.
pub fn parse_cron(s: &str) -> Result<String, String> {
    let inner = s
        .strip_prefix("cron(")
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| {
            format!("'{s}' is not cron(MIN HOUR DAY-OF-MONTH MONTH DAY-OF-WEEK YEAR)")
        })?;
    let fields: Vec<&str> = inner.split_whitespace().collect();
    if fields.len() != 6 {
        return Err(format!(
            "'{s}' has {} fields; cron() takes 6: MIN HOUR DAY-OF-MONTH MONTH DAY-OF-WEEK YEAR",
            fields.len()
        ));
    }
    if fields[2] != "?" && fields[4] != "?" {
        return Err(format!(
            "'{s}': one of day-of-month and day-of-week must be '?'"
        ));
    }
    let ok_chars = |f: &str| {
        f.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b",-*?/#".contains(&b))
    };
    if !fields.iter().all(|f| ok_chars(f)) {
        return Err(format!("'{s}' has characters cron does not use"));
    }
    Ok(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_become_cron() {
        let w = parse_window("MON-FRI@02:00/120").unwrap();
        assert_eq!(w.cron(), "cron(0 2 ? * MON-FRI *)");
        assert_eq!(w.duration_minutes, 120);
        let w = parse_window("SAT+SUN@23:30/60").unwrap();
        assert_eq!(w.cron(), "cron(30 23 ? * SAT,SUN *)");
        assert_eq!(
            parse_window("DAILY@01:05/1").unwrap().cron(),
            "cron(5 1 ? * * *)"
        );
        for bad in [
            "MON@02:00/0",
            "MON@02:00/1431",
            "MON@24:00/10",
            "MON@2:00/10",
            "FUN@02:00/10",
            "MON 02:00/10",
            "MON@02:00",
        ] {
            assert!(parse_window(bad).is_err(), "{bad} accepted");
        }
        assert!(parse_window("MON@02:00/1430").is_ok());
    }

    #[test]
    fn cron_shape() {
        assert!(parse_cron("cron(0 2 ? * SUN *)").is_ok());
        assert!(parse_cron("cron(0 2 1 * ? *)").is_ok());
        assert!(parse_cron("cron(0 2 1 * MON *)").is_err());
        assert!(parse_cron("cron(0 2 ? * SUN)").is_err());
        assert!(parse_cron("0 2 ? * SUN *").is_err());
        assert!(parse_cron("cron(0 2 ? * SUN; *)").is_err());
    }
}
