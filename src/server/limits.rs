//! Rate limits: token buckets per client address, visitor and tenant.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::error::ApiError;
use crate::config;
use crate::store::conversations::Visitor;
use crate::store::tenants::Tenant;
use crate::sync::lock;

/// What is being limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    Sessions(IpAddr),
    Messages(IpAddr),
    Visitor(i64),
    Tenant(i64),
    /// Sign-ins to the admin from one address.
    SignInAddress(IpAddr),
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

#[derive(Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<Key, Bucket>>,
}

impl RateLimiter {
    /// Takes one token from `key`'s bucket of `per_minute` tokens; refuses with the wait.
    pub fn check(&self, key: Key, per_minute: u32) -> Result<(), ApiError> {
        self.take(key, per_minute).map_err(ApiError::rate_limited)
    }

    /// A visitor's message counts against their address, themselves and their tenant.
    pub fn check_message(
        &self,
        ip: IpAddr,
        visitor: &Visitor,
        tenant: &Tenant,
        limits: &config::Limits,
    ) -> Result<(), ApiError> {
        let tenant_rate = tenant
            .limits
            .rate_limit_per_minute
            .map_or(limits.messages_per_minute_per_tenant, |n| n as u32);
        self.check(Key::Messages(ip), limits.messages_per_minute_per_ip)?;
        self.check(
            Key::Visitor(visitor.id),
            limits.messages_per_minute_per_visitor,
        )?;
        self.check(Key::Tenant(tenant.id), tenant_rate)
    }

    /// Takes one token from `key`'s bucket of `per_minute` tokens (refilled evenly);
    /// when empty, says how many seconds until one is back.
    fn take(&self, key: Key, per_minute: u32) -> Result<(), u64> {
        let capacity = f64::from(per_minute.max(1));
        let rate = capacity / 60.0;
        let now = Instant::now();
        let mut buckets = lock(&self.buckets);
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: capacity,
            updated: now,
        });
        let elapsed = now.duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(capacity);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - bucket.tokens) / rate).ceil().max(1.0) as u64)
        }
    }

    /// Drops buckets untouched for longer than `idle` (they would be full again anyway).
    pub fn sweep(&self, idle: Duration) {
        let now = Instant::now();
        lock(&self.buckets).retain(|_, b| now.duration_since(b.updated) < idle);
    }
}

/// Failed sign-ins an account may have before it must wait, and the longest wait.
const FREE_FAILURES: u32 = 3;
const LONGEST_WAIT: Duration = Duration::from_secs(15 * 60);

/// A growing wait after failed sign-ins, per account: after the first few, each failure doubles
/// the time before the next attempt is heard (1 s, 2 s, 4 s … up to 15 min); a success forgets.
#[derive(Default)]
pub struct Backoff {
    accounts: Mutex<HashMap<u64, (u32, Instant)>>,
}

impl Backoff {
    /// How many seconds `account` must still wait, if any.
    pub fn wait(&self, account: u64) -> Result<(), u64> {
        let now = Instant::now();
        match lock(&self.accounts).get(&account) {
            Some((_, until)) if *until > now => Err((*until - now).as_secs_f64().ceil() as u64),
            _ => Ok(()),
        }
    }

    pub fn failed(&self, account: u64) {
        let mut accounts = lock(&self.accounts);
        let (failures, until) = accounts.entry(account).or_insert((0, Instant::now()));
        *failures += 1;
        if *failures > FREE_FAILURES {
            let doublings = (*failures - FREE_FAILURES - 1).min(20);
            *until = Instant::now() + Duration::from_secs(1 << doublings).min(LONGEST_WAIT);
        }
    }

    pub fn succeeded(&self, account: u64) {
        lock(&self.accounts).remove(&account);
    }

    /// Forgets accounts whose last wait ended longer than `idle` ago.
    pub fn sweep(&self, idle: Duration) {
        let now = Instant::now();
        lock(&self.accounts).retain(|_, (_, until)| now.saturating_duration_since(*until) < idle);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_past_the_free_ones_double_the_wait_and_a_success_forgets() {
        let backoff = Backoff::default();
        for _ in 0..FREE_FAILURES {
            backoff.failed(7);
            assert_eq!(backoff.wait(7), Ok(()));
        }
        backoff.failed(7);
        assert_eq!(backoff.wait(7), Err(1));
        backoff.failed(7);
        assert_eq!(backoff.wait(7), Err(2));
        assert_eq!(backoff.wait(8), Ok(()), "accounts are apart");
        backoff.succeeded(7);
        assert_eq!(backoff.wait(7), Ok(()));
    }

    #[test]
    fn a_burst_beyond_the_rate_is_refused_with_a_wait() {
        let limiter = RateLimiter::default();
        let key = Key::Visitor(1);
        for _ in 0..5 {
            limiter.take(key, 5).unwrap();
        }
        let wait = limiter.take(key, 5).unwrap_err();
        assert!((1..=12).contains(&wait), "{wait}");
        limiter
            .take(Key::Visitor(2), 5)
            .expect("keys are independent");
    }
}
