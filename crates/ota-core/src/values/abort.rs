//! Abort criteria (abortConfig): one criterion, its exact percentage, and the
//! list rules.

use super::bounds::MIN_EXECUTED_THINGS;
use super::keywords::AbortFailureType;
use serde::{Deserialize, Serialize};

/// One abortConfig criterion (action is always CANCEL, the only one AWS has).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AbortCriterion {
    pub failure_type: AbortFailureType,
    /// In hundredths of a percent, so that the value round-trips exactly.
    pub threshold_basis_points: u32,
    pub min_number_of_executed_things: u32,
}

impl AbortCriterion {
    pub fn threshold_percentage(&self) -> f64 {
        f64::from(self.threshold_basis_points) / 100.0
    }
}

/// A percentage with at most two decimals, above 0 and at most 100, as
/// hundredths.
pub fn parse_percentage(s: &str) -> Result<u32, String> {
    let err = || format!("'{s}' is not a percentage above 0 and at most 100 (up to 2 decimals)");
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() || whole.len() > 3 || frac.len() > 2 || (s.contains('.') && frac.is_empty())
    {
        return Err(err());
    }
    if !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err());
    }
    let w: u32 = whole.parse().map_err(|_| err())?;
    let mut f: u32 = if frac.is_empty() {
        0
    } else {
        frac.parse().map_err(|_| err())?
    };
    if frac.len() == 1 {
        f *= 10;
    }
    let bp = w * 100 + f;
    if bp == 0 || bp > 10_000 {
        return Err(err());
    }
    Ok(bp)
}

pub fn render_percentage(bp: u32) -> String {
    if bp % 100 == 0 {
        format!("{}", bp / 100)
    } else if bp % 10 == 0 {
        format!("{}.{}", bp / 100, (bp % 100) / 10)
    } else {
        format!("{}.{:02}", bp / 100, bp % 100)
    }
}

pub fn parse_abort_criterion(s: &str) -> Result<AbortCriterion, String> {
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() != 3 {
        return Err(format!(
            "'{s}' is not TYPE:PERCENT:MIN_THINGS (e.g. FAILED:10:50; TYPE is FAILED, REJECTED, TIMED_OUT or ALL)"
        ));
    }
    Ok(AbortCriterion {
        failure_type: AbortFailureType::parse(parts[0])?,
        threshold_basis_points: parse_percentage(parts[1])?,
        min_number_of_executed_things: MIN_EXECUTED_THINGS.parse(parts[2])?,
    })
}

pub fn check_abort_list(list: &[AbortCriterion]) -> Result<(), String> {
    if list.is_empty() {
        return Err("is empty; give at least one TYPE:PERCENT:MIN_THINGS".into());
    }
    for (i, a) in list.iter().enumerate() {
        if list[..i].iter().any(|b| b.failure_type == a.failure_type) {
            return Err(format!(
                "names {} twice; each failure type at most once",
                a.failure_type
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_are_exact() {
        assert_eq!(parse_percentage("10").unwrap(), 1000);
        assert_eq!(parse_percentage("12.5").unwrap(), 1250);
        assert_eq!(parse_percentage("0.01").unwrap(), 1);
        assert_eq!(parse_percentage("100").unwrap(), 10000);
        for bad in ["0", "100.01", "101", "1.234", "", ".5", "5.", "-1", "1e2"] {
            assert!(parse_percentage(bad).is_err(), "{bad} accepted");
        }
        for bp in [1, 10, 100, 1250, 1255, 10000] {
            assert_eq!(parse_percentage(&render_percentage(bp)).unwrap(), bp);
        }
    }

    #[test]
    fn abort_rules() {
        let a = parse_abort_criterion("FAILED:10:50").unwrap();
        assert_eq!(a.threshold_percentage(), 10.0);
        assert_eq!(a.min_number_of_executed_things, 50);
        assert!(parse_abort_criterion("FAILED:10:0").is_err());
        assert!(parse_abort_criterion("CANCELED:10:5").is_err());
        assert!(parse_abort_criterion("FAILED:10").is_err());
        assert!(check_abort_list(&[a, a]).is_err());
        assert!(check_abort_list(&[a]).is_ok());
    }
}
