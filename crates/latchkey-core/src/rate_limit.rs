//! Request rate limits (RFC 6819 §4.4.1.11, RFC 7662 §4): a token bucket per key (a client, an address
//! group, a user), refilled continuously, refusing with `too_many_requests` and the seconds to wait. Time is
//! an input, as everywhere.
//!
//! Buckets are kept in this process's memory: a limit holds per server, so N servers behind one name allow
//! up to N times the rate (docs/SCALING.md). That keeps a check off the database, where the login throttle
//! (which must hold across servers) lives. Memory is bounded: past [`MAX_KEYS`] keys, full buckets (keys
//! that have been quiet long enough to owe nothing) are forgotten, and if all are in use a new key is let
//! through unlimited rather than refused, so a flood of addresses cannot make the limiter refuse everyone.

use crate::OAuthError;
use latchkey_model::Timestamp;
use std::collections::HashMap;
use std::sync::Mutex;

/// Keys kept per limiter at most (a bucket is a few dozen bytes).
pub const MAX_KEYS: usize = 100_000;
const SHARDS: usize = 16;

/// A rate: `per_minute` requests on average, bursts of up to `burst` at once. Zero `per_minute`: unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub per_minute: u32,
    pub burst: u32,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: i64,
}

#[derive(Debug)]
pub struct RateLimiter {
    rate: Rate,
    shards: Vec<Mutex<HashMap<String, Bucket>>>,
}

impl RateLimiter {
    /// `None` for an unlimited rate.
    pub fn new(rate: Rate) -> Option<Self> {
        (rate.per_minute > 0).then(|| Self {
            rate: Rate { burst: rate.burst.max(1), ..rate },
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        })
    }

    fn per_second(&self) -> f64 {
        f64::from(self.rate.per_minute) / 60.0
    }

    fn shard(&self, key: &str) -> &Mutex<HashMap<String, Bucket>> {
        use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
        let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(key);
        let index = usize::try_from(hash % SHARDS as u64).unwrap_or(0);
        &self.shards[index.min(SHARDS - 1)]
    }

    /// Takes one request off `key`'s bucket at `now`, or refuses with the whole seconds until one is there.
    pub fn admit(&self, key: &str, now: Timestamp) -> Result<(), OAuthError> {
        let (burst, per_second, now) = (f64::from(self.rate.burst), self.per_second(), now.unix_seconds());
        let mut buckets = match self.shard(key).lock() {
            Ok(buckets) => buckets,
            Err(poisoned) => poisoned.into_inner(),
        };
        let refilled = |bucket: &Bucket| {
            let elapsed = now.saturating_sub(bucket.at).max(0) as f64;
            (bucket.tokens + elapsed * per_second).min(burst)
        };
        if !buckets.contains_key(key) && buckets.len() >= MAX_KEYS / SHARDS {
            buckets.retain(|_, bucket| refilled(bucket) < burst);
            if buckets.len() >= MAX_KEYS / SHARDS {
                tracing::warn!("rate limiter full: a new key goes unlimited");
                return Ok(());
            }
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket { tokens: burst, at: now });
        let tokens = refilled(bucket);
        if tokens >= 1.0 {
            *bucket = Bucket { tokens: tokens - 1.0, at: now };
            return Ok(());
        }
        *bucket = Bucket { tokens, at: now };
        // Less a hair, so that float error cannot round an exact 20 s up to 21.
        let wait = ((1.0 - tokens) / per_second - 1e-9).ceil().max(1.0) as i64;
        Err(OAuthError::too_many_requests(wait))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_unix_seconds(1_800_000_000 + seconds)
    }

    #[test]
    fn a_burst_then_the_rate() {
        let limiter = RateLimiter::new(Rate { per_minute: 60, burst: 3 }).unwrap();
        for _ in 0..3 {
            limiter.admit("a", at(0)).unwrap();
        }
        let refused = limiter.admit("a", at(0)).unwrap_err();
        assert_eq!((refused.code, refused.retry_after_seconds), (ErrorCode::TooManyRequests, Some(1)));
        limiter.admit("b", at(0)).expect("another key has its own bucket");
        limiter.admit("a", at(1)).expect("one a second");
        assert!(limiter.admit("a", at(1)).is_err());
        limiter.admit("a", at(100)).unwrap();
        limiter.admit("a", at(100)).unwrap();
        limiter.admit("a", at(100)).unwrap();
        assert!(limiter.admit("a", at(100)).is_err(), "refilled to the burst, no more");
    }

    #[test]
    fn slow_rates_say_how_long_to_wait() {
        let limiter = RateLimiter::new(Rate { per_minute: 2, burst: 1 }).unwrap();
        limiter.admit("a", at(0)).unwrap();
        assert_eq!(limiter.admit("a", at(0)).unwrap_err().retry_after_seconds, Some(30));
        assert_eq!(limiter.admit("a", at(10)).unwrap_err().retry_after_seconds, Some(20));
        limiter.admit("a", at(30)).unwrap();
    }

    #[test]
    fn zero_is_unlimited() {
        assert!(RateLimiter::new(Rate { per_minute: 0, burst: 10 }).is_none());
    }

    #[test]
    fn memory_stays_bounded_and_quiet_keys_are_forgotten() {
        let limiter = RateLimiter::new(Rate { per_minute: 60, burst: 1 }).unwrap();
        for i in 0..(MAX_KEYS + 5_000) {
            let _ = limiter.admit(&format!("k{i}"), at(0));
        }
        let kept: usize = limiter.shards.iter().map(|shard| shard.lock().unwrap().len()).sum();
        assert!(kept <= MAX_KEYS, "{kept}");
        // A second later every bucket is full again: making room forgets them and limits the new keys.
        limiter.admit("new", at(1)).unwrap();
        assert!(limiter.admit("new", at(1)).is_err());
    }
}
