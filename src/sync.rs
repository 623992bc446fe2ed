//! Living with a panic: a panic in one request, turn or database write is contained (the server
//! goes on), so a lock it held is taken anyway, and what it said is told once.
//!
//! A lock a panic poisoned must not turn every later request into a panic too. Every section
//! under these locks leaves its data usable at each step (a map entry, a counter, a buffer
//! position), so the data is still good.

use std::any::Any;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// What a caught panic said.
pub fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic")
}

/// Locks `m`, recovering it if a panic poisoned it.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
