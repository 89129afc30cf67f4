//! What a signing plan signs: how a message is hashed for ECDSA, and BIP32 paths.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How an ECDSA signing plan's message becomes the 32-byte digest that is signed.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum HashMode {
    /// SHA-256 of the message (Bitcoin-style, generic).
    Sha256,
    /// Keccak-256 of the message (Ethereum-style).
    Keccak256,
    /// The message is already a 32-byte digest, signed as is.
    Prehash,
    /// Ethereum personal_sign (EIP-191 version 0x45): Keccak-256 of
    /// "\x19Ethereum Signed Message:\n", the message's length in decimal, and the message.
    Eip191,
    /// EIP-712 typed data: the message is the JSON of `eth_signTypedData_v4`; its
    /// signing hash is signed.
    Eip712,
}

impl HashMode {
    /// What the signer is shown before confirming.
    pub fn describe(self) -> &'static str {
        match self {
            HashMode::Sha256 => "SHA-256 of the message",
            HashMode::Keccak256 => "Keccak-256 of the message",
            HashMode::Prehash => "the message itself, a 32-byte digest chosen by the plan's author",
            HashMode::Eip191 => "the message as an Ethereum signed message (EIP-191 personal_sign)",
            HashMode::Eip712 => "the EIP-712 signing hash of the typed data",
        }
    }
}

/// Parses a non-hardened BIP32 path such as `m/0/1` into its indices. Hardened steps
/// cannot be derived by threshold parties and are refused.
pub fn parse_path(path: &str) -> Result<Vec<u32>, String> {
    let rest = path
        .strip_prefix('m')
        .ok_or_else(|| format!("derivation path `{path}` must start with `m`"))?;
    let mut out = Vec::new();
    for part in rest.split('/').skip(1) {
        if part.ends_with('\'') || part.ends_with('h') || part.ends_with('H') {
            return Err(format!(
                "`{path}` has a hardened step `{part}`; threshold keys derive only non-hardened children"
            ));
        }
        let i: u32 = part
            .parse()
            .map_err(|_| format!("`{part}` in `{path}` is not a child index"))?;
        if i >= 1 << 31 {
            return Err(format!("child index {i} in `{path}` is a hardened index"));
        }
        out.push(i);
    }
    if rest.split('/').next() != Some("") || (!rest.is_empty() && out.is_empty()) {
        return Err(format!("`{path}` is not a derivation path like m/0/1"));
    }
    Ok(out)
}

/// The 32-byte digest of `msg` under `mode`; `None` if a prehash is not 32 bytes.
pub fn hash_message(mode: HashMode, msg: &[u8]) -> Option<[u8; 32]> {
    digest_of(mode, msg).ok()
}

/// The 32-byte digest an ECDSA signature over `msg` signs under `mode`, or why there is
/// none.
pub fn digest_of(mode: HashMode, msg: &[u8]) -> Result<[u8; 32], String> {
    match mode {
        HashMode::Sha256 => Ok(Sha256::digest(msg).into()),
        HashMode::Keccak256 => Ok(sha3::Keccak256::digest(msg).into()),
        HashMode::Prehash => msg
            .try_into()
            .map_err(|_| "with --hash prehash the message must be exactly 32 bytes".to_string()),
        HashMode::Eip191 => {
            let mut h = sha3::Keccak256::new();
            h.update(b"\x19Ethereum Signed Message:\n");
            h.update(msg.len().to_string().as_bytes());
            h.update(msg);
            Ok(h.finalize().into())
        }
        HashMode::Eip712 => crate::chain::eip712_digest(msg),
    }
}
