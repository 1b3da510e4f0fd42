use serde::{Deserialize, Serialize};
use std::fmt;

/// A point in time in whole seconds since the Unix epoch: the unit of every time the store keeps.
///
/// A newtype rather than a bare `i64` so that seconds are never mixed up with the milliseconds of the JSON API.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_unix_seconds(seconds: i64) -> Self {
        Self(seconds)
    }

    pub const fn unix_seconds(self) -> i64 {
        self.0
    }

    pub const fn unix_millis(self) -> i64 {
        self.0.saturating_mul(1000)
    }

    /// `self + seconds`, saturating instead of overflowing on absurd lifetimes.
    pub const fn plus_seconds(self, seconds: i64) -> Self {
        Self(self.0.saturating_add(seconds))
    }

    /// True when something that expires at `self` is no longer valid at `now`.
    pub fn has_passed(self, now: Timestamp) -> bool {
        self <= now
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_inclusive_of_the_expiry_second() {
        let expires = Timestamp::from_unix_seconds(100);
        assert!(!expires.has_passed(Timestamp::from_unix_seconds(99)));
        assert!(expires.has_passed(Timestamp::from_unix_seconds(100)));
    }

    #[test]
    fn arithmetic_saturates() {
        assert_eq!(Timestamp::from_unix_seconds(i64::MAX).plus_seconds(10).unix_seconds(), i64::MAX);
        assert_eq!(Timestamp::from_unix_seconds(i64::MAX).unix_millis(), i64::MAX);
        assert_eq!(Timestamp::from_unix_seconds(3).unix_millis(), 3000);
    }
}
