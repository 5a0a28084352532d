//! Retry criteria (jobExecutionsRetryConfig): one criterion and the list rules.

use super::bounds::RETRIES;
use super::keywords::RetryFailureType;
use serde::{Deserialize, Serialize};

/// One jobExecutionsRetryConfig criterion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryCriterion {
    pub failure_type: RetryFailureType,
    pub number_of_retries: u32,
}

/// Checks a retry criteria list as AWS does: 1 or 2 criteria, 0..10 retries
/// each, no failure type twice, ALL alone.
pub fn check_retry_list(list: &[RetryCriterion]) -> Result<(), String> {
    if list.is_empty() || list.len() > 2 {
        return Err(format!(
            "has {} criteria; a retry policy has 1 or 2 (e.g. FAILED:2 TIMED_OUT:3)",
            list.len()
        ));
    }
    if list.len() == 2 && list[0].failure_type == list[1].failure_type {
        return Err(format!(
            "names {} twice; each failure type at most once",
            list[0].failure_type
        ));
    }
    if list.len() == 2 && list.iter().any(|c| c.failure_type == RetryFailureType::All) {
        return Err("ALL already covers FAILED and TIMED_OUT; use it alone".into());
    }
    Ok(())
}

pub fn parse_retry_criterion(s: &str) -> Result<RetryCriterion, String> {
    let (t, n) = s
        .split_once(':')
        .ok_or_else(|| format!("'{s}' is not TYPE:RETRIES (TYPE is FAILED, TIMED_OUT or ALL)"))?;
    let failure_type = RetryFailureType::parse(t)?;
    let number_of_retries = RETRIES.parse(n)?;
    Ok(RetryCriterion {
        failure_type,
        number_of_retries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_rules() {
        assert_eq!(
            parse_retry_criterion("FAILED:2").unwrap(),
            RetryCriterion {
                failure_type: RetryFailureType::Failed,
                number_of_retries: 2
            }
        );
        assert!(parse_retry_criterion("FAILED:11").is_err());
        assert!(parse_retry_criterion("FAILED:10").is_ok());
        assert!(parse_retry_criterion("FAILED:-1").is_err());
        assert!(parse_retry_criterion("FAILED:+1").is_err());
        assert!(parse_retry_criterion("REJECTED:1").is_err());
        assert!(parse_retry_criterion("FAILED").is_err());
        let f = parse_retry_criterion("FAILED:1").unwrap();
        let t = parse_retry_criterion("TIMED_OUT:1").unwrap();
        let a = parse_retry_criterion("ALL:1").unwrap();
        assert!(check_retry_list(&[f, t]).is_ok());
        assert!(check_retry_list(&[a]).is_ok());
        assert!(check_retry_list(&[]).is_err());
        assert!(check_retry_list(&[f, f]).is_err());
        assert!(check_retry_list(&[f, a]).is_err());
        assert!(check_retry_list(&[f, t, a]).is_err());
    }
}
