//! The command-line interface: clap types for every subcommand. `man/` and
//! `completions/` are generated from these (see `mpc man` and `mpc completions`).

use crate::scheme::Scheme;
use clap::{Args, Parser, Subcommand, ValueEnum};
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

/// `mpc id`
#[derive(Debug, Args)]
pub struct IdArgs {
    /// Also write the card to FILE
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// `mpc contacts`
#[derive(Debug, Subcommand)]
pub enum ContactsCommand {
    /// Import cards (after comparing their fingerprints with their owners)
    Add(ContactsAddArgs),
    /// List imported cards
    List,
}

/// `mpc contacts add`
#[derive(Debug, Args)]
pub struct ContactsAddArgs {
    /// Card files
    #[arg(required = true, value_name = "CARD")]
    pub cards: Vec<PathBuf>,
    /// Do not ask to confirm the fingerprints
    #[arg(long, short)]
    pub yes: bool,
}

/// `mpc keygen`
#[derive(Debug, Subcommand)]
pub enum KeygenCommand {
    /// Write a keygen plan for the parties to confirm
    Plan(KeygenPlanArgs),
    /// Take part in the keygen of a plan
    Run(RunArgs),
}

/// `mpc keygen plan`
#[derive(Debug, Args)]
pub struct KeygenPlanArgs {
    /// The signature scheme
    #[arg(long, value_enum)]
    pub scheme: Scheme,
    /// Signers required (t of t-of-n)
    #[arg(short = 't', long)]
    pub threshold: u16,
    /// A party, in order: a card file, a contact name, or `me`. Repeat for each party.
    #[arg(long = "party", required = true, value_name = "CARD|NAME|me")]
    pub parties: Vec<String>,
    /// A label for the key
    #[arg(long)]
    pub label: String,
    /// ecdsa-secp256k1: generate aux info (Paillier keys) in this ceremony, or reuse the
    /// aux info these parties generated before [default: reuse if this home has it]
    #[arg(long, value_enum)]
    pub aux: Option<crate::plan::AuxMode>,
    /// Expiry and output file
    #[command(flatten)]
    pub output: PlanOutputArgs,
}

/// Where a new plan goes and how long it stays valid.
#[derive(Debug, Args)]
pub struct PlanOutputArgs {
    /// How long the plan stays valid
    #[arg(long, default_value = "24h", value_parser = humantime::parse_duration)]
    pub expires: std::time::Duration,
    /// Write the plan to FILE (default: stdout)
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// `mpc keygen run` and `mpc sign run`
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The plan file
    pub plan: PathBuf,
    /// The message directory shared with the other parties (a USB stick, a shared folder).
    /// With --relay, where downloaded messages are kept [default: HOME/relay/SESSION]
    #[arg(long, value_name = "DIR", required_unless_present = "relay")]
    pub dir: Option<PathBuf>,
    /// Exchange messages through an `mpc relay` at HOST:PORT instead of a shared directory
    #[arg(long, value_name = "HOST:PORT")]
    pub relay: Option<String>,
    /// Do what can be done now, then exit (4 if still waiting); run again after copying files
    #[arg(long)]
    pub step: bool,
    /// Confirm the plan without asking (only after comparing its fingerprint)
    #[arg(long, short)]
    pub yes: bool,
    /// How long to wait for the other parties without --step
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
    pub timeout: std::time::Duration,
}

/// `mpc sign`
#[derive(Debug, Subcommand)]
pub enum SignCommand {
    /// Write a signing plan: the key, the signers and the exact message
    Plan(SignPlanArgs),
    /// Take part in the signing session of a plan
    Run(SignRunArgs),
}

/// `mpc sign plan`
#[derive(Debug, Args)]
pub struct SignPlanArgs {
    /// The key id (or a unique prefix)
    #[arg(long)]
    pub key: String,
    /// The signers: names or 1-based indices, comma separated (at least t)
    #[arg(long, value_delimiter = ',', required = true)]
    pub signers: Vec<String>,
    /// The message
    #[command(flatten)]
    pub message: MessageArgs,
    /// A label for the session
    #[arg(long, default_value = "")]
    pub label: String,
    /// ecdsa-secp256k1: how the message is hashed before signing [default: sha256]
    #[arg(long, value_enum)]
    pub hash: Option<crate::plan::HashMode>,
    /// ecdsa-secp256k1: sign with the child key at this non-hardened BIP32 path, e.g. m/0/1
    #[arg(long, value_name = "PATH", conflicts_with = "presigned")]
    pub path: Option<String>,
    /// ecdsa-secp256k1: sign in one round with an unused presignature of these signers
    /// (see `mpc presign`); not with --path or --hash prehash
    #[arg(long)]
    pub presigned: bool,
    /// Expiry and output file
    #[command(flatten)]
    pub output: PlanOutputArgs,
}

/// The message to sign or verify: a file, stdin, or hex.
#[derive(Debug, Args)]
pub struct MessageArgs {
    /// The message: a file, or - for stdin
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "message_hex",
        required_unless_present = "message_hex"
    )]
    pub message: Option<PathBuf>,
    /// The message as hex
    #[arg(long, value_name = "HEX")]
    pub message_hex: Option<String>,
}

/// `mpc sign run`
#[derive(Debug, Args)]
pub struct SignRunArgs {
    /// Plan, directory and waiting options
    #[command(flatten)]
    pub run: RunArgs,
    /// Write the signature to FILE (default: stdout)
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The signature's encoding
    #[arg(long, value_enum, default_value_t = Encoding::Hex)]
    pub encoding: Encoding,
    /// ecdsa-secp256k1: the signature form
    #[arg(long, value_enum, default_value_t = EcdsaFormat::Compact)]
    pub ecdsa_format: EcdsaFormat,
}

/// ECDSA signature forms.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum EcdsaFormat {
    /// r||s, 64 bytes
    Compact,
    /// ASN.1 DER
    Der,
    /// r||s||v, 65 bytes, v the recovery id (0 or 1)
    Recoverable,
    /// r||s||v, 65 bytes, v = 27 + the recovery id, as eth_sign and personal_sign return
    Eth,
}

/// Byte encodings for signatures.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Encoding {
    /// Lowercase hex
    Hex,
    /// Standard base64
    Base64,
    /// Raw bytes
    Raw,
}

/// `mpc verify`
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The signature scheme
    #[arg(long, value_enum)]
    pub scheme: Scheme,
    /// The public key as hex (Ed25519 32 bytes; BIP340 32-byte x-only or 33; secp256k1 33)
    #[arg(long, value_name = "HEX")]
    pub public_key: String,
    /// The message
    #[command(flatten)]
    pub message: MessageArgs,
    /// The signature: hex or base64 text, or a file holding hex, base64 or raw bytes.
    /// ECDSA: compact r||s, r||s||v, or DER.
    #[arg(long, value_name = "SIG|FILE")]
    pub signature: String,
    /// ecdsa-secp256k1: how the message was hashed [default: sha256]
    #[arg(long, value_enum)]
    pub hash: Option<crate::plan::HashMode>,
}

/// `mpc keys`
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List keys
    List,
    /// Show a key's metadata
    Show(KeyIdArgs),
    /// Print a key's public key
    Export(KeysExportArgs),
    /// Print a key's address on a chain
    Address(KeysAddressArgs),
    /// Write an encrypted backup of your share of a key
    ///
    /// This is the supported backup: it holds the share and the key's metadata, and no
    /// signing nonces. Never snapshot or restore a whole home (a VM snapshot, a file-level
    /// copy) while it has unfinished signing sessions: a restored copy would hold nonces
    /// already used, and answering a co-signer's different commitments from them would
    /// reveal the share. `mpc sessions list` shows unfinished sessions; `mpc sessions
    /// abandon` ends one.
    Backup(KeysBackupArgs),
    /// Restore a share from a backup, after checking it against the key
    Restore(KeysRestoreArgs),
}

/// `mpc keys backup`
#[derive(Debug, Args)]
pub struct KeysBackupArgs {
    /// The key id (or a unique prefix)
    pub key: String,
    /// Write the backup to FILE (ASCII-armored age, mode 0600)
    #[arg(long, short, value_name = "FILE")]
    pub out: PathBuf,
    /// Encrypt to this age recipient (age1...) instead of a passphrase; repeatable
    #[arg(long = "to", value_name = "RECIPIENT")]
    pub to: Vec<String>,
    /// Read the backup's passphrase from the first line of FILE [env: MPC_BACKUP_PASSPHRASE]
    #[arg(long, value_name = "FILE", conflicts_with = "to")]
    pub backup_passphrase_file: Option<PathBuf>,
}

/// `mpc keys restore`
#[derive(Debug, Args)]
pub struct KeysRestoreArgs {
    /// The backup file
    pub file: PathBuf,
    /// Read the backup's passphrase from the first line of FILE [env: MPC_BACKUP_PASSPHRASE]
    #[arg(long, value_name = "FILE")]
    pub backup_passphrase_file: Option<PathBuf>,
    /// An age identity file that opens a backup made with --to (your own identity is tried
    /// first)
    #[arg(long, value_name = "FILE")]
    pub identity: Option<PathBuf>,
}

/// `mpc keys address`
#[derive(Debug, Args)]
pub struct KeysAddressArgs {
    /// The key id (or a unique prefix)
    pub key: String,
    /// The chain
    #[arg(long, value_enum)]
    pub chain: crate::chain::Chain,
    /// cosmos: the bech32 prefix of the chain (cosmos, osmo, terra, ...)
    #[arg(long, default_value = "cosmos")]
    pub prefix: String,
    /// ecdsa-secp256k1: the address of the child key at this non-hardened BIP32 path
    /// (reads your share, so it asks for the passphrase)
    #[arg(long, value_name = "PATH")]
    pub path: Option<String>,
}

/// A key id argument.
#[derive(Debug, Args)]
pub struct KeyIdArgs {
    /// The key id (or a unique prefix)
    pub key: String,
}

/// `mpc keys export`
#[derive(Debug, Args)]
pub struct KeysExportArgs {
    /// The key id (or a unique prefix)
    pub key: String,
    /// Output form
    #[arg(long, value_enum, default_value_t = KeyFormat::Hex)]
    pub format: KeyFormat,
    /// ecdsa-secp256k1: the child key at this non-hardened BIP32 path, e.g. m/0/1
    /// (reads your share, so it asks for the passphrase)
    #[arg(long, value_name = "PATH")]
    pub path: Option<String>,
}

/// Public key output forms.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum KeyFormat {
    /// The scheme's standard form, hex (Ed25519 32, BIP340 x-only 32, secp256k1 33 bytes)
    Hex,
    /// PEM SubjectPublicKeyInfo
    Pem,
}

/// `mpc suspend`
#[derive(Debug, Args)]
pub struct SuspendArgs {
    /// The key id (or a unique prefix)
    pub key: String,
    /// Why (recorded in the audit log)
    #[arg(long)]
    pub reason: Option<String>,
}

/// `mpc delete`
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The key id (or a unique prefix)
    #[arg(required_unless_present = "purge", conflicts_with = "purge")]
    pub key: Option<String>,
    /// How long from now the share may be destroyed (by `mpc delete --purge`)
    #[arg(long, default_value = "30d", value_parser = humantime::parse_duration)]
    pub after: std::time::Duration,
    /// Cancel the key's scheduled deletion; the key stays suspended
    #[arg(long, conflicts_with = "purge")]
    pub cancel: bool,
    /// Destroy the shares of every key whose deletion date has passed (metadata is kept)
    #[arg(long)]
    pub purge: bool,
    /// Why (recorded in the audit log)
    #[arg(long)]
    pub reason: Option<String>,
    /// Do not ask for confirmation
    #[arg(long, short)]
    pub yes: bool,
}

/// `mpc relay`
#[derive(Debug, Args)]
pub struct RelayArgs {
    /// The address to listen on (port 0 picks a free port; the address is printed)
    #[arg(long, value_name = "HOST:PORT")]
    pub listen: String,
    /// The largest message accepted, in bytes (K, M suffixes allowed)
    #[arg(long, default_value = "2M", value_parser = parse_size, value_name = "BYTES")]
    pub max_message_size: usize,
    /// Messages one session may hold
    #[arg(long, default_value_t = 2000, value_name = "N")]
    pub max_messages: usize,
    /// How long a session is kept after its first party connects
    #[arg(long, default_value = "24h", value_parser = humantime::parse_duration)]
    pub session_lifetime: std::time::Duration,
    /// Sessions held at once
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub max_sessions: usize,
    /// Connections open at once
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub max_connections: usize,
    /// Close a connection that sends nothing for this long
    #[arg(long, default_value = "5m", value_parser = humantime::parse_duration)]
    pub idle_timeout: std::time::Duration,
}

/// Parses `4096`, `64K` or `2M` (powers of 1024).
fn parse_size(s: &str) -> Result<usize, String> {
    let (digits, unit) = match s.trim_end_matches(['B', 'b', 'i']).strip_suffix(['K', 'k']) {
        Some(d) => (d, 1 << 10),
        None => match s.trim_end_matches(['B', 'b', 'i']).strip_suffix(['M', 'm']) {
            Some(d) => (d, 1 << 20),
            None => (s, 1),
        },
    };
    let n: usize = digits
        .parse()
        .map_err(|_| format!("`{s}` is not a size like 4096, 64K or 2M"))?;
    n.checked_mul(unit)
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("`{s}` is not a usable size"))
}

/// `mpc sessions`
#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// List unfinished sessions: kind, label, age, and what each waits for
    List(SessionsListArgs),
    /// End an unfinished session for good and destroy its secret state (nonces, seeds)
    Abandon(SessionsAbandonArgs),
}

/// `mpc sessions list`
#[derive(Debug, Args)]
pub struct SessionsListArgs {
    /// Also list finished and aborted sessions
    #[arg(long)]
    pub all: bool,
}

/// `mpc sessions abandon`
#[derive(Debug, Args)]
pub struct SessionsAbandonArgs {
    /// The session id (or a unique prefix of at least 8 hex digits)
    pub session: String,
    /// Do not ask for confirmation
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// `mpc presign`
#[derive(Debug, Subcommand)]
pub enum PresignCommand {
    /// Write a presigning plan for a key and a signer set
    Plan(PresignPlanArgs),
    /// Take part in a presigning session
    Run(RunArgs),
    /// List this home's unused presignatures
    List,
}

/// `mpc presign plan`
#[derive(Debug, Args)]
pub struct PresignPlanArgs {
    /// The key id (or a unique prefix)
    #[arg(long)]
    pub key: String,
    /// The signers who will later sign with it: names or 1-based indices, comma separated
    #[arg(long, value_delimiter = ',', required = true)]
    pub signers: Vec<String>,
    /// A label for the session
    #[arg(long, default_value = "")]
    pub label: String,
    /// Expiry and output file
    #[command(flatten)]
    pub output: PlanOutputArgs,
}

/// `mpc refresh`
#[derive(Debug, Subcommand)]
pub enum RefreshCommand {
    /// Write a refresh plan for a key (all of its parties take part)
    Plan(RefreshPlanArgs),
    /// Take part in a refresh session
    Run(RunArgs),
}

/// `mpc refresh plan`
#[derive(Debug, Args)]
pub struct RefreshPlanArgs {
    /// The key id (or a unique prefix)
    #[arg(long)]
    pub key: String,
    /// A label for the session
    #[arg(long, default_value = "")]
    pub label: String,
    /// Expiry and output file
    #[command(flatten)]
    pub output: PlanOutputArgs,
}

/// `mpc repair`
#[derive(Debug, Subcommand)]
pub enum RepairCommand {
    /// Write a repair plan: who lost the share, who helps
    Plan(RepairPlanArgs),
    /// Take part in a repair session (as a helper, or as the party being repaired)
    Run(RunArgs),
}

/// `mpc repair plan`
#[derive(Debug, Args)]
pub struct RepairPlanArgs {
    /// The key id (or a unique prefix)
    #[arg(long)]
    pub key: String,
    /// The party that lost its share: a name or 1-based index
    #[arg(long)]
    pub lost: String,
    /// The helpers, at least t parties holding shares: names or 1-based indices, comma separated
    #[arg(long, value_delimiter = ',', required = true)]
    pub helpers: Vec<String>,
    /// Expiry and output file
    #[command(flatten)]
    pub output: PlanOutputArgs,
}

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

/// `mpc inspect`
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A plan, card or round message file, a QR image, or a text file of ur: parts
    pub file: PathBuf,
}

/// `mpc qr`
#[derive(Debug, Subcommand)]
pub enum QrCommand {
    /// Show your round messages (or cards and plans) as one stream of QR codes (terminal, PNG, SVG or text)
    Show(QrShowArgs),
    /// Read a stream of QR codes (images, folders of frames, ur: text) into a message folder (cards and plans too)
    Scan(QrScanArgs),
}

/// `mpc qr show`
#[derive(Debug, Args)]
pub struct QrShowArgs {
    /// Files to put in the stream: round messages, cards or plans [default: with --plan, what
    /// your latest step wrote to --dir]
    pub files: Vec<PathBuf>,
    /// The ceremony's plan: show the messages your latest step wrote to --dir
    #[arg(long, value_name = "PLAN", conflicts_with = "files")]
    pub plan: Option<PathBuf>,
    /// The message directory your steps write to
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// With --plan: every message of yours in the session, not only the latest round
    #[arg(long, requires = "plan")]
    pub all: bool,
    /// Bytes of message per QR code
    #[arg(long, value_enum, default_value = "normal")]
    pub density: crate::transport::qr::Density,
    /// Frames per second in the terminal
    #[arg(long, default_value_t = 4.0, value_parser = parse_fps)]
    pub fps: f64,
    /// Write the codes as PNG files into DIR instead of the terminal
    #[arg(long, value_name = "DIR")]
    pub png: Option<PathBuf>,
    /// Write the codes as SVG files into DIR instead of the terminal
    #[arg(long, value_name = "DIR")]
    pub svg: Option<PathBuf>,
    /// Write the parts as ur: text, one per line, to FILE (- for stdout)
    #[arg(long, value_name = "FILE")]
    pub text: Option<PathBuf>,
    /// Parts to write to files [default: the number of fragments, the fewest that rebuild
    /// the stream]; more parts are fountain-coded mixes that make up for lost ones
    #[arg(long, value_name = "N")]
    pub parts: Option<usize>,
}

fn parse_fps(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.2..=30.0).contains(&v) => Ok(v),
        _ => Err("a number of frames per second from 0.2 to 30".into()),
    }
}

/// `mpc qr scan`
#[derive(Debug, Args)]
pub struct QrScanArgs {
    /// PNG or JPEG images, folders of frames, text files of ur: parts, or - for pasted parts
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// The message directory to write the messages into (the one your steps read)
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
}

/// `mpc audit`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Print the audit log
    Log,
    /// Check the chain, its latest signed checkpoint and an anchor (exit 1 on any break)
    Verify(AuditVerifyArgs),
    /// Sign the current head with this party's identity and print it, for a worksheet
    Head,
}

/// `mpc audit verify`
#[derive(Debug, Args)]
pub struct AuditVerifyArgs {
    /// A head recorded elsewhere (`mpc audit head`), as SEQ:HASH: the log must still extend it
    #[arg(long, value_name = "SEQ:HASH", value_parser = parse_anchor)]
    pub anchor: Option<(i64, String)>,
}

fn parse_anchor(s: &str) -> Result<(i64, String), String> {
    let (seq, hash) = s
        .split_once(':')
        .ok_or_else(|| format!("`{s}` is not SEQ:HASH"))?;
    let seq: i64 = seq
        .parse()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("`{seq}` is not an entry number"))?;
    let hash = hash.trim().to_ascii_lowercase();
    if hash.len() != 64 || !hash.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("`{hash}` is not a 64-digit hex hash"));
    }
    Ok((seq, hash))
}

/// `mpc demo`
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Run the demo for this scheme only (default: every scheme, ECDSA included)
    #[arg(long)]
    pub scheme: Option<Scheme>,
    /// Keep the demo homes and messages in DIR instead of a temporary directory
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
}

/// `mpc bench`
#[cfg(feature = "bench")]
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Number of parties
    #[arg(short = 'n', long, default_value_t = 3)]
    pub parties: u16,
    /// Signers required
    #[arg(short = 't', long, default_value_t = 2)]
    pub threshold: u16,
    /// Use pregenerated primes `primes-K.json` from DIR (e.g. testdata/primes) instead of
    /// generating them (which is then measured)
    #[arg(long, value_name = "DIR")]
    pub primes_dir: Option<PathBuf>,
    /// Also run every ceremony through mpc processes over files
    #[arg(long)]
    pub e2e: bool,
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
