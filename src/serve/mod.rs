//! `mpc serve`: one party home as a long-running node of a signing cluster (DESIGN.md
//! "Serve nodes and clusters").
//!
//! - [`server`]: a node assembled, its loops, serving until told to stop, and its
//!   shutdown (what `mpc serve` runs; a test or another program builds the same).
//! - [`node`]: the node, unlocked once; sessions it coordinates or joins.
//! - [`cluster`]: members, node messages, and the carrier over the bus.
//! - [`bus`]: the link to the bus: the relay in node mode, or NATS JetStream.
//! - [`api`]: the HTTP API under `/api/v1`, with the response envelope, tokens and
//!   audit of every request.
//! - [`tokens`], [`policy`]: API tokens, and each key's policy on this node.
//!
//! What changes from the CLI is where state lives and how messages travel; admission,
//! the single-use ledger, key records and the audit chain are the CLI's own code
//! (`ceremony`, `store`).
//!
//! Choices that differ from the sketch, deliberately:
//! - No tower-http. The request id, the body limit (axum's own), the timeout and the
//!   load shedding (tower) are a few lines each here, and answer in the response
//!   envelope with the request's audit row, which tower-http's layers would not. The
//!   request id in particular is always made here: tower-http's `SetRequestId` keeps
//!   a client's `x-request-id`, and two requests must never share an audit id (the
//!   client's is kept beside it). The log is `tracing`, with a span per request (its
//!   id, method and route template) and per session (its id, kind and key).
//! - governor directly, not `tower_governor`: the limit is per token, and the token is
//!   known only once the auth middleware has checked it; the 429 is in the envelope.
//!
//! SQLite: the node opens its home's database once (WAL) and every part of it uses that
//! one connection in turn: the API's reads and writes, each session's journal and
//! single-use ledger (its `Store` gets a clone of the node's [`Db`] handle, not a
//! connection of its own as a CLI process has), and the audit writer thread, which
//! group-commits every request's row. So the node has one writer, never waits on
//! SQLite's file lock against itself, and its transactions follow one another in the
//! order they take the connection. A CLI command run beside the node (`mpc serve token
//! create`, `mpc audit verify`) is another process with its own connection, which
//! SQLite's lock and the busy timeout order against the node's.
//!
//! [`Db`]: crate::store::db::Db

pub mod api;
pub mod approval;
pub mod audit;
pub mod bus;
pub mod cluster;
pub mod error;
pub mod http;
pub mod jobs;
pub mod limits;
pub mod members;
pub mod metrics;
pub mod node;
pub mod nonces;
pub mod policy;
pub mod presig;
pub mod schema;
pub mod server;
pub mod tls;
pub mod tokens;

use serde::Serialize;

pub use error::{DeclineReason, Error};

/// The fewest hex digits an id prefix in a request may have (as the CLI asks).
pub const MIN_ID_PREFIX: usize = 4;

/// An id, or a prefix of one, from a request: at least [`MIN_ID_PREFIX`] hex digits
/// (lowercased), so that neither an empty nor a one-character prefix selects
/// whatever happens to match it. `what` names it in the error.
pub fn id_prefix(id: &str, what: &str) -> Result<String, Error> {
    let id = id.trim();
    if id.len() < MIN_ID_PREFIX || id.len() > 128 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::BadId(format!(
            "a {what} id is given in hex, whole or as a prefix of at least {MIN_ID_PREFIX} digits"
        )));
    }
    Ok(id.to_ascii_lowercase())
}

/// An API failure: an HTTP status, a stable code, a message for people and details for
/// programs. Messages name what and why, never a secret.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ApiError {
    /// HTTP status.
    #[serde(skip)]
    pub status: u16,
    /// Stable code.
    pub code: &'static str,
    /// For people.
    pub message: String,
    /// For programs.
    pub details: serde_json::Value,
}

impl ApiError {
    /// A failure.
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            details: serde_json::Value::Null,
        }
    }

    /// With details.
    pub fn details(mut self, details: serde_json::Value) -> ApiError {
        self.details = details;
        self
    }

    /// Names the session in the details.
    pub fn session(mut self, sid: &str) -> ApiError {
        if !self.details.is_object() {
            self.details = serde_json::json!({});
        }
        self.details["session"] = serde_json::json!(sid);
        self
    }

    /// An unexpected failure: a 500 whose message says only that, and which the log
    /// keeps (the request id ties the two together).
    pub fn internal(e: impl std::fmt::Display) -> ApiError {
        tracing::error!("internal error: {e}");
        ApiError::new(
            500,
            "internal",
            "an internal error; the node's log has the request id",
        )
    }

    /// A storage failure (see [`Error::Store`]).
    pub fn store(e: crate::store::StoreError) -> ApiError {
        Error::Store(e).into()
    }

    /// A ceremony's failure, by its kind (see [`Error::Ceremony`]).
    pub fn ceremony(e: crate::ceremony::Error) -> ApiError {
        Error::Ceremony(e).into()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

/// Locks `m`; a lock poisoned by a panicking thread is taken as it is (what it guards
/// is kept consistent by each holder, and the node goes on).
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs `f`, which may block (SQLite, a bus write, a ceremony step), without holding
/// up the other tasks of the worker it is called on: tokio's `block_in_place` hands
/// them to another thread first. Outside a worker (a blocking thread) it just runs.
pub(crate) fn off_worker<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// Waits until `check` finds what is wanted, looking again each time `notify` wakes
/// its waiters, until `deadline` (then it looks once more). No wake-up is lost: the
/// waiter registers before it looks.
pub(crate) async fn notified_until<T>(
    notify: &tokio::sync::Notify,
    deadline: tokio::time::Instant,
    check: impl Fn() -> Option<T>,
) -> Option<T> {
    loop {
        let notified = notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if let Some(t) = check() {
            return Some(t);
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            return check();
        }
    }
}

/// One event in the node's log (`tracing`, at INFO), in the span of the request or
/// session it happens in. Callers never pass secrets: names, session ids, codes and
/// reasons only.
pub fn log(line: &str) {
    tracing::info!("{line}");
}

/// How `mpc serve` writes its log to stderr.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One line per event: time, level, the spans (request id, session, key) and the
    /// message.
    #[default]
    Text,
    /// One JSON object per event, with the same fields.
    Json,
}

/// Installs the process's log subscriber (stderr, INFO and above) in `format`; a no-op
/// if one is installed already (a test, a program embedding the node).
pub fn init_log(format: LogFormat) {
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .with_target(false)
        .with_ansi(false);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().with_current_span(true).try_init(),
    };
}
