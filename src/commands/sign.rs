//! `mpc sign plan` and `mpc sign run`.

use super::args::EcdsaFormat;
use super::args::Encoding;
use super::args::MessageArgs;
use super::args::PlanOutputArgs;
use super::run::RunArgs;
use super::{
    Ctx,
    keygen::emit_plan,
    keys::key_with_parties,
    read_message,
    run::{Ran, run_ceremony},
    write_output,
};
use crate::ceremony::Outcome;
use crate::error::{Failure, Result};
use crate::identity::Card;
use crate::plan::{HashMode, MAX_MESSAGE_LEN, Plan, Presign, SignPlan, fresh_nonce, now};
use crate::pubkey;
use crate::scheme::Scheme;
use crate::store::db::KeyRecord;
use crate::store::keystore::unused_presignatures;
use base64::Engine as _;
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// `mpc sign`
#[derive(Debug, Subcommand)]
pub enum SignCommand {
    /// Write a signing plan: the key, the signers and the exact message
    Plan(SignPlanArgs),
    /// Take part in the signing session of a plan
    Run(SignRunArgs),
}

/// `mpc sign plan`
#[derive(Debug, Args)]
pub struct SignPlanArgs {
    /// The key id (or a unique prefix)
    #[arg(long)]
    pub key: String,
    /// The signers: names or 1-based indices, comma separated (at least t)
    #[arg(long, value_delimiter = ',', required = true)]
    pub signers: Vec<String>,
    /// The message
    #[command(flatten)]
    pub message: MessageArgs,
    /// A label for the session
    #[arg(long, default_value = "")]
    pub label: String,
    /// ecdsa-secp256k1: how the message is hashed before signing [default: sha256]
    #[arg(long, value_enum)]
    pub hash: Option<crate::plan::HashMode>,
    /// ecdsa-secp256k1: sign with the child key at this non-hardened BIP32 path, e.g. m/0/1
    #[arg(long, value_name = "PATH", conflicts_with = "presigned")]
    pub path: Option<String>,
    /// ecdsa-secp256k1: sign in one round with an unused presignature of these signers
    /// (see `mpc presign`); not with --path or --hash prehash
    #[arg(long)]
    pub presigned: bool,
    /// Expiry and output file
    #[command(flatten)]
    pub output: PlanOutputArgs,
}

/// `mpc sign run`
#[derive(Debug, Args)]
pub struct SignRunArgs {
    /// Plan, directory and waiting options
    #[command(flatten)]
    pub run: RunArgs,
    /// Write the signature to FILE (default: stdout)
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The signature's encoding
    #[arg(long, value_enum, default_value_t = Encoding::Hex)]
    pub encoding: Encoding,
    /// ecdsa-secp256k1: the signature form
    #[arg(long, value_enum, default_value_t = EcdsaFormat::Compact)]
    pub ecdsa_format: EcdsaFormat,
}

/// Runs `mpc sign ...`.
pub fn run(ctx: &Ctx, cmd: SignCommand) -> Result<()> {
    match cmd {
        SignCommand::Plan(a) => plan(ctx, a),
        SignCommand::Run(a) => run_sign(ctx, a),
    }
}

/// The key, its parties, and the signers (1-based, ascending) named by `specs` (names
/// or indices), for a new signing or presigning plan.
pub fn resolve_signers(
    ctx: &Ctx,
    key: &str,
    specs: &[String],
) -> Result<(KeyRecord, Vec<Card>, Vec<u16>)> {
    let (key, _, parties) = key_with_parties(&ctx.home.db()?, key)?;
    crate::store::keystore::ensure_signs(&key)?;
    let signers = party_indices(&key, &parties, specs)?;
    Ok((key, parties, signers))
}

/// The 1-based indices (ascending, once each) of the parties of `key` named by `specs`
/// (names or indices).
pub fn party_indices(key: &KeyRecord, parties: &[Card], specs: &[String]) -> Result<Vec<u16>> {
    let mut out = Vec::new();
    for s in specs {
        let s = s.trim();
        let idx = match s.parse::<u16>() {
            Ok(i) if i >= 1 && (i as usize) <= parties.len() => i,
            Ok(i) => {
                return Err(Failure::input(format!(
                    "party index {i} is not between 1 and {}",
                    parties.len()
                )));
            }
            Err(_) => parties
                .iter()
                .position(|c| c.name == s)
                .map(|i| i as u16 + 1)
                .ok_or_else(|| Failure::input(format!("`{s}` is not a party of key {}", key.id)))?,
        };
        out.push(idx);
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// The oldest unused presignature in this home for `key_id` and exactly `signers`.
pub fn find_presignature(ctx: &Ctx, key_id: &str, signers: &[u16]) -> Result<Option<String>> {
    let db = ctx.home.db()?;
    Ok(unused_presignatures(&db)?
        .into_iter()
        .find(|p| p.key_id == key_id && p.signers == signers)
        .map(|p| p.session))
}

fn plan(ctx: &Ctx, args: SignPlanArgs) -> Result<()> {
    let (key, parties, signers) = resolve_signers(ctx, &args.key, &args.signers)?;
    let message = read_message(&args.message)?;
    if message.len() > MAX_MESSAGE_LEN {
        return Err(Failure::input("the message is larger than 1 MiB"));
    }
    let scheme = key.scheme;
    let presign = match (args.presigned, scheme) {
        (false, _) => None,
        (true, Scheme::EcdsaSecp256k1) => {
            let session = find_presignature(ctx, &key.id, &signers)?.ok_or_else(|| {
                Failure::input("no unused presignature in this home for this key and these signers")
                    .hint("make one with `mpc presign plan` and `mpc presign run`, with the same signers")
            })?;
            Some(Presign::Consume { session })
        }
        (true, _) => {
            return Err(Failure::input(
                "--presigned applies only to ecdsa-secp256k1",
            ));
        }
    };
    let plan = Plan::Sign(SignPlan {
        version: 1,
        scheme,
        key_id: key.id.clone(),
        group_public_key: key.public_key.clone(),
        threshold: key.threshold,
        parties,
        signers,
        message: base64::engine::general_purpose::STANDARD.encode(&message),
        label: args.label,
        expires_at: now() + args.output.expires.as_secs(),
        nonce: fresh_nonce(),
        hash: match (scheme, args.hash) {
            (Scheme::EcdsaSecp256k1, h) => Some(h.unwrap_or(HashMode::Sha256)),
            (_, Some(_)) => return Err(Failure::input("--hash applies only to ecdsa-secp256k1")),
            (_, None) => None,
        },
        path: args.path,
        presign,
    });
    plan.validate()?;
    emit_plan(ctx, &plan, args.output.out.as_deref())
}

fn run_sign(ctx: &Ctx, args: SignRunArgs) -> Result<()> {
    let Ran {
        outcome, session, ..
    } = run_ceremony(ctx, &args.run, "sign")?;
    let Outcome::Sign {
        key_id,
        scheme,
        signature,
        recovery_id,
        derived_public_key,
        transcript,
    } = &outcome
    else {
        return Err(Failure::input(
            "that plan makes no signature (a presigning plan?); use `mpc presign run`",
        ));
    };
    let compact =
        hex::decode(signature).map_err(|e| Failure::internal("bad stored signature").cause(e))?;
    // ECDSA signatures come in three forms; FROST signatures in one.
    let ecdsa = match (<[u8; 64]>::try_from(compact.as_slice()), recovery_id) {
        (Ok(rs), Some(v)) => Some(pubkey::ecdsa_forms(&rs, *v)?),
        _ => None,
    };
    let sig = match (&ecdsa, args.ecdsa_format) {
        (Some(f), EcdsaFormat::Der) => f.der.clone(),
        (Some(f), EcdsaFormat::Recoverable) => f.recoverable.clone(),
        (Some(f), EcdsaFormat::Eth) => f.eth.clone(),
        (None, EcdsaFormat::Der | EcdsaFormat::Recoverable | EcdsaFormat::Eth) => {
            return Err(Failure::input(format!(
                "--ecdsa-format applies only to ECDSA keys, not {scheme}"
            )));
        }
        _ => compact.clone(),
    };
    let encoded = match args.encoding {
        Encoding::Hex => format!("{}\n", hex::encode(&sig)).into_bytes(),
        Encoding::Base64 => format!(
            "{}\n",
            base64::engine::general_purpose::STANDARD.encode(&sig)
        )
        .into_bytes(),
        Encoding::Raw => sig.clone(),
    };
    let words = outcome.transcript_words()?;
    ctx.printer
        .status(format!("signed with key {key_id} ({scheme}); verified"));
    ctx.printer.status(format!(
        "  transcript: {words}  (every signer must read the same)"
    ));
    if let Some(out) = &args.out {
        write_output(Some(out), &encoded)?;
        ctx.printer
            .status(format!("  signature written to {}", out.display()));
    } else if !ctx.printer.json {
        write_output(None, &encoded)?;
    }
    let mut json = serde_json::json!({
        "key_id": key_id,
        "scheme": scheme,
        "signature": signature,
        "transcript": transcript,
        "transcript_words": words,
        "session_id": session,
    });
    if let Some(f) = &ecdsa {
        json["recovery_id"] = serde_json::json!(recovery_id);
        json["der"] = serde_json::json!(hex::encode(&f.der));
        json["recoverable"] = serde_json::json!(hex::encode(&f.recoverable));
        json["eth"] = serde_json::json!(hex::encode(&f.eth));
    }
    if let Some(child) = derived_public_key {
        ctx.printer.status(format!("  derived public key: {child}"));
        json["derived_public_key"] = serde_json::json!(child);
    }
    ctx.printer.json(&json)
}
