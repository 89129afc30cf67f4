//! Rate limits a node keeps in memory: requests per token, and requests without a
//! valid token per client address (SECURITY.md "Hardening"); with the request ids
//! whose audit row is on its way, they are the API's [`Gate`].
//!
//! A limit keyed by something a client chooses (its address) must not grow without
//! bound: keys whose cells have refilled are forgotten once there are many of them.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::collections::HashSet;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;

/// What the API holds requests to, per node: the rate of each token, the rate of
/// each address without a valid token, and the requests whose audit row is being
/// written.
pub struct Gate {
    /// Requests per token.
    pub tokens: Limit<String>,
    /// Requests without a valid token, per client address.
    pub outsiders: Limit<IpAddr>,
    /// Request ids whose audit row is being written: should the request's time run
    /// out meanwhile, the layer that answers 504 writes none of its own.
    auditing: Mutex<HashSet<String>>,
}

impl Gate {
    /// A gate of `per_token` requests a second per token and `outsiders` per address.
    pub fn new(per_token: Option<NonZeroU32>, outsiders: Option<NonZeroU32>) -> Gate {
        Gate {
            tokens: Limit::new(per_token),
            outsiders: Limit::new(outsiders),
            auditing: Mutex::default(),
        }
    }

    /// The audit row of request `rid` is on its way.
    pub fn auditing(&self, rid: &str) {
        super::lock(&self.auditing).insert(rid.to_string());
    }

    /// The audit row of request `rid` is written (or failed); whether it was on its
    /// way.
    pub fn audited(&self, rid: &str) -> bool {
        super::lock(&self.auditing).remove(rid)
    }
}

/// How many keys a limit holds before it forgets the ones that are back to full.
const PRUNE_AT: usize = 4096;

/// At most `n` a second per key (a burst of as many); `None`: no limit.
pub struct Limit<K: Hash + Eq + Clone> {
    inner: Option<DefaultKeyedRateLimiter<K>>,
}

impl<K: Hash + Eq + Clone> Limit<K> {
    /// A limit of `per_second` per key, or none.
    pub fn new(per_second: Option<NonZeroU32>) -> Self {
        Limit {
            inner: per_second.map(|n| RateLimiter::keyed(Quota::per_second(n))),
        }
    }

    /// Takes one request for `key`: `Err` with the whole seconds to wait when over.
    pub fn check(&self, key: K) -> Result<(), u64> {
        let Some(limiter) = &self.inner else {
            return Ok(());
        };
        if limiter.len() > PRUNE_AT {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        limiter.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
        })
    }

    /// How many keys it holds now.
    pub fn len(&self) -> usize {
        self.inner.as_ref().map_or(0, |l| l.len())
    }

    /// Whether it holds no key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_over_its_rate_waits_and_many_keys_are_pruned() {
        let limit = Limit::new(NonZeroU32::new(2));
        assert_eq!(limit.check("a"), Ok(()));
        assert_eq!(limit.check("a"), Ok(()));
        assert_eq!(limit.check("a"), Err(1));
        assert_eq!(limit.check("b"), Ok(()));
        // Thousands of one-off keys: the limit does not keep them all.
        let many = Limit::new(NonZeroU32::new(1000));
        for i in 0..3 * PRUNE_AT as u32 {
            let _ = many.check(i);
        }
        assert!(many.len() <= PRUNE_AT + 1, "{} keys kept", many.len());
        let none: Limit<u32> = Limit::new(None);
        assert!((0..100).all(|_| none.check(1).is_ok()));
        assert!(none.is_empty());
    }
}
