//! `mpc inspect FILE`: what a plan, card, round message, QR stream or age file (a share
//! backup) is, without secrets.

use super::{Ctx, read_input};
use crate::ceremony::describe_plan;
use crate::envelope::{Envelope, Payload, looks_like_envelope};
use crate::error::{Failure, Result};
use crate::identity::{Card, words};
use crate::plan::Plan;
use crate::scheme::Scheme;
use clap::Args;
use std::path::PathBuf;

/// `mpc inspect`
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A plan, card or round message file, a QR image, or a text file of ur: parts
    pub file: PathBuf,
}

/// Runs `mpc inspect`.
pub fn run(ctx: &Ctx, args: InspectArgs) -> Result<()> {
    let bytes = read_input(&args.file)?;
    let name = args.file.display().to_string();
    if looks_like_envelope(&bytes) {
        let (json, check) = envelope(ctx, &name, &bytes)?;
        ctx.printer.json(&json)?;
        return check;
    }
    if is_qr_input(&bytes) {
        return stream(ctx, &args.file);
    }
    if bytes.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----")
        || bytes.starts_with(b"age-encryption.org/v1")
    {
        return age_file(ctx, &name, &bytes);
    }
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|_| Failure::input(format!("{name} is not a plan, card or round message")))?;
    if value.get("kind").is_some() {
        let plan = Plan::from_json(&bytes)
            .map_err(|e| Failure::input(format!("{name} is not a valid plan")).cause(e))?;
        ctx.printer.data(describe_plan(&plan, 0));
        ctx.printer
            .data(format!("  session id:  {}", hex::encode(plan.session_id())));
        return ctx.printer.json(&serde_json::json!({
            "type": "plan",
            "session_id": hex::encode(plan.session_id()),
            "fingerprint": plan.fingerprint(),
            "plan": plan,
        }));
    }
    let card = Card::from_json(&bytes)
        .map_err(|e| Failure::input(format!("{name} is not a valid card")).cause(e))?;
    let fp = words(&card.fingerprint());
    ctx.printer.data(format!(
        "card of {}\n  fingerprint: {fp}\n  ed25519:     {}\n  x25519:      {}",
        card.name, card.ed25519, card.x25519
    ));
    ctx.printer
        .json(&serde_json::json!({ "type": "card", "fingerprint": fp, "card": card }))
}

/// An age file (a share backup, or a sealed file of a home): only who can open it.
fn age_file(ctx: &Ctx, name: &str, bytes: &[u8]) -> Result<()> {
    let passphrase = crate::lifecycle::backup::needs_passphrase(bytes)
        .map_err(|e| Failure::from(e).context(format!("{name} is a damaged age file")))?;
    let to = if passphrase {
        "a passphrase"
    } else {
        "age recipients (X25519 keys)"
    };
    ctx.printer.data(format!(
        "age-encrypted file, encrypted to {to}; its contents are not shown\n  a share backup opens with `mpc keys restore {name}`"
    ));
    ctx.printer.json(&serde_json::json!({
        "type": "age",
        "encrypted_to": if passphrase { "passphrase" } else { "recipients" },
    }))
}

/// A PNG or JPEG image (of a QR code), or text of `ur:` parts.
fn is_qr_input(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x89PNG")
        || bytes.starts_with(&[0xff, 0xd8, 0xff])
        || String::from_utf8_lossy(&bytes[..bytes.len().min(64)])
            .trim_start()
            .to_lowercase()
            .starts_with("ur:")
}

/// A QR stream (image or `ur:` text): every message, card and plan in it.
fn stream(ctx: &Ctx, path: &std::path::Path) -> Result<()> {
    use crate::transport::qr::Item;
    let bundle = super::qr::read_stream(ctx, &[path.to_path_buf()])?;
    let items = crate::transport::qr::unbundle(&bundle)
        .map_err(|e| Failure::input(format!("{} holds nothing usable", path.display())).cause(e))?;
    ctx.printer.data(format!(
        "QR stream of {} file(s), {} bytes",
        items.len(),
        bundle.len()
    ));
    let mut messages = Vec::new();
    let mut invalid = None;
    for (i, item) in items.iter().enumerate() {
        let name = format!("{} (item {})", path.display(), i + 1);
        match item {
            Item::Message(env) => {
                let (json, check) = envelope(ctx, &name, env.as_bytes())?;
                messages.push(json);
                invalid = invalid.or(check.err());
            }
            Item::Card(card, _) => {
                ctx.printer.data(format!(
                    "{name}: card of {}, fingerprint {}",
                    card.name,
                    crate::identity::words(&card.fingerprint())
                ));
                messages.push(serde_json::json!({ "type": "card", "card": card }));
            }
            Item::Plan(plan, _) => {
                ctx.printer
                    .data(format!("{name}:\n{}", describe_plan(plan, 0)));
                messages.push(serde_json::json!({ "type": "plan", "plan": plan }));
            }
        }
    }
    ctx.printer
        .json(&serde_json::json!({ "type": "stream", "messages": messages }))?;
    invalid.map_or(Ok(()), Err)
}

/// Describes one envelope; returns its JSON and whether its signature holds.
fn envelope(ctx: &Ctx, name: &str, bytes: &[u8]) -> Result<(serde_json::Value, Result<()>)> {
    let (env, check) = Envelope::decode_for_inspection(bytes)
        .map_err(|e| Failure::input(format!("{name} is not a valid round message")).cause(e))?;
    let signature = match &check {
        Ok(()) => "valid (by the sender key it names; check that key against the plan)".to_string(),
        Err(e) => format!("INVALID: {e}"),
    };
    let h = &env.header;
    let scheme = Scheme::from_tag(h.scheme)
        .map(|s| s.id())
        .unwrap_or("unknown");
    let (kind, len) = match &env.payload {
        Payload::Public(d) => ("public", d.len()),
        Payload::Sealed(d) => ("encrypted to the recipient", d.len()),
    };
    let to = h
        .recipient()
        .map_or("everyone (broadcast)".to_string(), |r| format!("party {r}"));
    ctx.printer.data(format!(
        "round message\n  scheme:     {scheme}\n  session:    {}\n  protocol:   {}\n  round:      {}\n  sender:     party {} (key {})\n  recipient:  {to}\n  payload:    {len} bytes, {kind}\n  signature:  {signature}\n  digest:     {}",
        hex::encode(h.session),
        h.protocol.name(),
        h.round,
        h.sender,
        hex::encode(h.sender_key),
        hex::encode(env.digest()),
    ));
    let json = serde_json::json!({
        "type": "message",
        "scheme": scheme,
        "session_id": hex::encode(h.session),
        "protocol": h.protocol.name(),
        "round": h.round,
        "sender": h.sender,
        "sender_key": hex::encode(h.sender_key),
        "recipient": h.recipient(),
        "payload_bytes": len,
        "payload_encrypted": matches!(env.payload, Payload::Sealed(_)),
        "signature_valid": check.is_ok(),
        "digest": hex::encode(env.digest()),
    });
    let check = check.map_err(|e| {
        Failure::input(format!("{name} is not a valid round message"))
            .cause(e)
            .hint("the details above are what the file claims; none of it can be trusted")
            .json_printed()
    });
    Ok((json, check))
}
