//! Connections per client address, the accept loop's counters, and the limit on open files.
//!
//! Every open connection counts against one client address, so that one client cannot hold every
//! file descriptor. A connection from a peer that is not a trusted proxy counts against the peer
//! from its accept, and one over the cap is answered at once, without hyper, and closed. A
//! trusted proxy's connection counts against the client of the request it carries (the
//! `X-Forwarded-For` rule of [`session::client_ip`](super::session::client_ip)), known once a
//! request head is read, and moves to the next request's client, since a proxy reuses its
//! connections for different clients.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use tokio::net::TcpStream;

use super::error::ApiError;
use crate::sync::lock;

/// The connections open per client address, and what the accept loop counted.
pub struct Connections {
    cap: u32,
    open: Mutex<HashMap<IpAddr, u32>>,
    /// The whole answer to a connection over the cap, ready to write.
    refusal: Vec<u8>,
    refused: AtomicU64,
    accept_failures: AtomicU64,
}

impl Connections {
    pub fn new(cap: u32) -> Connections {
        let refusal = too_many_connections();
        let body =
            serde_json::json!({ "error": { "code": refusal.code, "message": refusal.message } })
                .to_string();
        let status = refusal.status;
        let head = format!(
            "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            status.as_u16(),
            status.canonical_reason().unwrap_or_default(),
            body.len()
        );
        Connections {
            cap: cap.max(1),
            open: Mutex::default(),
            refusal: [head.into_bytes(), body.into_bytes()].concat(),
            refused: AtomicU64::new(0),
            accept_failures: AtomicU64::new(0),
        }
    }

    /// One more connection for `ip`, or none when it holds the cap already.
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        let client = client_key(ip);
        let mut open = lock(&self.open);
        let count = open.entry(client).or_default();
        if *count >= self.cap {
            drop(open);
            self.refused.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        *count += 1;
        Some(Slot {
            connections: self.clone(),
            client,
        })
    }

    /// A new connection from `peer`, counted against it: `None` when `peer` is at the cap, and
    /// then the connection has been answered and closed.
    pub fn accept(self: &Arc<Self>, tcp: TcpStream, peer: IpAddr) -> Option<(TcpStream, Held)> {
        match self.admit(peer) {
            Some(slot) => Some((tcp, Held(Arc::new(Mutex::new(Some(slot)))))),
            None => {
                self.refuse(&tcp);
                None
            }
        }
    }

    /// Answers a connection over the cap with [`too_many_connections`] and lets it go, in a
    /// few non-blocking calls: the answer fits any fresh socket's send buffer. What the client
    /// sent already is read first, so that closing sends the answer and a FIN, not a reset.
    fn refuse(&self, tcp: &TcpStream) {
        use std::io::Read as _;
        // Straight to the socket (non-blocking): tokio learns of its readiness only later.
        let socket = socket2::SockRef::from(tcp);
        let _ = socket.send(&self.refusal);
        let _ = (&*socket).read(&mut [0u8; 4096]);
        let _ = socket.shutdown(std::net::Shutdown::Write);
    }

    /// How many connections `ip` holds now.
    pub fn open(&self, ip: IpAddr) -> u32 {
        lock(&self.open).get(&client_key(ip)).copied().unwrap_or(0)
    }

    /// Connections refused for being over the cap, since the start.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Failed accepts (out of file descriptors, most likely), since the start.
    pub fn accept_failures(&self) -> u64 {
        self.accept_failures.load(Ordering::Relaxed)
    }

    /// Counts a failed accept; the total so far.
    pub fn accept_failed(&self) -> u64 {
        self.accept_failures.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// The refusal of a connection over the cap.
pub fn too_many_connections() -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_connections",
        "Too many connections from your address. Close some and try again.",
    )
}

/// What a client address is counted by: an IPv4 address, an IPv6 address's /64 (one host
/// commonly has a whole /64), an IPv4-mapped IPv6 address as its IPv4 address.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & !((1u128 << 64) - 1))),
        v4 => v4,
    }
}

/// One connection counted against a client address, until dropped.
pub struct Slot {
    connections: Arc<Connections>,
    client: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = lock(&self.connections.open);
        if let Some(count) = open.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.client);
            }
        }
    }
}

/// What one connection counts against, for as long as it (or the event stream it carries) is
/// open.
#[derive(Clone, Default)]
pub struct Held(Arc<Mutex<Option<Slot>>>);

impl Held {
    /// Counts the connection against `ip` from now on, instead of whom it counted against
    /// before; false when `ip` holds the cap already.
    pub fn move_to(&self, connections: &Arc<Connections>, ip: IpAddr) -> bool {
        let mut held = lock(&self.0);
        if held.as_ref().is_some_and(|s| s.client == client_key(ip)) {
            return true;
        }
        match connections.admit(ip) {
            Some(slot) => {
                *held = Some(slot);
                true
            }
            None => false,
        }
    }
}

/// Pauses between failed accepts: from 10 ms, doubling up to 1 s, back to 10 ms after an accept
/// succeeds. Retrying at once would spin while descriptors are short; a long pause would leave
/// waiting clients unanswered after descriptors are free again.
#[derive(Debug, Default)]
pub struct Backoff {
    failures: u32,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(10);
    const MAX: Duration = Duration::from_secs(1);

    /// The pause after one more failure.
    pub fn pause(&mut self) -> Duration {
        let pause = Self::FIRST.saturating_mul(1 << self.failures.min(10));
        self.failures = self.failures.saturating_add(1);
        pause.min(Self::MAX)
    }

    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

/// Descriptors kept for what is not an event stream.
const RESERVED: u64 = 1_024;

/// The process's limits on open files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenFiles {
    pub soft: u64,
    pub hard: u64,
}

impl OpenFiles {
    /// The open event streams keepstar aims to hold on one machine.
    pub const STREAMS: u64 = 10_000;
    /// Descriptors for [`STREAMS`](Self::STREAMS), and for the database, upstream calls and
    /// requests beside them.
    pub const ENOUGH: u64 = Self::STREAMS + RESERVED;

    /// About how many event streams fit under `limit` descriptors.
    pub fn streams(limit: u64) -> u64 {
        limit.saturating_sub(RESERVED)
    }

    /// The limits in force now.
    pub fn now() -> io::Result<OpenFiles> {
        let (soft, hard) = rlimit::Resource::NOFILE.get()?;
        Ok(OpenFiles { soft, hard })
    }

    /// Raises the soft limit to the hard limit (each open connection and event stream is a
    /// descriptor, and the soft limit is often 1 024); the limits before and after.
    pub fn raise() -> io::Result<(OpenFiles, OpenFiles)> {
        let before = OpenFiles::now()?;
        // An unlimited hard limit still stops at the kernel's per-process ceiling.
        let ceiling = rlimit::SysLimits::read()
            .ok()
            .and_then(|s| s.nr_open)
            .unwrap_or(1 << 20);
        rlimit::increase_nofile_limit(before.hard.min(ceiling))?;
        Ok((before, OpenFiles::now()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_is_refused_at_the_cap_and_let_in_when_one_closes() {
        let connections = Arc::new(Connections::new(2));
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        let a = connections.admit(ip).unwrap();
        let _b = connections.admit(ip).unwrap();
        assert!(connections.admit(ip).is_none());
        assert!(connections.admit("203.0.113.8".parse().unwrap()).is_some());
        drop(a);
        assert_eq!(connections.open(ip), 1);
        assert!(connections.admit(ip).is_some());
        assert_eq!(connections.refused(), 1);
    }

    #[test]
    fn an_ipv6_client_is_its_64_and_a_mapped_ipv4_client_its_ipv4_address() {
        let key = |s: &str| client_key(s.parse().unwrap());
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:bbbb::2"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:203.0.113.7"), key("203.0.113.7"));
    }

    #[test]
    fn a_held_connection_moves_to_the_client_of_its_next_request() {
        let connections = Arc::new(Connections::new(1));
        let (a, b): (IpAddr, IpAddr) = (
            "203.0.113.1".parse().unwrap(),
            "203.0.113.2".parse().unwrap(),
        );
        let held = Held::default();
        assert!(held.move_to(&connections, a));
        assert!(held.move_to(&connections, a), "the same client again");
        assert!(!Held::default().move_to(&connections, a), "a at its cap");
        assert!(held.move_to(&connections, b));
        assert_eq!((connections.open(a), connections.open(b)), (0, 1));
        drop(held);
        assert_eq!(connections.open(b), 0);
    }

    #[test]
    fn the_soft_open_file_limit_goes_up_to_the_hard_limit() {
        let (before, after) = OpenFiles::raise().unwrap();
        assert_eq!(after.hard, before.hard);
        assert!(after.soft >= before.soft);
        let ceiling = rlimit::SysLimits::read()
            .unwrap()
            .nr_open
            .unwrap_or(u64::MAX);
        assert_eq!(after.soft, after.hard.min(ceiling));
    }

    #[test]
    fn the_accept_backoff_doubles_from_10_ms_to_1_s_and_resets() {
        let mut backoff = Backoff::default();
        let pauses: Vec<u128> = (0..9).map(|_| backoff.pause().as_millis()).collect();
        assert_eq!(pauses, [10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
        backoff.reset();
        assert_eq!(backoff.pause(), Duration::from_millis(10));
    }
}
