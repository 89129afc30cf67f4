//! `mpc keys list|show|export|address` (backup and restore are in `backup.rs`).

use super::args::KeyIdArgs;
use super::backup::{KeysBackupArgs, KeysRestoreArgs};
use super::{Ctx, resolve_key};
use crate::ceremony::load_share;
use crate::chain;
use crate::engine::cggmp::{EcdsaKeyShare, derived_public_key};
use crate::error::{Failure, Result};
use crate::identity::{Card, words};
use crate::plan::format_time;
use crate::plan::parse_path;
use crate::pubkey;
use crate::scheme::Scheme;
use crate::store::db::{Db, KeyRecord, KeyStatus};
use clap::{Args, Subcommand, ValueEnum};

/// `mpc keys`
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List keys
    List,
    /// Show a key's metadata
    Show(KeyIdArgs),
    /// Print a key's public key
    Export(KeysExportArgs),
    /// Print a key's address on a chain
    Address(KeysAddressArgs),
    /// Write an encrypted backup of your share of a key
    ///
    /// This is the supported backup: it holds the share and the key's metadata, and no
    /// signing nonces. Never snapshot or restore a whole home (a VM snapshot, a file-level
    /// copy) while it has unfinished signing sessions: a restored copy would hold nonces
    /// already used, and answering a co-signer's different commitments from them would
    /// reveal the share. `mpc sessions list` shows unfinished sessions; `mpc sessions
    /// abandon` ends one.
    Backup(KeysBackupArgs),
    /// Restore a share from a backup, after checking it against the key
    Restore(KeysRestoreArgs),
}

/// `mpc keys address`
#[derive(Debug, Args)]
pub struct KeysAddressArgs {
    /// The key id (or a unique prefix)
    pub key: String,
    /// The chain
    #[arg(long, value_enum)]
    pub chain: crate::chain::Chain,
    /// cosmos: the bech32 prefix of the chain (cosmos, osmo, terra, ...)
    #[arg(long, default_value = "cosmos")]
    pub prefix: String,
    /// ecdsa-secp256k1: the address of the child key at this non-hardened BIP32 path
    /// (reads your share, so it asks for the passphrase)
    #[arg(long, value_name = "PATH")]
    pub path: Option<String>,
}

/// `mpc keys export`
#[derive(Debug, Args)]
pub struct KeysExportArgs {
    /// The key id (or a unique prefix)
    pub key: String,
    /// Output form
    #[arg(long, value_enum, default_value_t = KeyFormat::Hex)]
    pub format: KeyFormat,
    /// ecdsa-secp256k1: the child key at this non-hardened BIP32 path, e.g. m/0/1
    /// (reads your share, so it asks for the passphrase)
    #[arg(long, value_name = "PATH")]
    pub path: Option<String>,
}

/// Public key output forms.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum KeyFormat {
    /// The scheme's standard form, hex (Ed25519 32, BIP340 x-only 32, secp256k1 33 bytes)
    Hex,
    /// PEM SubjectPublicKeyInfo
    Pem,
}

/// Runs `mpc keys ...`.
pub fn run(ctx: &Ctx, cmd: KeysCommand) -> Result<()> {
    let db = ctx.home.db()?;
    match cmd {
        KeysCommand::List => list(ctx, &db),
        KeysCommand::Show(a) => show(ctx, &resolve_key(&db, &a.key)?),
        KeysCommand::Export(a) => {
            export(ctx, &resolve_key(&db, &a.key)?, a.format, a.path.as_deref())
        }
        KeysCommand::Address(a) => address(ctx, &resolve_key(&db, &a.key)?, &a),
        KeysCommand::Backup(a) => super::backup::create(ctx, &db, a),
        KeysCommand::Restore(a) => super::backup::restore(ctx, &db, a),
    }
}

/// The key matching `prefix`, its scheme and its parties' cards (in key order).
pub fn key_with_parties(db: &Db, prefix: &str) -> Result<(KeyRecord, Scheme, Vec<Card>)> {
    let key = resolve_key(db, prefix)?;
    let scheme = key.scheme;
    let parties: Vec<Card> = serde_json::from_str(&key.parties_json)
        .map_err(|e| Failure::internal("stored parties are unreadable").cause(e))?;
    Ok((key, scheme, parties))
}

fn scheme_of(k: &KeyRecord) -> Result<Scheme> {
    Ok(k.scheme)
}

/// The key's public key in the scheme's standard form, hex.
fn standard_hex(k: &KeyRecord) -> Result<String> {
    let raw = hex::decode(&k.public_key)
        .map_err(|e| Failure::internal("stored public key is not hex").cause(e))?;
    Ok(hex::encode(pubkey::standard_form(scheme_of(k)?, &raw)))
}

fn summary(k: &KeyRecord) -> Result<serde_json::Value> {
    Ok(serde_json::json!({
        "id": k.id,
        "scheme": k.scheme,
        "public_key": standard_hex(k)?,
        "threshold": k.threshold,
        "n": k.n,
        "my_index": k.my_index,
        "label": k.label,
        "status": k.status,
        "created_at": format_time(k.created_at),
        "updated_at": format_time(k.updated_at),
        "delete_after": k.delete_after.map(format_time),
    }))
}

fn list(ctx: &Ctx, db: &Db) -> Result<()> {
    let keys = db.keys()?;
    let mut rows = Vec::new();
    for k in &keys {
        ctx.printer.data(format!(
            "{}  {:<21} {}-of-{}  {:<9} {}",
            k.id,
            k.scheme,
            k.threshold,
            k.n,
            serde_json::to_value(k.status)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
            k.label
        ));
        rows.push(summary(k)?);
    }
    if keys.is_empty() {
        ctx.printer
            .status("no keys yet; create one with `mpc keygen plan` and `mpc keygen run`");
    }
    ctx.printer.json(&serde_json::json!({ "keys": rows }))
}

fn show(ctx: &Ctx, k: &KeyRecord) -> Result<()> {
    let mut v = summary(k)?;
    let parties: Vec<Card> = k.parties()?;
    let transcript = k.transcript_hash()?;
    v["parties"] = parties
        .iter()
        .enumerate()
        .map(|(i, c)| serde_json::json!({ "index": i + 1, "name": c.name, "fingerprint": words(&c.fingerprint()) }))
        .collect();
    v["transcript"] = serde_json::json!(k.transcript);
    v["transcript_words"] = serde_json::json!(words(&transcript));
    v["session_id"] = serde_json::json!(k.session_id);
    if !ctx.printer.json {
        let p = &ctx.printer;
        p.data(format!("key:        {}", k.id));
        p.data(format!("scheme:     {}", k.scheme));
        p.data(format!("public key: {}", standard_hex(k)?));
        p.data(format!(
            "threshold:  {}-of-{} (you are party {})",
            k.threshold, k.n, k.my_index
        ));
        p.data(format!("label:      {}", k.label));
        p.data(format!(
            "status:     {}",
            v["status"].as_str().unwrap_or("")
        ));
        if let Some(at) = k.delete_after {
            p.data(format!("destroyable: {}", format_time(at)));
        }
        p.data(format!("created:    {}", format_time(k.created_at)));
        p.data(format!("transcript: {}", words(&transcript)));
        p.data("parties:");
        for (i, c) in parties.iter().enumerate() {
            p.data(format!(
                "  {}. {:<12} {}",
                i + 1,
                c.name,
                words(&c.fingerprint())
            ));
        }
    }
    ctx.printer.json(&v)
}

/// The key's public key as stored, or its BIP32 child at `path` (ECDSA only; reads the
/// share, so it unlocks the identity).
fn public_key_at(ctx: &Ctx, k: &KeyRecord, path: Option<&str>) -> Result<Vec<u8>> {
    let scheme = scheme_of(k)?;
    match path {
        None => hex::decode(&k.public_key)
            .map_err(|e| Failure::internal("stored public key is not hex").cause(e)),
        Some(_) if scheme != Scheme::EcdsaSecp256k1 => Err(Failure::input(
            "--path applies only to ecdsa-secp256k1 keys",
        )),
        Some(path) => {
            let indices = parse_path(path).map_err(Failure::input)?;
            let identity = ctx.unlock()?;
            let share = load_share(&ctx.home, &identity, &k.id)?;
            let share: EcdsaKeyShare = serde_json::from_slice(share.key_package.expose())
                .map_err(|e| Failure::internal("the ECDSA key share is damaged").cause(e))?;
            derived_public_key(&share, &indices)
                .map_err(|e| Failure::input(format!("cannot derive {path}")).cause(e))
        }
    }
}

fn export(ctx: &Ctx, k: &KeyRecord, format: KeyFormat, path: Option<&str>) -> Result<()> {
    let scheme = scheme_of(k)?;
    let raw = public_key_at(ctx, k, path)?;
    let text = match format {
        KeyFormat::Hex => hex::encode(pubkey::standard_form(scheme, &raw)),
        KeyFormat::Pem => pubkey::pem(scheme, &raw)?.trim_end().to_string(),
    };
    ctx.printer.data(&text);
    ctx.printer.json(&serde_json::json!({
        "id": k.id,
        "scheme": k.scheme,
        "format": format!("{format:?}").to_lowercase(),
        "path": path,
        "public_key": text,
    }))
}

fn address(ctx: &Ctx, k: &KeyRecord, args: &KeysAddressArgs) -> Result<()> {
    let scheme = scheme_of(k)?;
    let raw = public_key_at(ctx, k, args.path.as_deref())?;
    let a = chain::address(args.chain, scheme, &raw, Some(&args.prefix))
        .map_err(|e| Failure::input(format!("no address for key {}", k.id)).cause(e))?;
    ctx.printer.data(&a.address);
    ctx.printer.json(&serde_json::json!({
        "id": k.id,
        "scheme": k.scheme,
        "chain": a.chain,
        "kind": a.kind,
        "path": args.path,
        "public_key": hex::encode(pubkey::standard_form(scheme, &raw)),
        "address": a.address,
    }))
}

/// A lifecycle change by this party: the identity is unlocked first (a wrong
/// passphrase changes nothing), then the change and its audit row are written, and the
/// new audit head is signed (a checkpoint), so `mpc audit verify` covers it at once.
pub fn apply_signed(
    ctx: &Ctx,
    db: &crate::store::db::Db,
    key: &KeyRecord,
    t: crate::lifecycle::Transition,
    reason: Option<&str>,
) -> Result<crate::store::db::KeyStatus> {
    let identity = ctx.unlock()?;
    let status = crate::lifecycle::apply(db, key, t, reason)?;
    db.checkpoint(|m| identity.sign(m))?;
    Ok(status)
}

/// The JSON answer of a lifecycle command.
pub fn print_status(
    ctx: &Ctx,
    id: &str,
    status: KeyStatus,
    delete_after: Option<u64>,
) -> Result<()> {
    ctx.printer.json(&serde_json::json!({
        "id": id,
        "status": status,
        "delete_after": delete_after.map(format_time),
    }))
}
