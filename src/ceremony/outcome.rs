//! What a finished ceremony produced: the public result each command prints and a
//! session record keeps.

use super::error::{Error, Result};
use crate::identity::words;
use serde::{Deserialize, Serialize};

/// What a finished ceremony produced (public).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// A new key.
    Keygen {
        /// Key id.
        key_id: String,
        /// Scheme.
        scheme: String,
        /// Public key in the scheme's standard form, hex.
        public_key: String,
        /// Transcript hash, hex.
        transcript: String,
    },
    /// A signature.
    Sign {
        /// Key id.
        key_id: String,
        /// Scheme.
        scheme: String,
        /// Signature, hex (ECDSA: compact r||s).
        signature: String,
        /// ECDSA only: the recovery id (0 or 1).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        recovery_id: Option<u8>,
        /// ECDSA with a derivation path: the child public key that verifies it, hex.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        derived_public_key: Option<String>,
        /// Transcript hash, hex.
        transcript: String,
    },
    /// An ECDSA presignature, stored sealed, usable once by the same signers.
    Presign {
        /// Key id.
        key_id: String,
        /// The signers, 1-based plan indices.
        signers: Vec<u16>,
        /// Transcript hash, hex.
        transcript: String,
    },
    /// New shares of the same key; the old ones are destroyed.
    Refresh {
        /// Key id.
        key_id: String,
        /// Scheme.
        scheme: String,
        /// Public key in the scheme's standard form, hex (unchanged).
        public_key: String,
        /// Transcript hash, hex.
        transcript: String,
    },
    /// A lost share repaired.
    Repair {
        /// Key id.
        key_id: String,
        /// Scheme.
        scheme: String,
        /// Public key in the scheme's standard form, hex.
        public_key: String,
        /// The party whose share was repaired, 1-based.
        repaired: u16,
        /// Transcript hash, hex.
        transcript: String,
    },
    /// A key moved to a new party set and threshold; the public key is unchanged.
    Reshare {
        /// Key id.
        key_id: String,
        /// Scheme.
        scheme: String,
        /// Public key in the scheme's standard form, hex (unchanged).
        public_key: String,
        /// The new threshold.
        threshold: u16,
        /// The new parties' names, in the key's new order.
        parties: Vec<String>,
        /// This party's index in the new key; none for a party that left (its old
        /// share is destroyed).
        new_index: Option<u16>,
        /// Transcript hash, hex.
        transcript: String,
    },
}

impl Outcome {
    /// What kind of result it is (`keygen`, `sign`, `presign`, `refresh`, `repair`,
    /// `reshare`), as
    /// its JSON `kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Outcome::Keygen { .. } => "keygen",
            Outcome::Sign { .. } => "sign",
            Outcome::Presign { .. } => "presign",
            Outcome::Refresh { .. } => "refresh",
            Outcome::Repair { .. } => "repair",
            Outcome::Reshare { .. } => "reshare",
        }
    }

    /// The transcript fingerprint in words. An unreadable transcript hash is an error,
    /// never a default fingerprint.
    pub fn transcript_words(&self) -> Result<String> {
        let t = match self {
            Outcome::Keygen { transcript, .. }
            | Outcome::Sign { transcript, .. }
            | Outcome::Presign { transcript, .. }
            | Outcome::Refresh { transcript, .. }
            | Outcome::Repair { transcript, .. }
            | Outcome::Reshare { transcript, .. } => transcript,
        };
        let bytes = crate::identity::parse_digest(t)
            .ok_or_else(|| Error::bug("the session's transcript hash is not 32 bytes of hex"))?;
        Ok(words(&bytes))
    }
}
