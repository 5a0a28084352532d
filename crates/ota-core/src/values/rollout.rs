//! The rollout (jobExecutionsRolloutConfig): a maximum rate and/or an
//! exponential rate with its exact increment factor. The tag grammar for it
//! is in `tags`.

use serde::{Deserialize, Serialize};

/// jobExecutionsRolloutConfig.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rollout {
    pub maximum_per_minute: Option<u32>,
    pub exponential_rate: Option<ExponentialRate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExponentialRate {
    pub base_rate_per_minute: u32,
    /// In tenths (AWS allows 1.1 to 5.0 with one decimal), exact in round trips.
    pub increment_factor_tenths: u32,
    pub criteria: RateIncrease,
}

impl ExponentialRate {
    pub fn increment_factor(&self) -> f64 {
        f64::from(self.increment_factor_tenths) / 10.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RateIncrease {
    NotifiedThings(u32),
    SucceededThings(u32),
}

/// An increment factor from 1.1 to 5.0 with one decimal, as tenths.
pub fn parse_increment_factor(s: &str) -> Result<u32, String> {
    let err = || format!("'{s}' is not an increment factor from 1.1 to 5.0 (one decimal)");
    let (w, f) = s.split_once('.').unwrap_or((s, "0"));
    if w.len() != 1 || f.len() != 1 {
        return Err(err());
    }
    let w: u32 = w.parse().map_err(|_| err())?;
    let f: u32 = f.parse().map_err(|_| err())?;
    let t = w * 10 + f;
    if (11..=50).contains(&t) {
        Ok(t)
    } else {
        Err(err())
    }
}

pub fn render_tenths(t: u32) -> String {
    format!("{}.{}", t / 10, t % 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn increment_factor_bounds() {
        assert_eq!(parse_increment_factor("1.1").unwrap(), 11);
        assert_eq!(parse_increment_factor("5").unwrap(), 50);
        assert_eq!(parse_increment_factor("2.5").unwrap(), 25);
        for bad in ["1.0", "5.1", "1.15", "10", "x"] {
            assert!(parse_increment_factor(bad).is_err(), "{bad} accepted");
        }
    }
}
