//! The rollout tag's grammar: `max:N` and/or `base:N factor:F notified:N|succeeded:N`.

use crate::values::{
    parse_increment_factor, render_tenths, ExponentialRate, RateIncrease, Rollout,
    BASE_RATE_PER_MINUTE, MAX_PER_MINUTE, RATE_INCREASE_THINGS,
};

pub const ROLLOUT_GRAMMAR: &str = "max:N (1-1000 per minute) and/or base:N factor:F notified:N|succeeded:N (exponential: base 1-1000, factor 1.1-5.0)";

pub fn parse_rollout(v: &str) -> Result<Rollout, String> {
    let mut r = Rollout::default();
    let (mut base, mut factor, mut crit) = (None, None, None);
    for item in v.split_whitespace() {
        let (k, n) = item
            .split_once(':')
            .ok_or_else(|| format!("'{item}' is not KEY:VALUE; expected {ROLLOUT_GRAMMAR}"))?;
        let dup = |set: bool| {
            if set {
                Err(format!("'{k}' is given twice; each setting at most once"))
            } else {
                Ok(())
            }
        };
        match k {
            "max" => {
                dup(r.maximum_per_minute.is_some())?;
                r.maximum_per_minute = Some(MAX_PER_MINUTE.parse(n)?);
            }
            "base" => {
                dup(base.is_some())?;
                base = Some(BASE_RATE_PER_MINUTE.parse(n)?);
            }
            "factor" => {
                dup(factor.is_some())?;
                factor = Some(parse_increment_factor(n)?);
            }
            "notified" => {
                dup(crit.is_some())?;
                crit = Some(RateIncrease::NotifiedThings(RATE_INCREASE_THINGS.parse(n)?));
            }
            "succeeded" => {
                dup(crit.is_some())?;
                crit = Some(RateIncrease::SucceededThings(
                    RATE_INCREASE_THINGS.parse(n)?,
                ));
            }
            _ => {
                return Err(format!(
                    "'{k}' is not a rollout setting; expected {ROLLOUT_GRAMMAR}"
                ))
            }
        }
    }
    match (base, factor, crit) {
        (None, None, None) => {}
        (Some(b), Some(f), Some(c)) => {
            r.exponential_rate = Some(ExponentialRate {
                base_rate_per_minute: b,
                increment_factor_tenths: f,
                criteria: c,
            })
        }
        _ => return Err(
            "an exponential rollout needs all of base:N, factor:F and notified:N or succeeded:N"
                .into(),
        ),
    }
    if r == Rollout::default() {
        return Err(format!("is empty; expected {ROLLOUT_GRAMMAR}"));
    }
    Ok(r)
}

pub fn render_rollout(r: &Rollout) -> String {
    let mut parts = Vec::new();
    if let Some(m) = r.maximum_per_minute {
        parts.push(format!("max:{m}"));
    }
    if let Some(e) = &r.exponential_rate {
        parts.push(format!("base:{}", e.base_rate_per_minute));
        parts.push(format!(
            "factor:{}",
            render_tenths(e.increment_factor_tenths)
        ));
        parts.push(match e.criteria {
            RateIncrease::NotifiedThings(n) => format!("notified:{n}"),
            RateIncrease::SucceededThings(n) => format!("succeeded:{n}"),
        });
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rollout_grammar() {
        let r = parse_rollout("max:100 base:10 factor:2.5 notified:50").unwrap();
        assert_eq!(r.maximum_per_minute, Some(100));
        let e = r.exponential_rate.unwrap();
        assert_eq!(e.increment_factor(), 2.5);
        assert_eq!(e.criteria, RateIncrease::NotifiedThings(50));
        assert_eq!(render_rollout(&r), "max:100 base:10 factor:2.5 notified:50");
        assert!(parse_rollout("max:0").is_err());
        assert!(parse_rollout("max:1001").is_err());
        assert!(parse_rollout("max:5 max:6").is_err());
        assert!(parse_rollout("base:10 factor:2").is_err());
        assert!(parse_rollout("base:10 factor:2 notified:1 succeeded:1").is_err());
        assert!(parse_rollout("speed:10").is_err());
    }
}
