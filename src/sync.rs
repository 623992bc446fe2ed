//! The one rule for a poisoned lock: take it anyway.
//!
//! A panic in one request or turn is contained (the server goes on), so a lock it held must not
//! turn every later request into a panic too. Every section under these locks leaves its data
//! usable at each step (a map entry, a counter, a buffer position), so the data is still good.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `m`, recovering it if a panic poisoned it.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
