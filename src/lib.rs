//! `mpc`: threshold signatures with offline, air-gapped key ceremonies.
//!
//! Layers, each importing only those below it (see DESIGN.md):
//! `commands` → `ceremony`, `lifecycle`, `relay` (the server) → `engine`, `envelope`,
//! `transport` (files, QR, relay client), `store`, `chain` → crates.
#![warn(missing_docs)]

pub mod ceremony;
pub mod chain;
pub mod cli;
pub mod commands;
pub mod engine;
pub mod envelope;
pub mod error;
pub mod identity;
pub mod lifecycle;
pub mod output;
pub mod plan;
pub mod pubkey;
pub mod relay;
pub mod scheme;
pub mod secret;
pub mod store;
pub mod transport;
pub mod vectors;

use clap::Parser;
use std::ffi::OsString;

/// Parses arguments, runs the command and returns the process exit code.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match cli::Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                error::Exit::Usage as i32
            } else {
                0
            };
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
