//! `mpc id`: print this party's card.

use super::{Ctx, write_output};
use crate::error::Result;
use crate::identity::words;
use clap::Args;
use std::path::PathBuf;

/// `mpc id`
#[derive(Debug, Args)]
pub struct IdArgs {
    /// Also write the card to FILE
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Runs `mpc id`.
pub fn run(ctx: &Ctx, args: IdArgs) -> Result<()> {
    let card = ctx.home.card()?;
    let fp = words(&card.fingerprint());
    if let Some(out) = &args.out {
        write_output(Some(out), format!("{}\n", card.to_json()).as_bytes())?;
        ctx.printer.status(format!("wrote {}", out.display()));
    } else {
        ctx.printer.data(card.to_json());
    }
    ctx.printer.status(format!(
        "fingerprint: {fp}  (read this aloud when others import your card)"
    ));
    ctx.printer
        .json(&serde_json::json!({ "card": card, "fingerprint": fp }))
}
