//! `mpc repair plan|run`: a new share for a party that lost its share of a FROST key,
//! from t helpers.
//!
//! See `ceremony::shares` for the protocol. The party being repaired needs its identity
//! (restored from its backup, see ceremonies/recover-share-from-backup.md) but no share
//! and no key metadata: the plan and the helpers bring both.

use super::args::PlanOutputArgs;
use super::run::RunArgs;
use super::sign::party_indices;
use super::{
    Ctx,
    keygen::emit_plan,
    keys::key_with_parties,
    run::{Ran, run_ceremony},
};
use crate::ceremony::Outcome;
use crate::error::{Failure, Result};
use crate::plan::{Plan, RepairPlan, fresh_nonce, now};
use clap::{Args, Subcommand};

/// `mpc repair`
#[derive(Debug, Subcommand)]
pub enum RepairCommand {
    /// Write a repair plan: who lost the share, who helps
    Plan(RepairPlanArgs),
    /// Take part in a repair session (as a helper, or as the party being repaired)
    Run(RunArgs),
}

/// `mpc repair plan`
#[derive(Debug, Args)]
pub struct RepairPlanArgs {
    /// The key id (or a unique prefix)
    #[arg(long)]
    pub key: String,
    /// The party that lost its share: a name or 1-based index
    #[arg(long)]
    pub lost: String,
    /// The helpers, at least t parties holding shares: names or 1-based indices, comma separated
    #[arg(long, value_delimiter = ',', required = true)]
    pub helpers: Vec<String>,
    /// Expiry and output file
    #[command(flatten)]
    pub output: PlanOutputArgs,
}

/// Runs `mpc repair ...`.
pub fn run(ctx: &Ctx, cmd: RepairCommand) -> Result<()> {
    match cmd {
        RepairCommand::Plan(a) => plan(ctx, a),
        RepairCommand::Run(a) => {
            let Ran {
                outcome,
                session,
                plan,
                me,
            } = run_ceremony(ctx, &a, "repair")?;
            let Outcome::Repair {
                key_id,
                public_key,
                repaired,
                ..
            } = &outcome
            else {
                return Err(Failure::internal("a repair produced another outcome"));
            };
            let words = outcome.transcript_words()?;
            if me == *repaired {
                ctx.printer.status(format!(
                    "key {key_id}: your share is repaired and matches your public share in the key"
                ));
                ctx.printer
                    .status("make a backup of it now (`mpc keys backup`)");
            } else {
                ctx.printer.status(format!(
                    "key {key_id}: party {} confirmed a repaired share that matches the key",
                    plan.party_label(*repaired)
                ));
            }
            ctx.printer.status(format!("  public key: {public_key}"));
            ctx.printer.status(format!(
                "  transcript: {words}  (the helpers and the repaired party must read the same)"
            ));
            ctx.printer.data(key_id);
            ctx.printer.json(&serde_json::json!({
                "key_id": key_id,
                "public_key": public_key,
                "repaired": repaired,
                "transcript_words": words,
                "result": outcome,
                "session_id": session,
            }))
        }
    }
}

fn plan(ctx: &Ctx, args: RepairPlanArgs) -> Result<()> {
    let (key, scheme, parties) = key_with_parties(&ctx.home.db()?, &args.key)?;
    let lost = match party_indices(&key, &parties, std::slice::from_ref(&args.lost))?[..] {
        [i] => i,
        _ => return Err(Failure::input("--lost names one party")),
    };
    let helpers = party_indices(&key, &parties, &args.helpers)?;
    let plan = Plan::Repair(RepairPlan {
        version: 1,
        scheme,
        key_id: key.id.clone(),
        group_public_key: key.public_key.clone(),
        threshold: key.threshold,
        parties,
        helpers,
        lost,
        label: key.label.clone(),
        expires_at: now() + args.output.expires.as_secs(),
        nonce: fresh_nonce(),
    });
    plan.validate()?;
    emit_plan(ctx, &plan, args.output.out.as_deref())
}
