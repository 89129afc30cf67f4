//! `mpc delete KEY [--after 30d]`, `mpc delete KEY --cancel`, `mpc delete --purge`.
//!
//! Deleting is two steps so that a mistake can be undone: the key is first scheduled
//! (it stops signing at once), and only `--purge` after the date destroys the share
//! file and any unused presignatures of the key. The key's metadata stays, marked
//! deleted, and the audit log records each step.

use super::{Ctx, keys::apply_signed, resolve_key};
use crate::error::{Failure, Result};
use crate::lifecycle::{Transition, destroy};
use crate::plan::{format_time, now};
use crate::store::db::KeyStatus;
use clap::Args;

/// `mpc delete`
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The key id (or a unique prefix)
    #[arg(required_unless_present = "purge", conflicts_with = "purge")]
    pub key: Option<String>,
    /// How long from now the share may be destroyed (by `mpc delete --purge`)
    #[arg(long, default_value = "30d", value_parser = humantime::parse_duration)]
    pub after: std::time::Duration,
    /// Cancel the key's scheduled deletion; the key stays suspended
    #[arg(long, conflicts_with = "purge")]
    pub cancel: bool,
    /// Destroy the shares of every key whose deletion date has passed (metadata is kept)
    #[arg(long)]
    pub purge: bool,
    /// Why (recorded in the audit log)
    #[arg(long)]
    pub reason: Option<String>,
    /// Do not ask for confirmation
    #[arg(long, short)]
    pub yes: bool,
}

/// Runs `mpc delete`.
pub fn run(ctx: &Ctx, args: DeleteArgs) -> Result<()> {
    let db = ctx.home.db()?;
    if args.purge {
        return purge(ctx, &db, &args);
    }
    let key = resolve_key(&db, args.key.as_deref().unwrap_or_default())?;
    if args.cancel {
        let status = apply_signed(
            ctx,
            &db,
            &key,
            Transition::CancelDeletion,
            args.reason.as_deref(),
        )?;
        ctx.printer.status(format!(
            "deletion of key {} cancelled; it stays suspended until `mpc resume {}`",
            key.id, key.id
        ));
        return super::keys::print_status(ctx, &key.id, status, None);
    }
    let at = now() + args.after.as_secs();
    let question = format!(
        "Schedule key {} ({}, \"{}\") for deletion? It stops signing now, and `mpc delete --purge` destroys your share from {} on.",
        key.id,
        key.scheme,
        key.label,
        format_time(at)
    );
    if !ctx.printer.confirm(&question, args.yes)? {
        return Err(Failure::input("nothing was changed"));
    }
    let status = apply_signed(
        ctx,
        &db,
        &key,
        Transition::ScheduleDeletion(at),
        args.reason.as_deref(),
    )?;
    ctx.printer.status(format!(
        "key {} is pending deletion from {}; cancel with `mpc delete {} --cancel`",
        key.id,
        format_time(at),
        key.id
    ));
    super::keys::print_status(ctx, &key.id, status, Some(at))
}

fn purge(ctx: &Ctx, db: &crate::store::db::Db, args: &DeleteArgs) -> Result<()> {
    let t = now();
    let due: Vec<_> = db
        .keys()?
        .into_iter()
        .filter(|k| {
            k.status == KeyStatus::PendingDeletion && k.delete_after.is_some_and(|at| at <= t)
        })
        .collect();
    if due.is_empty() {
        ctx.printer.status("no key is due for destruction");
        return ctx
            .printer
            .json(&serde_json::json!({ "destroyed": Vec::<String>::new() }));
    }
    let list: Vec<String> = due
        .iter()
        .map(|k| format!("{} (\"{}\")", k.id, k.label))
        .collect();
    let question = format!(
        "Destroy your shares of {}? This cannot be undone.",
        list.join(", ")
    );
    if !ctx.printer.confirm(&question, args.yes)? {
        return Err(Failure::input("nothing was destroyed"));
    }
    let identity = ctx.unlock()?;
    let mut rows = Vec::new();
    for k in &due {
        let files = destroy(&ctx.home, db, k, t)?;
        db.checkpoint(|m| identity.sign(m))?;
        ctx.printer.status(format!(
            "key {}: share destroyed; metadata kept, marked deleted",
            k.id
        ));
        rows.push(serde_json::json!({ "id": k.id, "files": files }));
    }
    ctx.printer.json(&serde_json::json!({ "destroyed": rows }))
}
