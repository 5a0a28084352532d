//! `Bounds`: the whole-number ranges AWS allows, one constant per setting.

use std::fmt;

/// An inclusive range of whole numbers AWS allows for one setting, with what
/// the number is, for messages. Tags and the manifest check against the same
/// constants.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub lo: u32,
    pub hi: u32,
    pub what: &'static str,
}

impl Bounds {
    const fn new(lo: u32, hi: u32, what: &'static str) -> Self {
        Self { lo, hi, what }
    }

    fn message(&self, shown: impl fmt::Display) -> String {
        format!(
            "'{shown}' is not {}: a whole number from {} to {}",
            self.what, self.lo, self.hi
        )
    }

    /// Parses decimal text (no sign) within the bounds.
    pub fn parse(&self, s: &str) -> Result<u32, String> {
        match s.parse::<u32>() {
            Ok(n) if (self.lo..=self.hi).contains(&n) && !s.starts_with('+') => Ok(n),
            _ => Err(self.message(s)),
        }
    }

    /// Checks a JSON number within the bounds.
    pub fn check(&self, n: i64) -> Result<u32, String> {
        u32::try_from(n)
            .ok()
            .filter(|n| (self.lo..=self.hi).contains(n))
            .ok_or_else(|| self.message(n))
    }
}

pub const FILE_TYPE: Bounds = Bounds::new(0, 255, "a file type");
pub const TIMEOUT_MINUTES: Bounds = Bounds::new(1, 10080, "an in-progress timeout in minutes");
pub const RETRIES: Bounds = Bounds::new(0, 10, "a number of retries");
pub const WINDOW_MINUTES: Bounds = Bounds::new(1, 1430, "a window length in minutes");
pub const HOUR: Bounds = Bounds::new(0, 23, "an hour");
pub const MINUTE: Bounds = Bounds::new(0, 59, "a minute");
pub const MIN_EXECUTED_THINGS: Bounds =
    Bounds::new(1, i32::MAX as u32, "a minimum number of executed things");
pub const MAX_PER_MINUTE: Bounds = Bounds::new(1, 1000, "a maximum per minute");
pub const BASE_RATE_PER_MINUTE: Bounds = Bounds::new(1, 1000, "a base rate per minute");
pub const RATE_INCREASE_THINGS: Bounds = Bounds::new(1, i32::MAX as u32, "a number of things");
pub const PRESIGNED_EXPIRY_SECONDS: Bounds =
    Bounds::new(60, 3600, "a presigned URL lifetime in seconds");
