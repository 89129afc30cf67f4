//! Prometheus metrics of a node (`GET /metrics`, text format), through the `metrics`
//! facade and `metrics-exporter-prometheus`. Labels carry routes (as matched, never an
//! id), statuses, schemes and paths taken: nothing that names a key, a token or a
//! message. Levels (sessions running, nonce pools, the bus, members up) are read when
//! scraped.

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;

/// The process's recorder handle, installed on first use. (A process holds one global
/// recorder; nodes run one per process, in-process tests share it.)
fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let h = PrometheusBuilder::new().install_recorder().ok()?;
            describe();
            Some(h)
        })
        .as_ref()
}

fn describe() {
    metrics::describe_counter!(
        "mpc_http_requests_total",
        "API requests answered, by route and status"
    );
    metrics::describe_histogram!(
        "mpc_http_request_duration_seconds",
        metrics::Unit::Seconds,
        "API request latency, by route"
    );
    metrics::describe_counter!(
        "mpc_signatures_total",
        "Signatures this node coordinated, by scheme and mode (preprocessed, presigned or full)"
    );
    metrics::describe_gauge!(
        "mpc_fast_requests_waiting",
        "FROST requests waiting to go together in their key's next round trip"
    );
    metrics::describe_counter!(
        "mpc_fast_round_trips_total",
        "FROST one-round trips this node coordinated (from the nonce pools)"
    );
    metrics::describe_counter!(
        "mpc_fast_round_trip_requests_total",
        "API requests those round trips carried (more than one each where requests were gathered)"
    );
    metrics::describe_counter!(
        "mpc_http_outsider_refused_total",
        "Requests without a valid token refused for their address's rate (no audit row)"
    );
    metrics::describe_counter!(
        "mpc_http_connections_refused_total",
        "Connections closed at once: over the node's or their address's connection cap"
    );
    metrics::describe_counter!(
        "mpc_http_connections_timed_out_total",
        "Connections closed for sending no complete request head in time, or idling"
    );
    metrics::describe_counter!(
        "mpc_bus_ignored_total",
        "Node messages from the bus ignored, by reason (not a member, malformed, ...)"
    );
    metrics::describe_gauge!("mpc_sessions_running", "Sessions running on this node");
    metrics::describe_gauge!("mpc_bus_connected", "1 while the bus link is up");
    metrics::describe_gauge!(
        "mpc_members_up",
        "Cluster members this node sees up, itself included"
    );
    metrics::describe_gauge!(
        "mpc_nonce_pool_own",
        "Preprocessed FROST nonces this node keeps, for every coordinator"
    );
    metrics::describe_gauge!(
        "mpc_nonce_pool_held",
        "Other signers' FROST commitments this node holds to coordinate with"
    );
    metrics::describe_gauge!(
        "mpc_presignature_pool",
        "ECDSA presignatures this node keeps for the requests it coordinates"
    );
}

/// Starts recording (call once when a node starts).
pub fn init() {
    let _ = handle();
}

/// Records an answered request.
pub fn request(route: &str, status: u16, seconds: f64) {
    metrics::counter!("mpc_http_requests_total", "route" => route.to_string(), "status" => status.to_string())
        .increment(1);
    metrics::histogram!("mpc_http_request_duration_seconds", "route" => route.to_string())
        .record(seconds);
}

/// Records a request refused for its address's rate (it had no valid token).
pub fn outsider_refused() {
    metrics::counter!("mpc_http_outsider_refused_total").increment(1);
}

/// Records a connection closed at once for a connection cap.
pub fn connection_refused() {
    metrics::counter!("mpc_http_connections_refused_total").increment(1);
}

/// Records a connection closed for its slowness or idleness.
pub fn connection_timed_out() {
    metrics::counter!("mpc_http_connections_timed_out_total").increment(1);
}

/// Records a node message from the bus that was ignored, and why (a fixed word).
pub fn bus_ignored(reason: &'static str) {
    metrics::counter!("mpc_bus_ignored_total", "reason" => reason).increment(1);
}

/// Records signatures made.
pub fn signed(scheme: &str, mode: &str, n: u64) {
    metrics::counter!("mpc_signatures_total", "scheme" => scheme.to_string(), "mode" => mode.to_string())
        .increment(n);
}

/// Records a FROST round trip this node coordinated, carrying `requests` API requests
/// (more than one where requests were gathered: `serve::node::gather`).
pub fn round_trip(requests: usize) {
    metrics::counter!("mpc_fast_round_trips_total").increment(1);
    metrics::counter!("mpc_fast_round_trip_requests_total").increment(requests as u64);
}

/// A node's levels, read when asked (`/metrics`, `GET /nodes/{id}/health`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Levels {
    /// Sessions running.
    pub sessions_running: usize,
    /// Whether the bus link is up (`None`: the node has no bus).
    pub bus_connected: Option<bool>,
    /// Members this node sees up, itself included.
    pub members_up: usize,
    /// FROST nonces this node keeps, for every coordinator.
    pub nonce_pool_own: usize,
    /// Other signers' FROST commitments this node holds.
    pub nonce_pool_held: usize,
    /// ECDSA presignatures in this node's pool.
    pub presignature_pool: usize,
    /// One-round requests waiting to go in the next round trip of their key.
    pub fast_waiting: usize,
}

/// The text exposition, with `levels` read now.
pub fn render(levels: &Levels) -> String {
    let Some(h) = handle() else {
        return "# another metrics recorder is installed in this process\n".into();
    };
    metrics::gauge!("mpc_sessions_running").set(levels.sessions_running as f64);
    metrics::gauge!("mpc_bus_connected")
        .set(f64::from(u8::from(levels.bus_connected == Some(true))));
    metrics::gauge!("mpc_members_up").set(levels.members_up as f64);
    metrics::gauge!("mpc_nonce_pool_own").set(levels.nonce_pool_own as f64);
    metrics::gauge!("mpc_nonce_pool_held").set(levels.nonce_pool_held as f64);
    metrics::gauge!("mpc_presignature_pool").set(levels.presignature_pool as f64);
    metrics::gauge!("mpc_fast_requests_waiting").set(levels.fast_waiting as f64);
    h.render()
}
