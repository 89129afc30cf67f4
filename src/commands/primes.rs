//! `mpc primes generate|import|list`: the pool of Paillier primes for ECDSA aux info.
//!
//! Aux-info generation needs two 1536-bit safe primes per party; finding them takes
//! seconds to minutes. Making them ahead of time keeps the ceremony short. Each set is
//! sealed to the party's own key in `HOME/primes/` and used exactly once.

use super::{Ctx, read_input};
use crate::engine::cggmp::Primes;
use crate::error::{Failure, Result};
use crate::identity::Identity;
use crate::output::Printer;
use crate::secret::Secret;
use crate::store::Home;
use clap::{Args, Subcommand};
use indicatif::ProgressBar;
use std::path::PathBuf;

/// `mpc primes`
#[derive(Debug, Subcommand)]
pub enum PrimesCommand {
    /// Generate prime sets into this home (each takes seconds to minutes)
    Generate(PrimesGenerateArgs),
    /// Add prime sets from files (JSON, as in testdata/primes)
    Import(PrimesImportArgs),
    /// Show how many prime sets are ready
    List,
}

/// `mpc primes generate`
#[derive(Debug, Args)]
pub struct PrimesGenerateArgs {
    /// How many sets to generate (one is used per aux-info ceremony)
    #[arg(long, default_value_t = 1)]
    pub count: u32,
}

/// `mpc primes import`
#[derive(Debug, Args)]
pub struct PrimesImportArgs {
    /// Prime set files
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// Runs `mpc primes ...`.
pub fn run(ctx: &Ctx, cmd: PrimesCommand) -> Result<()> {
    match cmd {
        PrimesCommand::Generate(a) => {
            let identity = ctx.unlock()?;
            for k in 0..a.count {
                generate_into_pool(&ctx.printer, &ctx.home, &identity, (k + 1, a.count))?;
            }
            ctx.home.db()?.checkpoint(|m| identity.sign(m))?;
            list(ctx)
        }
        PrimesCommand::Import(a) => {
            let identity = ctx.unlock()?;
            for path in &a.files {
                let bytes = Secret::new(read_input(path)?);
                if is_demo_primes(bytes.expose()) {
                    return Err(Failure::input(format!(
                        "{} holds the demo's Paillier primes, which are public: never for a real key",
                        path.display()
                    ))
                    .hint("generate primes with `mpc primes generate`"));
                }
                serde_json::from_slice::<Primes>(bytes.expose()).map_err(|e| {
                    Failure::input(format!(
                        "{} is not a set of Paillier primes",
                        path.display()
                    ))
                    .cause(e)
                })?;
                ctx.home.add_primes(&identity, bytes.expose())?;
            }
            let db = ctx.home.db()?;
            db.audit(
                "primes.import",
                "",
                serde_json::json!({ "sets": a.files.len() }),
            )?;
            db.checkpoint(|m| identity.sign(m))?;
            list(ctx)
        }
        PrimesCommand::List => list(ctx),
    }
}

fn list(ctx: &Ctx) -> Result<()> {
    ctx.home.card()?;
    let n = ctx.home.primes()?.len();
    ctx.printer
        .status(format!("{n} set(s) of Paillier primes ready"));
    ctx.printer.json(&serde_json::json!({ "available": n }))
}

/// Generates one set of primes (with a spinner) and adds it to the pool.
pub fn generate_into_pool(
    printer: &Printer,
    home: &Home,
    identity: &Identity,
    (k, of): (u32, u32),
) -> Result<()> {
    let msg = format!(
        "generating Paillier primes {k}/{of}: two 1536-bit safe primes (typically 15 s, sometimes over a minute)"
    );
    let spinner = printer.spinner(msg.clone());
    if spinner.is_none() {
        printer.status(&msg);
    }
    crate::lifecycle::add_generated_primes(home, identity)?;
    if let Some(s) = spinner {
        ProgressBar::finish_and_clear(&s);
    }
    Ok(())
}

/// The demo's Paillier prime sets, one per party (public: for the demo only).
const DEMO_PRIMES: &str = include_str!("demo_primes.json");

/// The demo's prime sets, each as the JSON `mpc primes import` reads.
pub fn demo_primes() -> Result<Vec<String>> {
    let sets: Vec<serde_json::Value> = serde_json::from_str(DEMO_PRIMES)
        .map_err(|e| Failure::internal("the built-in demo primes do not parse").cause(e))?;
    Ok(sets.iter().map(|s| s.to_string()).collect())
}

/// Whether `primes` (a prime set's JSON) is one of the demo's public sets.
pub fn is_demo_primes(primes: &[u8]) -> bool {
    let Ok(given) = serde_json::from_slice::<serde_json::Value>(primes) else {
        return false;
    };
    serde_json::from_str::<Vec<serde_json::Value>>(DEMO_PRIMES)
        .is_ok_and(|sets| sets.contains(&given))
}
