//! `mpc`: threshold signatures with offline, air-gapped key ceremonies.
//!
//! Layers, each importing only those below it (DESIGN.md "Layers"); there are no import
//! circles among the modules:
//!
//! ```text
//! commands (commands::cli: the clap types)  the CLI: exit codes, hints, prompts;
//!   error, output                            Failure, human and --json printing
//! serve                                      a node of a signing cluster: HTTP API, tokens,
//!                                            policies, FROST nonce pools, the bus link
//! relay                                      the relay server (and its node mode)
//! ceremony                                   one party's session: admission, the step loop,
//!                                            over a Carrier and a Store; ceremony::Error
//! lifecycle                                  a key's life in one party's store; lifecycle::Error
//! engine, envelope, transport, store, chain  protocol state machines (no I/O); round messages;
//!   plan                                     carriers (dir, qr, relay client, in-memory) and
//!                                            the relay wire format; vault, keystore, db + audit;
//!                                            addresses; plans and Valid<Plan>
//! identity, scheme, pubkey, secret, clock    keys and cards; schemes; public keys; secrets;
//!   fault                                    time; crash points (debug builds)
//! ```
//!
//! A server embeds the same core: [`ceremony::Ceremony::open`] takes a
//! [`store::Store`] (a party home, or [`store::Store::memory`]), carriers
//! ([`transport::Carrier`]: a message directory, the relay, or
//! [`transport::memory::MemoryCarrier`]) and a [`plan::Valid`] plan, and reports typed
//! [`ceremony::Error`]s; only `commands` turns them into exit codes and hints.
#![warn(missing_docs)]

pub mod ceremony;
pub mod chain;
pub mod clock;
pub mod commands;
pub use commands::cli;
pub mod engine;
pub mod envelope;
pub mod error;
pub mod fault;
pub mod identity;
pub mod lifecycle;
pub mod output;
pub mod plan;
pub mod pubkey;
pub mod relay;
pub mod scheme;
pub mod secret;
pub mod serve;
pub mod store;
pub mod transport;
#[cfg(feature = "test-vectors")]
pub mod vectors;

use clap::Parser;
use std::ffi::OsString;

/// Parses arguments, runs the command and returns the process exit code.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let cli = match cli::Cli::try_parse_from(&args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            if !e.use_stderr() {
                return 0; // --help, --version
            }
            // Under `--json` a usage error is also the one JSON object on stdout, like
            // every other error.
            if args_ask_for_json(&args) {
                output::json_failure(&usage_failure(&e));
            }
            return error::Exit::Usage as i32;
        }
    };
    let printer = output::Printer {
        json: cli.global.json,
        quiet: cli.global.quiet,
        ..Default::default()
    };
    match commands::dispatch(cli) {
        Ok(()) => 0,
        Err(f) => {
            printer.failure(&f);
            f.exit as i32
        }
    }
}

/// Whether `--json` stands among the arguments (before a `--`), for reporting an
/// argument error the parser could not finish.
fn args_ask_for_json(args: &[OsString]) -> bool {
    args.iter()
        .skip(1)
        .take_while(|a| *a != "--")
        .any(|a| a == "--json")
}

/// A parse error as a [`error::Failure`]: clap's first line as the message, its other
/// lines (possible values, the usage) as causes, its tip as the hint.
fn usage_failure(e: &clap::Error) -> error::Failure {
    let text = e.render().to_string();
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("For more information"));
    let first = lines.next().unwrap_or("invalid arguments");
    let mut message = first.strip_prefix("error: ").unwrap_or(first).to_string();
    let mut lines = lines.peekable();
    // "the following required arguments were not provided:" and its list, on one line.
    if message.ends_with(':') {
        let mut listed = Vec::new();
        while let Some(l) = lines.next_if(|l| !l.starts_with("Usage:") && !l.starts_with("tip:")) {
            listed.push(l);
        }
        message = format!("{message} {}", listed.join(", "));
    }
    let mut f = error::Failure::input(message);
    for l in lines {
        match l.strip_prefix("tip: ") {
            Some(tip) => f = f.hint(tip),
            None => f = f.cause(l),
        }
    }
    if f.hint.is_none() {
        f = f.hint("see `mpc --help`");
    }
    f
}
