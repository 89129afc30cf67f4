//! `mpc verify`: check a signature with only the public key. Exit 0 valid, 1 invalid,
//! 2 bad input. Needs no party home.

use super::{Ctx, read_message};
use crate::cli::VerifyArgs;
use crate::error::{Exit, Failure, Result};
use crate::pubkey;
use base64::Engine as _;
use std::path::Path;

/// Decodes text as hex or base64.
fn decode_text(text: &str) -> Option<Vec<u8>> {
    let t = text.trim();
    hex::decode(t)
        .ok()
        .or_else(|| base64::engine::general_purpose::STANDARD.decode(t).ok())
}

/// The signature from `--signature`: a file (hex, base64 or raw) or inline hex/base64.
fn read_signature(arg: &str, want_len: usize) -> Result<Vec<u8>> {
    let path = Path::new(arg);
    if path.is_file() {
        let bytes = std::fs::read(path)
            .map_err(|e| Failure::input(format!("cannot read {arg}")).cause(e))?;
        if let Some(d) = std::str::from_utf8(&bytes).ok().and_then(decode_text)
            && d.len() == want_len
        {
            return Ok(d);
        }
        return Ok(bytes);
    }
    decode_text(arg)
        .ok_or_else(|| Failure::input("--signature is neither a file nor hex or base64 text"))
}

/// Runs `mpc verify`.
pub fn run(ctx: &Ctx, args: VerifyArgs) -> Result<()> {
    let pk = hex::decode(args.public_key.trim())
        .map_err(|e| Failure::input("--public-key is not valid hex").cause(e))?;
    let message = read_message(&args.message)?;
    let sig = read_signature(&args.signature, args.scheme.signature_len())?;
    let valid = pubkey::verify(args.scheme, &pk, &message, &sig)?;
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
