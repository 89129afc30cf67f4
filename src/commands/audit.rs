//! `mpc audit log|verify|head`: the hash-chained audit log and its signed checkpoints
//! (what is and is not detected: `store::audit`).

use super::Ctx;
use crate::error::{Exit, Failure, Result};
use crate::identity::words;
use crate::plan::format_time;
use crate::store::audit::HomeRecords;
use clap::{Args, Subcommand};

/// `mpc audit`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Print the audit log
    Log,
    /// Check the chain, its latest signed checkpoint and an anchor (exit 1 on any break)
    Verify(AuditVerifyArgs),
    /// Sign the current head with this party's identity and print it, for a worksheet
    Head,
}

/// `mpc audit verify`
#[derive(Debug, Args)]
pub struct AuditVerifyArgs {
    /// A head recorded elsewhere (`mpc audit head`), as SEQ:HASH: the log must still extend it
    #[arg(long, value_name = "SEQ:HASH", value_parser = parse_anchor)]
    pub anchor: Option<(i64, String)>,
}

/// Runs `mpc audit ...`.
pub fn run(ctx: &Ctx, cmd: AuditCommand) -> Result<()> {
    match cmd {
        AuditCommand::Log => log(ctx),
        AuditCommand::Verify(a) => verify(ctx, a),
        AuditCommand::Head => head(ctx),
    }
}

fn log(ctx: &Ctx) -> Result<()> {
    let db = ctx.home.db()?;
    let rows = db.audit_rows()?;
    for r in &rows {
        ctx.printer.data(format!(
            "{:>5}  {}  {:<18} {}  {}",
            r.seq,
            format_time(r.at as u64),
            r.action,
            r.subject,
            r.detail
        ));
    }
    ctx.printer.json(&serde_json::json!({ "entries": rows }))
}

fn verify(ctx: &Ctx, args: AuditVerifyArgs) -> Result<()> {
    let db = ctx.home.db()?;
    let card = ctx.home.card()?;
    let key = card.verifying_key()?;
    let share_files = ctx.home.share_key_ids()?;
    let anchor = args.anchor.as_ref().map(|(s, h)| (*s, h.as_str()));
    let report = db.audit_check(
        &key,
        &HomeRecords {
            share_files: &share_files,
        },
        anchor,
    )?;
    let intact = report.problem.is_none();
    ctx.printer.json(&serde_json::json!({
        "intact": intact,
        "entries": report.entries,
        "checkpoint": report.checkpoint,
        "unchecked": report.unchecked,
        "anchor": report.anchor,
        "break": report.problem,
        "signer": words(&card.fingerprint()),
    }))?;
    if let Some(brk) = report.problem {
        return Err(Failure::new(
            Exit::Negative,
            format!("the audit chain is broken at entry {}", brk.seq),
        )
        .cause(brk.reason)
        .hint("the database was edited outside mpc; keep a copy for investigation")
        .json_printed());
    }
    let cp = report.checkpoint.map(|c| c.seq).unwrap_or(0);
    ctx.printer.status(format!(
        "audit chain intact: {} entries; signed by {} up to entry {cp}",
        report.entries,
        words(&card.fingerprint())
    ));
    if report.unchecked > 0 {
        ctx.printer.status(format!(
            "  {} newer entries are not yet checkpointed (the next step, or `mpc audit head`, signs them)",
            report.unchecked
        ));
    }
    if let Some(seq) = report.anchor {
        ctx.printer
            .status(format!("  the log extends the anchor at entry {seq}"));
    }
    Ok(())
}

fn head(ctx: &Ctx) -> Result<()> {
    let identity = ctx.unlock()?;
    let db = ctx.home.db()?;
    let Some(cp) = db.checkpoint(|m| identity.sign(m))? else {
        return Err(Failure::input("the audit log is empty"));
    };
    let fingerprint = words(&identity.card().fingerprint());
    ctx.printer.data(format!("{}:{}", cp.seq, cp.hash));
    ctx.printer.status(format!(
        "audit head signed by {fingerprint} at {}; write SEQ:HASH on the worksheet and check it later with `mpc audit verify --anchor SEQ:HASH`",
        format_time(cp.at as u64)
    ));
    ctx.printer.json(&serde_json::json!({
        "seq": cp.seq,
        "hash": cp.hash,
        "anchor": format!("{}:{}", cp.seq, cp.hash),
        "signature": cp.signature,
        "signer": fingerprint,
        "at": format_time(cp.at as u64),
    }))
}

fn parse_anchor(s: &str) -> Result<(i64, String), String> {
    let (seq, hash) = s
        .split_once(':')
        .ok_or_else(|| format!("`{s}` is not SEQ:HASH"))?;
    let seq: i64 = seq
        .parse()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("`{seq}` is not an entry number"))?;
    let hash = hash.trim().to_ascii_lowercase();
    if hash.len() != 64 || !hash.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("`{hash}` is not a 64-digit hex hash"));
    }
    Ok((seq, hash))
}
