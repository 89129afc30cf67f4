//! `mpc suspend KEY`: this party's share of the key refuses to sign until `mpc resume`.

use super::{Ctx, keys::apply_signed, resolve_key};
use crate::error::Result;
use crate::lifecycle::Transition;
use clap::Args;

/// `mpc suspend`
#[derive(Debug, Args)]
pub struct SuspendArgs {
    /// The key id (or a unique prefix)
    pub key: String,
    /// Why (recorded in the audit log)
    #[arg(long)]
    pub reason: Option<String>,
}

/// Runs `mpc suspend`.
pub fn run(ctx: &Ctx, args: SuspendArgs) -> Result<()> {
    let db = ctx.home.db()?;
    let key = resolve_key(&db, &args.key)?;
    let status = apply_signed(ctx, &db, &key, Transition::Suspend, args.reason.as_deref())?;
    ctx.printer.status(format!(
        "key {} suspended: your share will not sign until `mpc resume {}`",
        key.id, key.id
    ));
    super::keys::print_status(ctx, &key.id, status, None)
}
