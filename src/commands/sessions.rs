//! `mpc sessions list|abandon`: this home's unfinished ceremony sessions.
//!
//! An unfinished session keeps secret state in its journal: FROST nonces, DKG packages,
//! a CGGMP21 replay seed. Software cannot notice a whole home being restored from a copy
//! (a VM snapshot) with such a journal in it, so unfinished sessions should not linger:
//! `list` shows them with their age and what they wait for, and `abandon` ends one for
//! good (after a confirmation), destroying its journal and writing an audit row, which
//! it signs (the passphrase is asked for first: a wrong one changes nothing).

use super::Ctx;
use crate::error::{Failure, Result};
use crate::plan::{Plan, format_time, now};
use crate::store::db::{SessionRecord, SessionStatus};
use clap::{Args, Subcommand};

/// `mpc sessions`
#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// List unfinished sessions: kind, label, age, and what each waits for
    List(SessionsListArgs),
    /// End an unfinished session for good and destroy its secret state (nonces, seeds)
    Abandon(SessionsAbandonArgs),
}

/// `mpc sessions list`
#[derive(Debug, Args)]
pub struct SessionsListArgs {
    /// Also list finished and aborted sessions
    #[arg(long)]
    pub all: bool,
}

/// `mpc sessions abandon`
#[derive(Debug, Args)]
pub struct SessionsAbandonArgs {
    /// The session id (or a unique prefix of at least 8 hex digits)
    pub session: String,
    /// Do not ask for confirmation
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// Runs `mpc sessions ...`.
pub fn run(ctx: &Ctx, cmd: SessionsCommand) -> Result<()> {
    match cmd {
        SessionsCommand::List(a) => list(ctx, a),
        SessionsCommand::Abandon(a) => abandon(ctx, a),
    }
}

/// A session as `list` shows it (public metadata only).
fn summary(rec: &SessionRecord) -> serde_json::Value {
    let plan = Plan::from_json(rec.plan.as_bytes()).ok();
    serde_json::json!({
        "session_id": rec.id,
        "kind": rec.kind,
        "status": rec.status.as_str(),
        "state": rec.state,
        "label": plan.as_ref().map(|p| p.label().to_string()),
        "scheme": plan.as_ref().map(|p| p.scheme().id()),
        "index": rec.my_index,
        "waiting_for": rec.waiting,
        "started_at": format_time(rec.created_at),
        "age_seconds": now().saturating_sub(rec.created_at),
        "expires_at": plan.as_ref().map(|p| format_time(p.expires_at())),
    })
}

fn list(ctx: &Ctx, args: SessionsListArgs) -> Result<()> {
    let db = ctx.home.db()?;
    let sessions = db.sessions_matching("", !args.all)?;
    let mut rows = Vec::new();
    for rec in &sessions {
        let v = summary(rec);
        let age = humantime::format_duration(std::time::Duration::from_secs(
            v["age_seconds"].as_u64().unwrap_or(0),
        ));
        let waiting = rec
            .waiting
            .as_deref()
            .filter(|_| rec.status == SessionStatus::Running)
            .map(|w| format!(", waiting for {w}"))
            .unwrap_or_default();
        // An aborted session says how: by a peer, or abandoned, or expired.
        let status = match (rec.status, rec.state.as_str()) {
            (SessionStatus::Aborted, how @ ("abandoned" | "expired")) => how,
            (status, _) => status.as_str(),
        };
        ctx.printer.data(format!(
            "{}  {:<8} {:<9} {:?}  started {age} ago{waiting}",
            &rec.id[..16],
            rec.kind,
            status,
            v["label"].as_str().unwrap_or("?"),
        ));
        rows.push(v);
    }
    if sessions.is_empty() {
        ctx.printer.status(if args.all {
            "no sessions in this home"
        } else {
            "no unfinished sessions"
        });
    }
    ctx.printer.json(&serde_json::json!({ "sessions": rows }))
}

fn abandon(ctx: &Ctx, args: SessionsAbandonArgs) -> Result<()> {
    let prefix = args.session.trim().to_ascii_lowercase();
    if prefix.len() < 8 || !prefix.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(Failure::input(format!(
            "`{}` is not a session id: give at least 8 of its hex digits",
            args.session
        ))
        .hint("`mpc sessions list` shows the unfinished sessions"));
    }
    let db = ctx.home.db()?;
    let matches = db.sessions_matching(&prefix, false)?;
    let rec = match matches.as_slice() {
        [one] => one.clone(),
        [] => {
            return Err(Failure::input(format!("no session {prefix} in this home"))
                .hint("`mpc sessions list` shows the unfinished sessions"));
        }
        many => {
            return Err(Failure::input(format!(
                "{} sessions start with {prefix}; give more digits",
                many.len()
            )));
        }
    };
    let v = summary(&rec);
    ctx.printer.status(format!(
        "Session {} ({}, {:?}): {}",
        rec.id,
        rec.kind,
        v["label"].as_str().unwrap_or("?"),
        rec.status.as_str()
    ));
    let ok = ctx.printer.confirm(
        "Abandon it for good? Its secret state is destroyed and it can never finish",
        args.yes,
    )?;
    if !ok {
        return Err(Failure::input("not abandoned; nothing was changed"));
    }
    let identity = ctx.unlock()?;
    crate::ceremony::abandon(&ctx.home, &db, &rec.id)?;
    db.checkpoint(|m| identity.sign(m))?;
    ctx.printer.status(format!(
        "session {} abandoned; its secret state is destroyed",
        &rec.id[..16]
    ));
    ctx.printer.json(&serde_json::json!({
        "session_id": rec.id,
        "status": "aborted",
        "abandoned": true,
    }))
}
