//! Connections and the descriptors they take.

use std::io;

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
}
