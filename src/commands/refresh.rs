//! `mpc refresh plan|run`: new shares of the same key for every party. FROST keys and
//! n-of-n ECDSA keys run a refresh; a threshold ECDSA key (which cggmp21 0.6 cannot
//! refresh) runs a reshare to the same parties and threshold (`ceremony::reshare`).
//!
//! See `ceremony::shares` for the protocol and for when the old share is destroyed.

use super::args::PlanOutputArgs;
use super::reshare::reshare_plan;
use super::run::RunArgs;
use super::{
    Ctx,
    keygen::emit_plan,
    keys::key_with_parties,
    run::{Ran, run_ceremony},
};
use crate::ceremony::Outcome;
use crate::error::{Failure, Result};
use crate::plan::{AuxMode, Plan, RefreshPlan, ReshareSpec, fresh_nonce, now};
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
            let (Outcome::Refresh {
                key_id, public_key, ..
            }
            | Outcome::Reshare {
                key_id, public_key, ..
            }) = &outcome
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
    if !scheme.is_frost() && key.threshold != key.n {
        // cggmp21 0.6 refreshes only n-of-n ECDSA shares: a threshold key is refreshed
        // by a reshare to the same parties and threshold, every party dealing, with new
        // aux info (new Paillier keys).
        ctx.printer.status(format!(
            "key {} is a {}-of-{} ECDSA key: it is refreshed by a reshare to the same parties (every party deals; new shares and new Paillier keys)",
            key.id, key.threshold, key.n
        ));
        let plan = reshare_plan(
            ctx,
            ReshareSpec {
                key_id: key.id.clone(),
                scheme,
                group_public_key: key.public_key.clone(),
                public_key_package: Vec::new(),
                threshold: key.threshold,
                dealers: (1..=key.n).collect(),
                holders: parties.clone(),
                key_parties: parties,
                new_threshold: key.threshold,
                label: args.label,
                expires_at: now() + args.output.expires.as_secs(),
                aux: Some(AuxMode::Generate),
            },
        )?;
        crate::ceremony::check_plan_here(&ctx.home, &db, &plan, key.my_index)?;
        return emit_plan(ctx, &plan, args.output.out.as_deref());
    }
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
