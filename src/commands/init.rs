//! `mpc init`: create a party home.

use super::Ctx;
use crate::error::{Failure, Result};
use crate::identity::{validate_name, words};
use clap::Args;

/// `mpc init`
#[derive(Debug, Args)]
pub struct InitArgs {
    /// This party's name, as the others will see it (letters, digits, - _ .)
    #[arg(long)]
    pub name: String,
    /// scrypt work factor for the passphrase (log2 N). Lower only for tests.
    #[arg(long, default_value_t = 18, value_parser = clap::value_parser!(u8).range(1..=22), value_name = "LOG_N")]
    pub kdf_log_n: u8,
}

/// Runs `mpc init`.
pub fn run(ctx: &Ctx, args: InitArgs) -> Result<()> {
    validate_name(&args.name).map_err(Failure::input)?;
    let p = &ctx.printer;
    if args.kdf_log_n < 16 {
        p.warn(format!(
            "scrypt work factor 2^{} is weak; use it only for tests (default 2^18)",
            args.kdf_log_n
        ));
    }
    let pass = p.passphrase(true)?;
    let spinner = p.spinner("encrypting identity");
    let identity = ctx.home.create(&args.name, &pass, args.kdf_log_n);
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    let identity = identity?;
    let card = identity.card();
    let db = ctx.home.db()?;
    let fp = words(&card.fingerprint());
    db.audit(
        "init",
        &card.name,
        serde_json::json!({ "fingerprint": fp, "kdf_log_n": args.kdf_log_n }),
    )?;
    db.checkpoint(|m| identity.sign(m))?;
    p.status(format!("created party home {}", ctx.home.root().display()));
    p.status(format!("  name:        {}", card.name));
    p.status(format!("  fingerprint: {fp}"));
    p.status("next: `mpc id --out NAME.card` and give the card to the other parties");
    p.json(&serde_json::json!({
        "home": ctx.home.root(),
        "card": card,
        "fingerprint": fp,
        "kdf_log_n": args.kdf_log_n,
    }))
}
