//! `mpc keygen plan` and `mpc keygen run`.

use super::args::PlanOutputArgs;
use super::run::RunArgs;
use super::{
    Ctx, read_input,
    run::{Ran, run_ceremony},
    write_output,
};
use crate::ceremony::Outcome;
use crate::ceremony::default_aux;
use crate::error::{Failure, Result};
use crate::identity::Card;
use crate::plan::{KeygenPlan, Plan, fresh_nonce, now};
use crate::scheme::Scheme;
use clap::{Args, Subcommand};
use std::path::Path;

/// `mpc keygen`
#[derive(Debug, Subcommand)]
pub enum KeygenCommand {
    /// Write a keygen plan for the parties to confirm
    Plan(KeygenPlanArgs),
    /// Take part in the keygen of a plan
    Run(RunArgs),
}

/// `mpc keygen plan`
#[derive(Debug, Args)]
pub struct KeygenPlanArgs {
    /// The signature scheme
    #[arg(long, value_enum)]
    pub scheme: Scheme,
    /// Signers required (t of t-of-n)
    #[arg(short = 't', long)]
    pub threshold: u16,
    /// A party, in order: a card file, a contact name, or `me`. Repeat for each party.
    #[arg(long = "party", required = true, value_name = "CARD|NAME|me")]
    pub parties: Vec<String>,
    /// A label for the key
    #[arg(long)]
    pub label: String,
    /// ecdsa-secp256k1: generate aux info (Paillier keys) in this ceremony, or reuse the
    /// aux info these parties generated before [default: reuse if this home has it]
    #[arg(long, value_enum)]
    pub aux: Option<crate::plan::AuxMode>,
    /// Expiry and output file
    #[command(flatten)]
    pub output: PlanOutputArgs,
}

/// Runs `mpc keygen ...`.
pub fn run(ctx: &Ctx, cmd: KeygenCommand) -> Result<()> {
    match cmd {
        KeygenCommand::Plan(a) => plan(ctx, a),
        KeygenCommand::Run(a) => run_keygen(ctx, a),
    }
}

/// Resolves `me`, a card file, or a contact name to a card.
pub(super) fn resolve_party(ctx: &Ctx, spec: &str) -> Result<Card> {
    if spec == "me" {
        return Ok(ctx.home.card()?);
    }
    let path = Path::new(spec);
    if path.exists() {
        return Card::from_json(&read_input(path)?)
            .map_err(|e| Failure::input(format!("{spec} is not a valid card")).cause(e));
    }
    let db = ctx.home.db()?;
    match db.contact(spec)? {
        Some(json) => Ok(Card::from_json(json.as_bytes())?),
        None => Err(
            Failure::input(format!("`{spec}` is neither a card file nor a contact")).hint(
                "give a path to a card file, `me`, or import the card with `mpc contacts add`",
            ),
        ),
    }
}

fn plan(ctx: &Ctx, args: KeygenPlanArgs) -> Result<()> {
    let parties = args
        .parties
        .iter()
        .map(|s| resolve_party(ctx, s))
        .collect::<Result<Vec<_>>>()?;
    let aux = match (args.scheme, args.aux) {
        (Scheme::EcdsaSecp256k1, Some(mode)) => Some(mode),
        (Scheme::EcdsaSecp256k1, None) => default_aux(&ctx.home, args.scheme, &parties),
        (_, Some(_)) => return Err(Failure::input("--aux applies only to ecdsa-secp256k1")),
        (_, None) => None,
    };
    let plan = Plan::Keygen(KeygenPlan {
        version: 1,
        scheme: args.scheme,
        threshold: args.threshold,
        parties,
        label: args.label,
        expires_at: now() + args.output.expires.as_secs(),
        nonce: fresh_nonce(),
        aux,
    });
    plan.validate()?;
    emit_plan(ctx, &plan, args.output.out.as_deref())
}

/// Writes a plan to a file or stdout and shows its fingerprint.
pub fn emit_plan(ctx: &Ctx, plan: &Plan, out: Option<&Path>) -> Result<()> {
    let json = plan.to_json();
    match out {
        Some(p) => {
            write_output(Some(p), format!("{json}\n").as_bytes())?;
            ctx.printer.status(format!("wrote {}", p.display()));
        }
        None => ctx.printer.data(&json),
    }
    let fp = plan.fingerprint();
    ctx.printer.status(format!("plan fingerprint: {fp}"));
    ctx.printer
        .status("every party checks this fingerprint aloud before running the plan");
    ctx.printer.json(&serde_json::json!({
        "session_id": hex::encode(plan.session_id()),
        "fingerprint": fp,
        "plan": plan,
    }))
}

fn run_keygen(ctx: &Ctx, args: RunArgs) -> Result<()> {
    let Ran {
        outcome, session, ..
    } = run_ceremony(ctx, &args, "keygen")?;
    let Outcome::Keygen {
        key_id,
        scheme,
        public_key,
        transcript,
    } = &outcome
    else {
        return Err(Failure::internal("keygen produced a signing outcome"));
    };
    let words = outcome.transcript_words()?;
    ctx.printer
        .status(format!("key {key_id} ({scheme}) is ready"));
    ctx.printer.status(format!("  public key: {public_key}"));
    ctx.printer.status(format!(
        "  transcript: {words}  (every party must read the same)"
    ));
    ctx.printer.data(key_id);
    ctx.printer.json(&serde_json::json!({
        "key_id": key_id,
        "scheme": scheme,
        "public_key": public_key,
        "transcript": transcript,
        "transcript_words": words,
        "session_id": session,
    }))
}
