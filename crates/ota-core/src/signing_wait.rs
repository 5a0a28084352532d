//! How the pipeline waits for AWS Signer (benchmark B7 in benches/README.md).
//!
//! Signer usually finishes in seconds. Each round of the state machine's
//! wait loop (Wait -> Await Signing -> Signed?) costs three state
//! transitions and a second of Wait at least, so polling only through it
//! either adds seconds after the signer is done or spends a hundred
//! transitions a minute. Instead, while signing is young (under
//! [`FAST_PHASE`] since it started), await-signing keeps asking inside one
//! invocation, [`poll_interval`] apart and for at most [`INVOCATION_BUDGET`];
//! after that, one look per invocation and the state machine's Wait does the
//! waiting ([`next_signing_wait`]), so a long signer wait costs no Lambda
//! time. Every interval is at most a tenth of the time signing has taken so
//! far (0.5 s in the first ten seconds), so the pipeline adds about that
//! little to any signer delay.

use std::time::Duration;

/// Signing younger than this is polled inside the invocation.
pub const FAST_PHASE: Duration = Duration::from_secs(60);

/// The longest one await-signing invocation polls; the function's timeout
/// (the template's 60 s) leaves room for the SDK's retries after it.
pub const INVOCATION_BUDGET: Duration = Duration::from_secs(40);

/// The longest single Wait between looks.
pub const MAX_SIGNING_WAIT_STEP_SECONDS: u32 = 30;

/// Inside the fast phase: 0.5 s apart for the first ten seconds (two
/// DescribeSigningJob calls a second for one signing job), then 8% of the
/// time signing has taken, at least 1 s.
pub fn poll_interval(since_start: Duration) -> Duration {
    if since_start < Duration::from_secs(10) {
        return Duration::from_millis(500);
    }
    since_start.mul_f64(0.08).max(Duration::from_secs(1))
}

/// Whether to look again in this invocation, and after what pause: only in
/// the fast phase, and only within the invocation's budget.
pub fn poll_again(since_start: Duration, in_invocation: Duration) -> Option<Duration> {
    if since_start >= FAST_PHASE {
        return None;
    }
    let pause = poll_interval(since_start);
    (in_invocation + pause <= INVOCATION_BUDGET).then_some(pause)
}

/// The state machine's Wait after an InProgress answer, in whole seconds (a
/// Wait state's `SecondsPath` takes an integer): a tenth of the time signing
/// has taken, at least 1 s and at most [`MAX_SIGNING_WAIT_STEP_SECONDS`].
pub fn next_signing_wait(since_start_seconds: u64) -> u32 {
    (since_start_seconds / 10).clamp(1, u64::from(MAX_SIGNING_WAIT_STEP_SECONDS)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_stay_within_a_tenth_of_the_wait_so_far() {
        for s in [10u64, 11, 20, 45, 59] {
            let i = poll_interval(Duration::from_secs(s));
            assert!(i <= Duration::from_secs(s) / 10, "{s} s: {i:?}");
        }
        assert_eq!(
            poll_interval(Duration::from_secs(3)),
            Duration::from_millis(500)
        );
        assert_eq!(
            poll_interval(Duration::from_secs(12)),
            Duration::from_secs(1)
        );
        for s in [60u64, 61, 125, 299, 300, 7_200] {
            let w = u64::from(next_signing_wait(s));
            assert!(w * 10 <= s.max(10), "{s} s: wait {w}");
        }
        assert_eq!(next_signing_wait(0), 1);
        assert_eq!(next_signing_wait(7_200), 30);
    }

    #[test]
    fn polling_stops_at_the_fast_phase_and_the_budget() {
        assert_eq!(
            poll_again(Duration::from_secs(5), Duration::ZERO),
            Some(Duration::from_millis(500))
        );
        assert_eq!(poll_again(FAST_PHASE, Duration::ZERO), None);
        assert_eq!(
            poll_again(
                Duration::from_secs(5),
                INVOCATION_BUDGET - Duration::from_millis(100)
            ),
            None
        );
    }
}
