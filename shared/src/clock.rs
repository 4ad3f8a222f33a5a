//! The time the portal's checks go by: sign-in windows, sessions, rate limits
//! and staff sign-in delays.
//!
//! A [`Clock`] is the system clock plus an offset that starts at zero. Tests
//! move it forward to show that a window, a session or a delay expires,
//! without sleeping (and may stop it first, so that how long their requests
//! take changes nothing). Each portal has its own clock (it travels with its
//! [`crate::tokens::Tokens`]), so tests running side by side in one process
//! never move each other's time.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, NaiveDateTime};

/// The system clock, shifted by an offset only tests change (and which tests
/// may stop, so that only their moves change it).
#[derive(Debug, Clone, Default)]
pub struct Clock {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Microseconds added to the system time; shared by every clone.
    offset_micros: AtomicI64,
    /// The time it stopped at (microseconds since the epoch), or `RUNNING`.
    stopped_at_micros: AtomicI64,
}

const RUNNING: i64 = i64::MIN;

impl Default for Inner {
    fn default() -> Self {
        Self { offset_micros: AtomicI64::new(0), stopped_at_micros: AtomicI64::new(RUNNING) }
    }
}

impl Clock {
    /// The current UTC time at microsecond precision (see [`crate::domain::now`]), plus the offset.
    pub fn now(&self) -> NaiveDateTime {
        let stopped = self.inner.stopped_at_micros.load(Ordering::Relaxed);
        let base = match stopped {
            RUNNING => crate::domain::now(),
            micros => DateTime::from_timestamp_micros(micros).map_or_else(crate::domain::now, |t| t.naive_utc()),
        };
        base + Duration::microseconds(self.inner.offset_micros.load(Ordering::Relaxed))
    }

    /// The current time in whole seconds since the epoch (for token claims).
    pub fn timestamp(&self) -> i64 {
        self.now().and_utc().timestamp()
    }

    /// Moves this clock (and every clone of it) forward by `by`. For tests.
    pub fn advance(&self, by: Duration) {
        let micros = by.num_microseconds().unwrap_or(i64::MAX);
        self.inner.offset_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// Stops this clock (and every clone) where it is: from now on only
    /// [`Clock::advance`] moves it. For tests whose figures must not depend on
    /// how long their requests take.
    pub fn stop(&self) {
        let micros = crate::domain::now().and_utc().timestamp_micros();
        let _ = self.inner.stopped_at_micros.compare_exchange(RUNNING, micros, Ordering::Relaxed, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_a_clock_moves_its_clones_and_no_other_clock() {
        let clock = Clock::default();
        let clone = clock.clone();
        let other = Clock::default();
        clock.advance(Duration::days(31));
        let ahead = clone.now() - crate::domain::now();
        assert!(ahead >= Duration::days(31) - Duration::seconds(5) && ahead <= Duration::days(31), "{ahead}");
        assert!((other.now() - crate::domain::now()).num_seconds().abs() < 5);
    }

    #[test]
    fn a_stopped_clock_moves_only_when_advanced() {
        let clock = Clock::default();
        clock.stop();
        let at = clock.now();
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert_eq!(clock.now(), at);
        clock.advance(Duration::milliseconds(1500));
        assert_eq!(clock.now() - at, Duration::milliseconds(1500));
    }
}
