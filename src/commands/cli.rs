//! The command-line interface: clap types for every subcommand. `man/` and
//! `completions/` are generated from these (see `mpc man` and `mpc completions`).

use super::args::KeyIdArgs;
#[cfg(feature = "bench")]
use super::bench::BenchArgs;
use super::{
    audit::AuditCommand, contacts::ContactsCommand, delete::DeleteArgs, demo::DemoArgs, id::IdArgs,
    init::InitArgs, inspect::InspectArgs, keygen::KeygenCommand, keys::KeysCommand,
    presign::PresignCommand, primes::PrimesCommand, qr::QrCommand, refresh::RefreshCommand,
    relay::RelayArgs, repair::RepairCommand, reshare::ReshareCommand, sessions::SessionsCommand,
    sign::SignCommand, suspend::SuspendArgs, verify::VerifyArgs,
};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Threshold signatures with offline, air-gapped key ceremonies.
///
/// t-of-n parties generate a key together so that no machine ever holds the whole
/// private key; any t of them later sign. Round messages travel as files, as QR codes
/// or through an untrusted relay.
#[derive(Debug, Parser)]
#[command(
    name = "mpc",
    version,
    long_version = LONG_VERSION,
    propagate_version = true,
    max_term_width = 100
)]
#[command(after_long_help = EXIT_CODES)]
pub struct Cli {
    /// Global options.
    #[command(flatten)]
    pub global: Global,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// `mpc --version`: the version, and the commit and compiler it was built with.
pub const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("MPC_GIT_COMMIT"),
    ", ",
    env!("MPC_RUSTC"),
    ")"
);

/// The exit codes, shown in `mpc --help` and `mpc(1)`.
pub const EXIT_CODES: &str = "\
Exit status:
  0  success
  1  a negative answer (the signature is invalid; the audit chain is broken)
  2  usage error or bad input (a file, a passphrase, a plan), or a local safety refusal
     (a rolled-back journal, a spent nonce or presignature); nothing unsafe was done
  3  protocol aborted because a peer misbehaved (culprits are named)
  4  waiting: the step needs messages that have not arrived yet; run it again later
  5  internal error

Environment:
  MPC_HOME        the party home (like --home)
  MPC_PASSPHRASE  the passphrase, for scripts (like --passphrase-file)";

/// Options for every command.
#[derive(Debug, Args, Clone)]
pub struct Global {
    /// The party home directory [default: the platform data dir, e.g. ~/.local/share/mpc]
    #[arg(
        long,
        global = true,
        env = "MPC_HOME",
        hide_env_values = true,
        value_name = "DIR"
    )]
    pub home: Option<PathBuf>,
    /// Print one JSON object on stdout instead of human output
    #[arg(long, global = true)]
    pub json: bool,
    /// Print less on stderr
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Print more on stderr
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Never prompt; a question that needs an answer becomes an error
    #[arg(long, global = true)]
    pub no_input: bool,
    /// Read the passphrase from the first line of FILE
    #[arg(long, global = true, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a party home: identity keys encrypted under a passphrase, and a database
    Init(InitArgs),
    /// Print this party's public card (to give to the other parties)
    Id(IdArgs),
    /// Manage the cards of other parties
    #[command(subcommand)]
    Contacts(ContactsCommand),
    /// Plan and run a distributed key generation
    #[command(subcommand)]
    Keygen(KeygenCommand),
    /// Plan and run a threshold signing session
    #[command(subcommand)]
    Sign(SignCommand),
    /// Verify a signature with only the public key (no home needed)
    Verify(VerifyArgs),
    /// Show keys and export public keys
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Paillier primes for ECDSA aux info, made ahead of time
    #[command(subcommand)]
    Primes(PrimesCommand),
    /// ECDSA presignatures: the offline phase of signing, done ahead of time
    #[command(subcommand)]
    Presign(PresignCommand),
    /// Move round messages as QR codes: show yours, scan the others'
    #[command(subcommand)]
    Qr(QrCommand),
    /// Give every party a new share of a key (FROST, or n-of-n ECDSA); old shares stop working
    #[command(subcommand)]
    Refresh(RefreshCommand),
    /// Give a party that lost its share of a FROST key a new one, with the help of t others
    #[command(subcommand)]
    Repair(RepairCommand),
    /// Move a FROST key to a new party set and threshold; its public key stays
    #[command(subcommand)]
    Reshare(ReshareCommand),
    /// Stop a key from signing (this party's share) until it is resumed
    Suspend(SuspendArgs),
    /// Let a suspended key sign again
    Resume(KeyIdArgs),
    /// Schedule a key's share for destruction, cancel that, or destroy the shares due
    Delete(DeleteArgs),
    /// List unfinished ceremony sessions, or abandon one and destroy its secrets
    #[command(subcommand)]
    Sessions(SessionsCommand),
    /// Run an untrusted store-and-forward relay for round messages over TCP
    Relay(RelayArgs),
    /// Run this home as a node of a signing cluster (HTTP API); manage its API tokens
    Serve(Box<super::serve::ServeArgs>),
    /// Show what a plan, card, round message (file, QR image or ur: text) or backup is, without secrets
    Inspect(InspectArgs),
    /// Show and check the hash-chained audit log
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Run a whole 2-of-3 keygen and signing for every scheme (ECDSA too) in temporary homes
    Demo(DemoArgs),
    /// Measure threshold ECDSA on this machine, in-process and end to end
    #[cfg(feature = "bench")]
    Bench(BenchArgs),
    /// Print the version, the commit it was built from, the compiler and the crypto crates
    Version,
    /// Print a shell completion script
    Completions(CompletionsArgs),
    /// Write man pages
    Man(ManArgs),
}

/// `mpc completions`
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `mpc man`
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Directory to write the pages to
    #[arg(long, default_value = "man", value_name = "DIR")]
    pub out: PathBuf,
}
