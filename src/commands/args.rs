//! Argument groups several commands share.

use clap::{Args, ValueEnum};
use std::path::PathBuf;

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

/// A key id argument.
#[derive(Debug, Args)]
pub struct KeyIdArgs {
    /// The key id (or a unique prefix)
    pub key: String,
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
