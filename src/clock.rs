//! The clock: unix seconds now, and how times are shown. Plans, the store and the audit
//! log all read time here.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Current unix time in seconds.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Formats unix seconds as RFC 3339 UTC.
pub fn format_time(secs: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
}
