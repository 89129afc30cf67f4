//! `mpc relay`: run the untrusted store-and-forward relay (see [`crate::relay`]).
//!
//! It runs until stopped (Ctrl-C). Its log, one line per event, goes to stderr, or to
//! stdout as JSON Lines with `--json`; the first event names the address it listens on
//! (useful with port 0). The log never holds message contents.

use super::Ctx;
use crate::error::{Failure, Result};
use crate::relay::{Event, Limits, Relay};
use clap::Args;
use std::io::Write;
use std::net::TcpListener;

/// `mpc relay`
#[derive(Debug, Args)]
pub struct RelayArgs {
    /// The address to listen on (port 0 picks a free port; the address is printed)
    #[arg(long, value_name = "HOST:PORT")]
    pub listen: String,
    /// The largest message accepted, in bytes (K, M suffixes allowed)
    #[arg(long, default_value = "2M", value_parser = parse_size, value_name = "BYTES")]
    pub max_message_size: usize,
    /// Messages one session may hold
    #[arg(long, default_value_t = 2000, value_name = "N")]
    pub max_messages: usize,
    /// How long a session is kept after its first party connects
    #[arg(long, default_value = "24h", value_parser = humantime::parse_duration)]
    pub session_lifetime: std::time::Duration,
    /// Sessions held at once
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub max_sessions: usize,
    /// Connections open at once
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub max_connections: usize,
    /// Close a connection that sends nothing for this long
    #[arg(long, default_value = "5m", value_parser = humantime::parse_duration)]
    pub idle_timeout: std::time::Duration,
    /// Connections open at once from one client address (a member's node, once
    /// authenticated, is not counted)
    #[arg(long, default_value_t = 32, value_name = "N")]
    pub max_connections_per_address: usize,
    /// Node mode: admit only the nodes of this cluster file (`mpc serve cluster
    /// init`); a member's node is let in even when strangers hold every connection
    #[arg(long, value_name = "FILE")]
    pub cluster: Option<std::path::PathBuf>,
    /// Node mode: admit this member's node (a card file; repeatable; with or instead
    /// of --cluster)
    #[arg(long = "member", value_name = "CARD")]
    pub members: Vec<std::path::PathBuf>,
}

/// Parses `4096`, `64K` or `2M` (powers of 1024).
fn parse_size(s: &str) -> Result<usize, String> {
    let (digits, unit) = match s.trim_end_matches(['B', 'b', 'i']).strip_suffix(['K', 'k']) {
        Some(d) => (d, 1 << 10),
        None => match s.trim_end_matches(['B', 'b', 'i']).strip_suffix(['M', 'm']) {
            Some(d) => (d, 1 << 20),
            None => (s, 1),
        },
    };
    let n: usize = digits
        .parse()
        .map_err(|_| format!("`{s}` is not a size like 4096, 64K or 2M"))?;
    n.checked_mul(unit)
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("`{s}` is not a usable size"))
}

/// Runs `mpc relay`.
pub fn run(ctx: &Ctx, args: RelayArgs) -> Result<()> {
    if args.max_message_size > crate::envelope::MAX_ENVELOPE_LEN {
        return Err(Failure::input(format!(
            "--max-message-size is over the largest envelope, {} bytes",
            crate::envelope::MAX_ENVELOPE_LEN
        )));
    }
    let listener = TcpListener::bind(&args.listen).map_err(|e| {
        Failure::input(format!("cannot listen on {}", args.listen))
            .cause(e)
            .hint("give a free HOST:PORT, e.g. --listen 0.0.0.0:7400")
    })?;
    let mut members = Vec::new();
    if let Some(path) = &args.cluster {
        members = super::serve::read_cluster(path)?;
    }
    for path in &args.members {
        let card = super::serve::read_card(path)?;
        card.validate().map_err(|e| {
            Failure::input(format!("{}: the card is invalid", path.display())).cause(e)
        })?;
        members.push(card);
    }
    let members = (!members.is_empty()).then(|| {
        std::sync::Arc::new(
            members
                .iter()
                .map(crate::serve::cluster::card_key)
                .collect::<std::collections::HashSet<_>>(),
        )
    });
    let limits = Limits {
        max_message: args.max_message_size,
        max_messages: args.max_messages,
        lifetime: args.session_lifetime,
        max_sessions: args.max_sessions,
        max_connections: args.max_connections,
        idle: args.idle_timeout,
        per_address: args.max_connections_per_address.max(1),
        members: members.clone(),
    };
    let json = ctx.printer.json;
    let quiet = ctx.printer.quiet;
    let relay = Relay::new(limits, move |e: &Event| {
        if json {
            if let Ok(line) = serde_json::to_string(e) {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            }
        } else if !quiet || e.event == "listening" {
            eprintln!("{}", human(e));
        }
    });
    ctx.printer.status(format!(
        "relay {}: it sees who sends to whom and when, never a private payload; parties check every message they get from it",
        &relay.id()[..8]
    ));
    match &members {
        Some(m) => ctx
            .printer
            .status(format!("node mode admits the {} member(s) given", m.len())),
        None => ctx.printer.status(
            "node mode admits any node key: give --cluster FILE so that only the cluster's nodes get in",
        ),
    }
    relay
        .serve(listener)
        .map_err(|e| Failure::internal("the relay stopped").cause(e))
}

fn human(e: &Event) -> String {
    let mut line = format!(
        "{} {}",
        humantime::format_rfc3339_seconds(std::time::SystemTime::now()),
        e.event
    );
    if let Some(p) = &e.peer {
        line.push_str(&format!(" {p}"));
    }
    if let Some(s) = &e.session {
        line.push_str(&format!(" session {s}"));
    }
    if let Some(p) = e.party {
        line.push_str(&format!(" party {p}"));
    }
    line.push_str(&format!(": {}", e.detail));
    line
}
