//! `mpc presign plan|run|list`: ECDSA presignatures.
//!
//! A presignature is the message-independent part of a CGGMP21 signature, made ahead of
//! time by a fixed signer set; a later `mpc sign plan --presigned` among the same signers
//! then finishes in one round. Each presignature signs exactly one message: it is marked
//! consumed and destroyed before a partial signature made from it leaves the machine.
//! Following the cggmp21 0.6 advisory (CVE-2025-66017), presignatures are never used with
//! HD derivation or with a caller-supplied raw hash.

use super::args::PlanOutputArgs;
use super::run::RunArgs;
use super::sign::resolve_signers;
use super::{
    Ctx,
    keygen::emit_plan,
    run::{Ran, run_ceremony},
};
use crate::ceremony::Outcome;
use crate::error::{Failure, Result};
use crate::plan::{Plan, SignPlan, now};
use crate::scheme::Scheme;
use crate::store::keystore::unused_presignatures;
use clap::{Args, Subcommand};

/// `mpc presign`
#[derive(Debug, Subcommand)]
pub enum PresignCommand {
    /// Write a presigning plan for a key and a signer set
    Plan(PresignPlanArgs),
    /// Take part in a presigning session
    Run(RunArgs),
    /// List this home's unused presignatures
    List,
}

/// `mpc presign plan`
#[derive(Debug, Args)]
pub struct PresignPlanArgs {
    /// The key id (or a unique prefix)
    #[arg(long)]
    pub key: String,
    /// The signers who will later sign with it: names or 1-based indices, comma separated
    #[arg(long, value_delimiter = ',', required = true)]
    pub signers: Vec<String>,
    /// A label for the session
    #[arg(long, default_value = "")]
    pub label: String,
    /// Expiry and output file
    #[command(flatten)]
    pub output: PlanOutputArgs,
}

/// Runs `mpc presign ...`.
pub fn run(ctx: &Ctx, cmd: PresignCommand) -> Result<()> {
    match cmd {
        PresignCommand::Plan(a) => plan(ctx, a),
        PresignCommand::Run(a) => {
            let Ran {
                outcome, session, ..
            } = run_ceremony(ctx, &a, "sign")?;
            let Outcome::Presign {
                key_id, signers, ..
            } = &outcome
            else {
                return Err(Failure::input(
                    "that plan is not a presigning plan; use `mpc sign run`",
                ));
            };
            ctx.printer.status(format!(
                "presignature for key {key_id}, signers {signers:?}, stored (single use)"
            ));
            ctx.printer.json(&serde_json::json!({
                "key_id": key_id,
                "signers": signers,
                "session_id": session,
            }))
        }
        PresignCommand::List => list(ctx),
    }
}

fn plan(ctx: &Ctx, args: PresignPlanArgs) -> Result<()> {
    let (key, parties, signers) = resolve_signers(ctx, &args.key, &args.signers)?;
    if key.scheme != Scheme::EcdsaSecp256k1 {
        return Err(Failure::input(format!(
            "presignatures are for ecdsa-secp256k1 keys, not {}",
            key.scheme
        )));
    }
    let expires_at = now() + args.output.expires.as_secs();
    let plan = Plan::Sign(SignPlan::presigning(
        &key, parties, signers, args.label, expires_at,
    ));
    plan.validate()?;
    emit_plan(ctx, &plan, args.output.out.as_deref())
}

fn list(ctx: &Ctx) -> Result<()> {
    let db = ctx.home.db()?;
    let mut rows = Vec::new();
    for p in unused_presignatures(&db)? {
        ctx.printer.data(format!(
            "{}  key {}  signers {:?}",
            &p.session[..16],
            p.key_id,
            p.signers
        ));
        rows.push(serde_json::json!({ "session_id": p.session, "key_id": p.key_id, "signers": p.signers }));
    }
    ctx.printer
        .json(&serde_json::json!({ "presignatures": rows }))
}
