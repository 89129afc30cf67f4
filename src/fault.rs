//! Crash points for the crash-liveness tests.
//!
//! [`point`] marks a place between two durable writes. In a debug build (what `cargo
//! test` runs) the environment variable `MPC_FAULT_AT=NAME` or `NAME:K` makes the
//! process kill itself with SIGKILL the first (or K-th) time it passes the point `NAME`,
//! exactly as a power cut or `kill -9` would: no destructor runs, nothing is flushed.
//! Release builds compile every point to nothing and ignore the variable, so a shipped
//! binary cannot be made to crash by its environment.

/// An injected write failure, for the hostile-disk tests: in a debug build,
/// `MPC_FAULT_WRITE=ENOSPC:TEXT` (or `EROFS:TEXT`) makes every file write or directory
/// creation under a path containing TEXT fail with that error, as a full or read-only
/// file system would. Release builds never fail a write this way.
pub fn write_error(path: &std::path::Path) -> Option<std::io::Error> {
    #[cfg(debug_assertions)]
    {
        let spec = std::env::var("MPC_FAULT_WRITE").ok()?;
        let (errno, text) = spec.split_once(':')?;
        let errno = match errno {
            "ENOSPC" => libc::ENOSPC,
            "EROFS" => libc::EROFS,
            _ => return None,
        };
        path.to_string_lossy()
            .contains(text)
            .then(|| std::io::Error::from_raw_os_error(errno))
    }
    #[cfg(not(debug_assertions))]
    {
        let _ = path;
        None
    }
}

/// An injected slow disk under the audit log, for the serve tests: in a debug build,
/// `MPC_FAULT_AUDIT_DELAY=NODE:ACTION:MS` makes the audit writer of the node named NODE
/// wait MS milliseconds before it commits a batch holding a row of ACTION, as a slow
/// fsync would (every row behind it waits too). Release builds never wait.
pub fn audit_delay<'a>(node: &str, mut actions: impl Iterator<Item = &'a str>) {
    #[cfg(debug_assertions)]
    {
        let Ok(spec) = std::env::var("MPC_FAULT_AUDIT_DELAY") else {
            return;
        };
        let mut parts = spec.splitn(3, ':');
        let (Some(who), Some(action), Some(ms)) = (parts.next(), parts.next(), parts.next()) else {
            return;
        };
        if who == node
            && actions.any(|a| a == action)
            && let Ok(ms) = ms.parse::<u64>()
        {
            std::thread::sleep(std::time::Duration::from_millis(ms));
        }
    }
    #[cfg(not(debug_assertions))]
    {
        let _ = (node, actions.next());
    }
}

/// A crash point named `name` (see the module doc).
#[inline]
pub fn point(name: &str) {
    #[cfg(debug_assertions)]
    armed::hit(name);
    #[cfg(not(debug_assertions))]
    let _ = name;
}

#[cfg(debug_assertions)]
mod armed {
    use std::sync::atomic::{AtomicU32, Ordering};

    static HITS: AtomicU32 = AtomicU32::new(0);

    pub fn hit(name: &str) {
        let Some(spec) = std::env::var_os("MPC_FAULT_AT") else {
            return;
        };
        let spec = spec.to_string_lossy();
        let (at, nth) = match spec.split_once(':') {
            Some((at, k)) => (at, k.parse::<u32>().unwrap_or(1)),
            None => (&*spec, 1),
        };
        if at != name {
            return;
        }
        if HITS.fetch_add(1, Ordering::SeqCst) + 1 == nth {
            // SIGKILL, like a power cut: no unwinding, no destructors, no flush.
            unsafe {
                libc::kill(libc::getpid(), libc::SIGKILL);
            }
            std::process::abort();
        }
    }
}
