//! `mpc refresh plan|run`: new shares of the same key for every party (FROST keys, and
//! n-of-n ECDSA keys: cggmp21 0.6 refreshes no threshold ECDSA shares).
//!
//! See `ceremony::shares` for the protocol and for when the old share is destroyed.

use super::args::PlanOutputArgs;
use super::run::RunArgs;
use super::{
    Ctx,
    keygen::emit_plan,
    keys::key_with_parties,
    run::{Ran, run_ceremony},
};
use crate::ceremony::Outcome;
use crate::error::{Failure, Result};
use crate::plan::{Plan, RefreshPlan, fresh_nonce, now};
use clap::{Args, Subcommand};

/// `mpc refresh`
#[derive(Debug, Subcommand)]
pub enum RefreshCommand {
    /// Write a refresh plan for a key (all of its parties take part)
    Plan(RefreshPlanArgs),
    /// Take part in a refresh session
    Run(RunArgs),
}

/// `mpc refresh plan`
#[derive(Debug, Args)]
pub struct RefreshPlanArgs {
    /// The key id (or a unique prefix)
    #[arg(long)]
    pub key: String,
    /// A label for the session
    #[arg(long, default_value = "")]
    pub label: String,
    /// Expiry and output file
    #[command(flatten)]
    pub output: PlanOutputArgs,
}

/// Runs `mpc refresh ...`.
pub fn run(ctx: &Ctx, cmd: RefreshCommand) -> Result<()> {
    match cmd {
        RefreshCommand::Plan(a) => plan(ctx, a),
        RefreshCommand::Run(a) => {
            let Ran {
                outcome, session, ..
            } = run_ceremony(ctx, &a, "refresh")?;
            let Outcome::Refresh {
                key_id, public_key, ..
            } = &outcome
            else {
                return Err(Failure::internal("a refresh produced another outcome"));
            };
            let words = outcome.transcript_words()?;
            ctx.printer.status(format!(
                "key {key_id}: your share is refreshed; the old one is destroyed"
            ));
            ctx.printer
                .status(format!("  public key: {public_key} (unchanged)"));
            ctx.printer.status(format!(
                "  transcript: {words}  (every party must read the same)"
            ));
            ctx.printer.status(
                "backups made before this refresh hold the old share and no longer work: make a new one (`mpc keys backup`) and destroy the old",
            );
            ctx.printer.data(key_id);
            ctx.printer.json(&serde_json::json!({
                "key_id": key_id,
                "public_key": public_key,
                "transcript_words": words,
                "result": outcome,
                "session_id": session,
            }))
        }
    }
}

fn plan(ctx: &Ctx, args: RefreshPlanArgs) -> Result<()> {
    let db = ctx.home.db()?;
    let (key, scheme, parties) = key_with_parties(&db, &args.key)?;
    let plan = Plan::Refresh(RefreshPlan {
        version: 1,
        scheme,
        key_id: key.id.clone(),
        group_public_key: key.public_key.clone(),
        threshold: key.threshold,
        parties,
        label: args.label,
        expires_at: now() + args.output.expires.as_secs(),
        nonce: fresh_nonce(),
    });
    plan.validate()?;
    crate::ceremony::check_plan_here(&ctx.home, &db, &plan, key.my_index)?;
    emit_plan(ctx, &plan, args.output.out.as_deref())
}
