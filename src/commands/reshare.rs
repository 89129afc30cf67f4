//! `mpc reshare plan|run`: move a key to a new party set and threshold; its public key
//! (and an ECDSA key's chain code) stays. See `ceremony::reshare` for when the old
//! shares are destroyed.

use super::args::PlanOutputArgs;
use super::run::RunArgs;
use super::{
    Ctx,
    keygen::{emit_plan, resolve_party},
    keys::key_with_parties,
    run::{Ran, run_ceremony},
};
use crate::ceremony::{Outcome, default_aux, public_side};
use crate::error::{Failure, Result};
use crate::identity::Card;
use crate::plan::{Plan, ResharePlan, ReshareSpec, now};
use clap::{Args, Subcommand};

/// `mpc reshare`
#[derive(Debug, Subcommand)]
pub enum ReshareCommand {
    /// Write a reshare plan: who deals, who holds the key afterwards, the new threshold
    Plan(ResharePlanArgs),
    /// Take part in a reshare session
    Run(RunArgs),
}

/// `mpc reshare plan`
#[derive(Debug, Args)]
pub struct ResharePlanArgs {
    /// The key id (or a unique prefix); this home must hold a share of it
    #[arg(long)]
    pub key: String,
    /// The key's holders who deal, by name, comma-separated: at least the key's threshold
    #[arg(long, value_delimiter = ',', required = true, value_name = "NAME,...")]
    pub from: Vec<String>,
    /// The new threshold [default: the key's]
    #[arg(short = 't', long)]
    pub threshold: Option<u16>,
    /// A holder after the reshare, in the new key's order: a name of the key's parties,
    /// a card file, a contact name, or `me`. Repeat for each.
    #[arg(long = "party", required = true, value_name = "NAME|CARD|me")]
    pub parties: Vec<String>,
    /// A label for the session (and the key's label in new holders' homes) [default:
    /// the key's label]
    #[arg(long)]
    pub label: Option<String>,
    /// ecdsa-secp256k1: the new holders generate aux info (Paillier keys) for the new
    /// party set in this ceremony, or reuse what they generated before for exactly that
    /// set [default: reuse if this home has it]
    #[arg(long, value_enum)]
    pub aux: Option<crate::plan::AuxMode>,
    /// Expiry and output file
    #[command(flatten)]
    pub output: PlanOutputArgs,
}

/// Runs `mpc reshare ...`.
pub fn run(ctx: &Ctx, cmd: ReshareCommand) -> Result<()> {
    match cmd {
        ReshareCommand::Plan(a) => plan(ctx, a),
        ReshareCommand::Run(a) => {
            let Ran {
                outcome, session, ..
            } = run_ceremony(ctx, &a, "reshare")?;
            let Outcome::Reshare {
                key_id,
                public_key,
                threshold,
                parties,
                new_index,
                ..
            } = &outcome
            else {
                return Err(Failure::internal("a reshare produced another outcome"));
            };
            let words = outcome.transcript_words()?;
            match new_index {
                Some(i) => ctx.printer.status(format!(
                    "key {key_id}: you hold share {i} of {} ({threshold}-of-{}: {})",
                    parties.len(),
                    parties.len(),
                    parties.join(", ")
                )),
                None => ctx.printer.status(format!(
                    "key {key_id}: reshared to {} ({threshold}-of-{}); your share is destroyed and the key is marked reshared here",
                    parties.join(", "),
                    parties.len()
                )),
            }
            ctx.printer
                .status(format!("  public key: {public_key} (unchanged)"));
            ctx.printer.status(format!(
                "  transcript: {words}  (every party must read the same)"
            ));
            ctx.printer.status(
                "old shares still combine with each other: every old holder must destroy its old share and every backup made before this reshare",
            );
            ctx.printer.data(key_id);
            ctx.printer.json(&serde_json::json!({
                "key_id": key_id,
                "public_key": public_key,
                "threshold": threshold,
                "parties": parties,
                "new_index": new_index,
                "transcript_words": words,
                "result": outcome,
                "session_id": session,
            }))
        }
    }
}

fn plan(ctx: &Ctx, args: ResharePlanArgs) -> Result<()> {
    let db = ctx.home.db()?;
    let (key, scheme, key_parties) = key_with_parties(&db, &args.key)?;
    let by_name = |name: &str| key_parties.iter().position(|c| c.name == name);
    let dealers = args
        .from
        .iter()
        .map(|n| {
            by_name(n).map(|i| i as u16 + 1).ok_or_else(|| {
                Failure::input(format!("`{n}` is not a party of key {}", key.id)).hint(format!(
                    "the key's parties: {}",
                    key_parties
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
        })
        .collect::<Result<Vec<u16>>>()?;
    let holders: Vec<Card> = args
        .parties
        .iter()
        .map(|s| match by_name(s) {
            Some(i) if s != "me" => Ok(key_parties[i].clone()),
            _ => resolve_party(ctx, s),
        })
        .collect::<Result<_>>()?;
    let aux = match (scheme.is_frost(), args.aux) {
        (false, Some(mode)) => Some(mode),
        (false, None) => default_aux(&ctx.home, scheme, &holders),
        (true, Some(_)) => {
            return Err(Failure::input("--aux applies only to ecdsa-secp256k1 keys"));
        }
        (true, None) => None,
    };
    let spec = ReshareSpec {
        key_id: key.id.clone(),
        scheme,
        group_public_key: key.public_key.clone(),
        public_key_package: Vec::new(),
        threshold: key.threshold,
        key_parties,
        dealers,
        holders,
        new_threshold: args.threshold.unwrap_or(key.threshold),
        label: args.label.unwrap_or_else(|| key.label.clone()),
        expires_at: now() + args.output.expires.as_secs(),
        aux,
    };
    let plan = reshare_plan(ctx, spec)?;
    emit_plan(ctx, &plan, args.output.out.as_deref())
}

/// The plan of `spec`, with the key's public side read from this home's share (which
/// `spec.public_key_package` is replaced by), validated.
pub(super) fn reshare_plan(ctx: &Ctx, mut spec: ReshareSpec) -> Result<Plan> {
    let identity = ctx.unlock()?;
    let share = crate::ceremony::load_share(&ctx.home, &identity, &spec.key_id)?;
    spec.public_key_package = public_side(spec.scheme, &share)?;
    let plan = Plan::Reshare(ResharePlan::new(spec));
    plan.validate()?;
    Ok(plan)
}
