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
    /// Sign-ins to the admin from one address, and for one account (a hash of its email).
    SignInAddress(IpAddr),
    SignInAccount(u64),
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

#[cfg(test)]
mod tests {
    use super::*;

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
