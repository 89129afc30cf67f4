//! `mpc serve`: run this party home as a node of a signing cluster (see
//! [`crate::serve`]); `mpc serve token ...` manages its API tokens; `mpc serve cluster
//! init` writes a cluster file from members' cards.
//!
//! The node prints the address it listens on (stdout, JSON with `--json`), then logs
//! one line per session decision and failure to stderr; the log never holds a share,
//! nonce, token or passphrase.

use super::{Ctx, read_input};
use crate::error::{Failure, Result};
use crate::identity::Card;
use crate::serve::log;
use crate::serve::node::Config;
use crate::serve::server::{Server, StartError};
use crate::serve::tokens::{self, Scope};
use clap::{Args, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// `mpc serve`
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ServeArgs {
    /// Manage API tokens or the cluster file
    #[command(subcommand)]
    pub command: Option<ServeCommand>,
    /// How to run the node
    #[command(flatten)]
    pub run: ServeRunArgs,
}

/// How a node runs.
#[derive(Debug, Args)]
pub struct ServeRunArgs {
    /// The HTTP address to listen on (port 0 picks a free port; the address is printed)
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8700")]
    pub listen: String,
    /// Serve HTTPS with this PEM certificate chain (with --tls-key)
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Allow plain HTTP on an address other than loopback (tokens then cross the network
    /// in clear; give --tls-cert and --tls-key instead)
    #[arg(long, conflicts_with = "tls_cert")]
    pub insecure_http: bool,
    /// How the node writes its log to stderr: `text` (a line per event) or `json` (an
    /// object per event); either way with the request id, session and key of the event
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: crate::serve::LogFormat,
    /// The bus the cluster's nodes meet on: an `mpc relay` (node mode) at HOST:PORT, or NATS JetStream at nats://HOST:PORT[,HOST:PORT...]
    #[arg(long, value_name = "ADDR")]
    pub relay: Option<String>,
    /// With --relay nats://...: the NATS credentials file (user JWT and seed, as `nsc` writes) or a file holding an NKEY user seed
    #[arg(long, value_name = "FILE", env = "MPC_NATS_CREDS")]
    pub nats_creds: Option<PathBuf>,
    /// The cluster file (`mpc serve cluster init`): the members' cards
    #[arg(long, value_name = "FILE")]
    pub cluster: Option<PathBuf>,
    /// A member's card file (repeatable; with or instead of --cluster)
    #[arg(long = "peer", value_name = "CARD")]
    pub peers: Vec<PathBuf>,
    /// How long a signing session may take before the request fails with 504 (a whole
    /// ECDSA signing gets at least 30s; making a presignature, the --keygen-timeout)
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    pub session_timeout: Duration,
    /// How long a key generation may take
    #[arg(long, default_value = "2m", value_parser = humantime::parse_duration)]
    pub keygen_timeout: Duration,
    /// How long a session waits for an operator where a key's policy is `approval`
    /// (give every node the same)
    #[arg(long, default_value = "2m", value_parser = humantime::parse_duration)]
    pub approval_timeout: Duration,
    /// ECDSA presignatures this node keeps per key and signer set, made in the
    /// background by sessions it coordinates (0: none; every ECDSA signature is then a
    /// whole session)
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub presign_pool: usize,
    /// Top the presignature pool up when it holds fewer than this
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub presign_low: usize,
    /// Sets of Paillier primes to keep ready in the home for the aux info of new ECDSA
    /// party sets, generated in the background (one core for 15 s to a minute or more
    /// each; 0: never, use `mpc primes`)
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub prime_pool: usize,
    /// Sessions this node runs at once (coordinated and joined); more are refused
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub max_sessions: usize,
    /// Requests per second one API token may make, with bursts of as many (0: no limit);
    /// more are answered 429 with Retry-After
    #[arg(long, default_value_t = 500, value_name = "N")]
    pub rate_limit: u32,
    /// HTTP requests in flight at once; more are answered 503 at once
    #[arg(long, default_value_t = 1024, value_name = "N")]
    pub max_requests: usize,
    /// Requests per second one client address may make without a valid token, with
    /// bursts of as many (0: no limit); more are answered 429 and leave no audit row
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub outsider_rate: u32,
    /// Connections at once from one client address; more are closed at once
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub max_connections_per_address: usize,
    /// Connections at once in all; more are closed at once [default: 4096, or the
    /// open-file limit less 128 where that is lower]
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,
    /// A connection must send a whole request head within this, or it is closed
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub header_timeout: Duration,
    /// A connection that moves no byte for this long while none of its requests is
    /// being answered is closed
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    pub idle_timeout: Duration,
}

/// `mpc serve token|cluster`
#[derive(Debug, Subcommand)]
pub enum ServeCommand {
    /// Create, list and revoke API tokens
    #[command(subcommand)]
    Token(TokenCommand),
    /// Write a cluster file
    #[command(subcommand)]
    Cluster(ClusterCommand),
}

/// `mpc serve token`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token; it is shown once
    Create(TokenCreateArgs),
    /// List tokens (never their secrets)
    List,
    /// Revoke a token by its id
    Revoke(TokenRevokeArgs),
}

/// `mpc serve token create`
#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    /// What the token may do: read; sign (and read); admin (everything)
    #[arg(long, value_enum)]
    pub scope: Scope,
    /// Limit the token to these key ids, comma separated
    #[arg(long, value_delimiter = ',', value_name = "ID,...")]
    pub keys: Vec<String>,
    /// Expire after this long (e.g. 30d, 12h)
    #[arg(long, value_parser = humantime::parse_duration)]
    pub expires: Option<Duration>,
    /// A name for people
    #[arg(long, default_value = "")]
    pub name: String,
}

/// `mpc serve token revoke`
#[derive(Debug, Args)]
pub struct TokenRevokeArgs {
    /// The token's id (or a unique prefix of at least 4 digits)
    pub id: String,
}

/// `mpc serve cluster`
#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// Write a cluster file from the members' cards
    Init(ClusterInitArgs),
}

/// `mpc serve cluster init`
#[derive(Debug, Args)]
pub struct ClusterInitArgs {
    /// The members' card files (this node's own included)
    #[arg(required = true, value_name = "CARD")]
    pub cards: Vec<PathBuf>,
    /// Where to write the cluster file
    #[arg(long, short, value_name = "FILE")]
    pub out: PathBuf,
}

/// The cluster file.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterFile {
    /// Format version (1).
    pub version: u8,
    /// The members' cards.
    pub members: Vec<Card>,
}

/// Runs `mpc serve ...`.
pub fn run(ctx: &Ctx, args: ServeArgs) -> Result<()> {
    match args.command {
        None => serve(ctx, args.run),
        Some(ServeCommand::Token(TokenCommand::Create(a))) => token_create(ctx, a),
        Some(ServeCommand::Token(TokenCommand::List)) => token_list(ctx),
        Some(ServeCommand::Token(TokenCommand::Revoke(a))) => token_revoke(ctx, a),
        Some(ServeCommand::Cluster(ClusterCommand::Init(a))) => cluster_init(ctx, a),
    }
}

pub(crate) fn read_card(path: &std::path::Path) -> Result<Card> {
    Card::from_json(&read_input(path)?)
        .map_err(|e| Failure::input(format!("{} is not a card", path.display())).cause(e))
}

fn cluster_init(ctx: &Ctx, a: ClusterInitArgs) -> Result<()> {
    let mut members: Vec<Card> = Vec::new();
    for p in &a.cards {
        let card = read_card(p)?;
        if members
            .iter()
            .any(|m| m.name == card.name || m.ed25519 == card.ed25519)
        {
            return Err(Failure::input(format!(
                "{} repeats a member (`{}`): names and keys must be unique",
                p.display(),
                card.name
            )));
        }
        members.push(card);
    }
    let file = ClusterFile {
        version: 1,
        members,
    };
    let text = serde_json::to_string_pretty(&file).map_err(|e| Failure::internal(e.to_string()))?;
    crate::store::fsutil::write_atomic(&a.out, text.as_bytes())
        .map_err(|e| Failure::input(format!("cannot write {}", a.out.display())).cause(e))?;
    for m in &file.members {
        ctx.printer.status(format!(
            "member {:<16} {}",
            m.name,
            crate::identity::words(&m.fingerprint())
        ));
    }
    ctx.printer.status(format!(
        "wrote {}; compare each fingerprint with its owner before starting a node with it",
        a.out.display()
    ));
    ctx.printer.json(&serde_json::json!({
        "file": a.out,
        "members": file.members.iter().map(|m| serde_json::json!({"name": m.name, "fingerprint": crate::identity::words(&m.fingerprint())})).collect::<Vec<_>>(),
    }))
}

fn token_create(ctx: &Ctx, a: TokenCreateArgs) -> Result<()> {
    // Whoever can make tokens can sign through a running node: it takes the passphrase.
    ctx.unlock()?;
    let db = ctx.home.db()?;
    for k in &a.keys {
        if db.key(k)?.is_none() {
            return Err(Failure::input(format!("no key {k} in this home"))
                .hint("give whole key ids, from `mpc keys list`"));
        }
    }
    let keys = (!a.keys.is_empty()).then_some(a.keys);
    let (rec, token) = tokens::create(&db, &a.name, a.scope, keys, a.expires)?;
    ctx.printer.status(format!(
        "token {} ({}, scope {}): shown once; only its hash is kept",
        rec.id,
        if rec.name.is_empty() {
            "no name"
        } else {
            &rec.name
        },
        rec.scope.as_str()
    ));
    ctx.printer.data(token.as_str());
    ctx.printer
        .json(&serde_json::json!({"token": token.as_str(), "record": rec}))
}

fn token_list(ctx: &Ctx) -> Result<()> {
    let list = tokens::list(&ctx.home.db()?)?;
    let at = crate::clock::now();
    for t in &list {
        let state = match (t.revoked_at, t.usable(at)) {
            (Some(_), _) => "revoked",
            (None, false) => "expired",
            (None, true) => "active",
        };
        ctx.printer.data(format!(
            "{}  {:<6} {:<8} {}{}",
            t.id,
            t.scope.as_str(),
            state,
            t.name,
            t.keys
                .as_ref()
                .map(|k| format!(" (keys {})", k.join(",")))
                .unwrap_or_default()
        ));
    }
    if list.is_empty() {
        ctx.printer.status(
            "no tokens yet; create one with `mpc serve token create --scope read|sign|admin`",
        );
    }
    ctx.printer.json(&serde_json::json!({"tokens": list}))
}

fn token_revoke(ctx: &Ctx, a: TokenRevokeArgs) -> Result<()> {
    ctx.unlock()?;
    let rec = tokens::revoke(&ctx.home.db()?, &a.id)?.ok_or_else(|| {
        Failure::input(format!("no single token matches `{}`", a.id))
            .hint("`mpc serve token list` shows the ids; give at least 4 digits")
    })?;
    ctx.printer.status(format!("token {} is revoked", rec.id));
    ctx.printer.json(&serde_json::json!({"revoked": rec}))
}

/// The members' cards of a cluster file, each checked.
pub(crate) fn read_cluster(path: &std::path::Path) -> Result<Vec<Card>> {
    let f: ClusterFile = serde_json::from_slice(&read_input(path)?).map_err(|e| {
        Failure::input(format!("{} is not a cluster file", path.display())).cause(e)
    })?;
    if f.version != 1 {
        return Err(Failure::input(format!(
            "{}: unsupported cluster file version {}",
            path.display(),
            f.version
        )));
    }
    for c in &f.members {
        c.validate().map_err(|e| {
            Failure::input(format!("{}: a member's card is invalid", path.display())).cause(e)
        })?;
    }
    Ok(f.members)
}

fn members(a: &ServeRunArgs) -> Result<Vec<Card>> {
    let mut out = Vec::new();
    if let Some(path) = &a.cluster {
        out = read_cluster(path)?;
    }
    for p in &a.peers {
        out.push(read_card(p)?);
    }
    Ok(out)
}

fn serve(ctx: &Ctx, a: ServeRunArgs) -> Result<()> {
    crate::serve::init_log(a.log_format);
    let addr: SocketAddr = a.listen.parse().map_err(|e| {
        Failure::input(format!(
            "--listen {} is not an IP address and port",
            a.listen
        ))
        .cause(e)
    })?;
    let tls = match (&a.tls_cert, &a.tls_key) {
        (Some(cert), Some(key)) => Some(crate::serve::tls::load(cert, key).map_err(tls_failure)?),
        _ => None,
    };
    if !addr.ip().is_loopback() && tls.is_none() && !a.insecure_http {
        return Err(Failure::input(format!(
            "refusing to serve plain HTTP on {addr}, which is not a loopback address"
        ))
        .hint("give --tls-cert and --tls-key, or pass --insecure-http on a network you trust"));
    }
    let creds =
        crate::transport::nats::Credentials::for_bus(a.relay.as_deref(), a.nats_creds.clone())
            .map_err(Failure::input)?;
    let members = members(&a)?;
    if a.relay.is_none() && !members.is_empty() {
        return Err(Failure::input(
            "a cluster needs a bus: give --relay HOST:PORT (an `mpc relay`) or --relay nats://HOST:PORT",
        ));
    }
    let identity = ctx.unlock()?;
    let config = Config {
        session_timeout: a.session_timeout,
        keygen_timeout: a.keygen_timeout,
        max_sessions: a.max_sessions,
        rate_limit: std::num::NonZeroU32::new(a.rate_limit),
        outsider_rate: std::num::NonZeroU32::new(a.outsider_rate),
        max_requests: a.max_requests,
        approval_timeout: a.approval_timeout,
        presign_pool: a.presign_pool,
        presign_low: a.presign_low.min(a.presign_pool),
    };
    let runtime = Server::runtime(&config)
        .map_err(|e| Failure::internal("cannot start the node's runtime").cause(e))?;
    let mut server = Server::new(ctx.home.clone(), identity, config)
        .members(members)
        .prime_pool(a.prime_pool)
        .http_limits(crate::serve::http::Limits {
            header_read: a.header_timeout,
            idle: a.idle_timeout,
            per_address: a.max_connections_per_address.max(1),
            total: a
                .max_connections
                .unwrap_or_else(crate::serve::http::default_total)
                .max(1),
            ..crate::serve::http::Limits::default()
        });
    if let Some(relay) = &a.relay {
        server = server.bus(relay, creds);
    }
    if let Some(tls) = tls {
        server = server.tls(tls);
    }
    runtime.block_on(async {
        let running = server.bind(addr).await.map_err(start_failure)?;
        let node = running.node();
        let bound = running.local_addr();
        let scheme = if running.is_tls() { "https" } else { "http" };
        ctx.printer.data(format!("listening on {scheme}://{bound}"));
        ctx.printer.json(&serde_json::json!({
            "listening": bound.to_string(),
            "url": format!("{scheme}://{bound}"),
            "node": node.cluster.me.name,
            "members": node.cluster.members().iter().map(|m| &m.name).collect::<Vec<_>>(),
        }))?;
        log(&format!(
            "node {} serving {} member(s){}",
            node.cluster.me.name,
            node.cluster.members().len(),
            a.relay
                .as_deref()
                .map(|r| format!(" over the bus at {r}"))
                .unwrap_or_default()
        ));
        running.run(shutdown_signal()).await?;
        Ok(())
    })
}

/// A start failure as the command reports it: the operator's bus or address, or ours.
fn start_failure(e: StartError) -> Failure {
    match e {
        StartError::Node(e) => Failure::internal("cannot start the node").cause(e),
        StartError::Bus { addr, why } => {
            Failure::input(format!("cannot use the bus at {addr}")).cause(why)
        }
        StartError::Listen { addr, source } => Failure::input(format!("cannot listen on {addr}"))
            .cause(source)
            .hint("give a free HOST:PORT, e.g. --listen 127.0.0.1:8700"),
    }
}

/// A TLS setup failure as the command reports it: the operator's files, or ours.
fn tls_failure(e: crate::serve::tls::TlsError) -> Failure {
    use crate::serve::tls::TlsError;
    match e {
        TlsError::Files { what, cause, hint } => {
            let mut f = Failure::input(what);
            if let Some(c) = cause {
                f = f.cause(c);
            }
            if let Some(h) = hint {
                f = f.hint(h);
            }
            f
        }
        TlsError::Setup(why) => Failure::internal("TLS cannot be set up").cause(why),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    log("shutting down: no new requests; running sessions get their time to finish");
}
