//! One file per subcommand: validate the arguments, call the library, print.

pub mod args;
pub mod audit;
pub mod backup;
#[cfg(feature = "bench")]
pub mod bench;
#[cfg(feature = "bench")]
#[cfg(feature = "load")]
pub mod bench_serve;
pub mod cli;
pub mod contacts;
pub mod delete;
pub mod demo;
pub mod generate;
pub mod id;
pub mod init;
pub mod inspect;
pub mod keygen;
pub mod keys;
pub mod presign;
pub mod primes;
pub mod qr;
pub mod refresh;
pub mod relay;
pub mod repair;
pub mod reshare;
pub mod resume;
pub mod run;
pub mod serve;
pub mod sessions;
pub mod sign;
pub mod suspend;
pub mod verify;
pub mod version;

use crate::error::{Failure, Result};
use crate::identity::Identity;
use crate::output::Printer;
use crate::store::Home;
use cli::{Cli, Command};
use std::io::Read;
use std::path::Path;

/// What every command gets.
pub struct Ctx {
    /// Output and prompts.
    pub printer: Printer,
    /// The party home (which may not exist yet).
    pub home: Home,
}

impl Ctx {
    /// Reads the passphrase and unlocks the identity.
    pub fn unlock(&self) -> Result<Identity> {
        self.home.card()?;
        let pass = self.printer.passphrase(false)?;
        let spinner = self.printer.spinner("unlocking identity");
        let identity = self.home.unlock(&pass);
        if let Some(s) = spinner {
            s.finish_and_clear();
        }
        Ok(identity?)
    }
}

/// Runs the parsed command.
pub fn dispatch(cli: Cli) -> Result<()> {
    let g = cli.global;
    let ctx = Ctx {
        printer: Printer {
            json: g.json,
            quiet: g.quiet,
            verbose: g.verbose,
            no_input: g.no_input,
            passphrase_file: g.passphrase_file,
        },
        home: Home::resolve(g.home),
    };
    match cli.command {
        Command::Init(a) => init::run(&ctx, a),
        Command::Id(a) => id::run(&ctx, a),
        Command::Contacts(c) => contacts::run(&ctx, c),
        Command::Keygen(c) => keygen::run(&ctx, c),
        Command::Sign(c) => sign::run(&ctx, c),
        Command::Verify(a) => verify::run(&ctx, a),
        Command::Keys(c) => keys::run(&ctx, c),
        Command::Primes(c) => primes::run(&ctx, c),
        Command::Presign(c) => presign::run(&ctx, c),
        Command::Qr(c) => qr::run(&ctx, c),
        Command::Refresh(c) => refresh::run(&ctx, c),
        Command::Repair(c) => repair::run(&ctx, c),
        Command::Reshare(c) => reshare::run(&ctx, c),
        Command::Suspend(a) => suspend::run(&ctx, a),
        Command::Resume(a) => resume::run(&ctx, a),
        Command::Delete(a) => delete::run(&ctx, a),
        Command::Sessions(c) => sessions::run(&ctx, c),
        Command::Relay(a) => relay::run(&ctx, a),
        Command::Serve(a) => serve::run(&ctx, *a),
        Command::Inspect(a) => inspect::run(&ctx, a),
        Command::Audit(c) => audit::run(&ctx, c),
        Command::Demo(a) => demo::run(&ctx, a),
        #[cfg(feature = "bench")]
        Command::Bench(a) => bench::run(&ctx, a),
        Command::Version => version::run(&ctx),
        Command::Completions(a) => generate::completions(a),
        Command::Man(a) => generate::man(&ctx, a),
    }
}

/// Reads a file, or stdin for `-`.
pub fn read_input(path: &Path) -> Result<Vec<u8>> {
    if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| Failure::input("cannot read stdin").cause(e))?;
        Ok(buf)
    } else {
        std::fs::read(path)
            .map_err(|e| Failure::input(format!("cannot read {}", path.display())).cause(e))
    }
}

/// The message from `--message FILE|-` or `--message-hex`.
pub fn read_message(args: &args::MessageArgs) -> Result<Vec<u8>> {
    match (&args.message, &args.message_hex) {
        (Some(f), _) => read_input(f),
        (None, Some(h)) => hex::decode(h.trim())
            .map_err(|e| Failure::input("--message-hex is not valid hex").cause(e)),
        (None, None) => Err(Failure::input("give --message FILE or --message-hex HEX")),
    }
}

/// Writes public output to a file (atomically) or stdout.
pub fn write_output(path: Option<&Path>, bytes: &[u8]) -> Result<()> {
    match path {
        Some(p) => crate::store::fsutil::write_atomic(p, bytes)
            .map_err(|e| Failure::input(format!("cannot write {}", p.display())).cause(e)),
        None => {
            crate::output::out_bytes(bytes);
            Ok(())
        }
    }
}

/// Finds the one key whose id starts with `prefix`.
pub fn resolve_key(db: &crate::store::db::Db, prefix: &str) -> Result<crate::store::db::KeyRecord> {
    use crate::store::keystore::{Lookup, lookup};
    match lookup(db, prefix)? {
        Lookup::Found(key) => Ok(*key),
        Lookup::None => Err(Failure::input(format!("no key matches `{prefix}`"))
            .hint("list keys with `mpc keys list`")),
        Lookup::Ambiguous(n) => Err(Failure::input(format!(
            "`{prefix}` matches {n} keys; give more of the id"
        ))),
    }
}
