//! `mpc resume KEY`: a suspended key signs again.

use super::args::KeyIdArgs;
use super::{Ctx, keys::apply_signed, resolve_key};
use crate::error::Result;
use crate::lifecycle::Transition;

/// Runs `mpc resume`.
pub fn run(ctx: &Ctx, args: KeyIdArgs) -> Result<()> {
    let db = ctx.home.db()?;
    let key = resolve_key(&db, &args.key)?;
    let status = apply_signed(ctx, &db, &key, Transition::Resume, None)?;
    ctx.printer
        .status(format!("key {} is active: your share signs again", key.id));
    super::keys::print_status(ctx, &key.id, status, None)
}
