//! `mpc verify`: check a signature with only the public key. Exit 0 valid, 1 invalid,
//! 2 bad input. Needs no party home.

use super::args::MessageArgs;
use super::{Ctx, read_message};
use crate::error::{Exit, Failure, Result};
use crate::plan::{HashMode, digest_of};
use crate::pubkey;
use crate::scheme::Scheme;
use base64::Engine as _;
use clap::Args;
use std::path::Path;

/// `mpc verify`
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The signature scheme
    #[arg(long, value_enum)]
    pub scheme: Scheme,
    /// The public key as hex (Ed25519 32 bytes; BIP340 32-byte x-only or 33; secp256k1 33)
    #[arg(long, value_name = "HEX")]
    pub public_key: String,
    /// The message
    #[command(flatten)]
    pub message: MessageArgs,
    /// The signature: hex or base64 text, or a file holding hex, base64 or raw bytes.
    /// ECDSA: compact r||s, r||s||v, or DER.
    #[arg(long, value_name = "SIG|FILE")]
    pub signature: String,
    /// ecdsa-secp256k1: how the message was hashed [default: sha256]
    #[arg(long, value_enum)]
    pub hash: Option<crate::plan::HashMode>,
}

/// Decodes text as hex or base64. Text made (almost) only of hex digits is taken to be
/// hex, so a typo in a hex signature is reported as such, with its position, instead of
/// being read as base64 and failing later on its length.
fn decode_text(text: &str) -> std::result::Result<Vec<u8>, String> {
    let t = text.trim();
    let hex_err = match hex::decode(t) {
        Ok(bytes) => return Ok(bytes),
        Err(e) => e,
    };
    let hexish = t.chars().filter(char::is_ascii_hexdigit).count();
    if !t.is_empty() && hexish * 10 >= t.chars().count() * 9 {
        return Err(format!("it is not valid hex: {hex_err}"));
    }
    base64::engine::general_purpose::STANDARD
        .decode(t)
        .map_err(|e| format!("it is neither hex nor base64: {e}"))
}

/// The signature from `--signature`: a file (hex or base64 text, else raw bytes) or
/// inline hex/base64.
fn read_signature(arg: &str) -> Result<Vec<u8>> {
    let path = Path::new(arg);
    if path.is_file() {
        let bytes = std::fs::read(path)
            .map_err(|e| Failure::input(format!("cannot read {arg}")).cause(e))?;
        return match std::str::from_utf8(&bytes).map(decode_text) {
            Ok(Ok(decoded)) => Ok(decoded),
            Ok(Err(why)) if why.contains("not valid hex") => {
                Err(Failure::input(format!("the signature in {arg} cannot be read")).cause(why))
            }
            _ => Ok(bytes),
        };
    }
    decode_text(arg).map_err(|why| {
        Failure::input("--signature is neither a file nor hex or base64 text").cause(why)
    })
}

/// Runs `mpc verify`.
pub fn run(ctx: &Ctx, args: VerifyArgs) -> Result<()> {
    let pk = hex::decode(args.public_key.trim())
        .map_err(|e| Failure::input("--public-key is not valid hex").cause(e))?;
    let message = read_message(&args.message)?;
    let sig = read_signature(&args.signature)?;
    let valid = match (args.scheme, args.hash) {
        (Scheme::EcdsaSecp256k1, mode) => {
            let digest =
                digest_of(mode.unwrap_or(HashMode::Sha256), &message).map_err(Failure::input)?;
            pubkey::verify_ecdsa_prehash(&pk, &digest, &sig)?
        }
        (_, Some(_)) => return Err(Failure::input("--hash applies only to ecdsa-secp256k1")),
        (scheme, None) => pubkey::verify(scheme, &pk, &message, &sig)?,
    };
    ctx.printer
        .json(&serde_json::json!({ "valid": valid, "scheme": args.scheme }))?;
    if valid {
        ctx.printer.status(format!(
            "the signature is valid ({})",
            args.scheme.signature_kind()
        ));
        Ok(())
    } else {
        Err(Failure::new(
            Exit::Negative,
            "the signature is NOT valid for this public key and message",
        )
        .json_printed())
    }
}
