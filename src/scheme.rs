//! The signature schemes `mpc` runs, and the public-key and signature forms of each.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A threshold signature scheme (see DESIGN.md "Schemes").
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
    utoipa::ToSchema,
)]
pub enum Scheme {
    /// FROST(Ed25519, SHA-512): RFC 8032 Ed25519 signatures.
    #[serde(rename = "eddsa-ed25519")]
    #[value(name = "eddsa-ed25519")]
    EddsaEd25519,
    /// FROST with BIP340/Taproot: BIP340 Schnorr signatures under the BIP341-tweaked key.
    #[serde(rename = "schnorr-secp256k1-tr")]
    #[value(name = "schnorr-secp256k1-tr")]
    SchnorrSecp256k1Tr,
    /// FROST(secp256k1, SHA-256) as in RFC 9591.
    #[serde(rename = "schnorr-secp256k1")]
    #[value(name = "schnorr-secp256k1")]
    SchnorrSecp256k1,
    /// CGGMP21 threshold ECDSA on secp256k1: low-s ECDSA with a recovery id.
    #[serde(rename = "ecdsa-secp256k1")]
    #[value(name = "ecdsa-secp256k1")]
    EcdsaSecp256k1,
}

impl Scheme {
    /// Every scheme, in a stable order.
    pub const ALL: [Scheme; 4] = [
        Scheme::EddsaEd25519,
        Scheme::SchnorrSecp256k1Tr,
        Scheme::SchnorrSecp256k1,
        Scheme::EcdsaSecp256k1,
    ];

    /// The FROST schemes.
    pub const FROST: [Scheme; 3] = [
        Scheme::EddsaEd25519,
        Scheme::SchnorrSecp256k1Tr,
        Scheme::SchnorrSecp256k1,
    ];

    /// Is this a FROST scheme (as opposed to CGGMP21 ECDSA)?
    pub fn is_frost(self) -> bool {
        self != Scheme::EcdsaSecp256k1
    }

    /// The scheme id used in plans, envelopes, the database and on the command line.
    pub fn id(self) -> &'static str {
        match self {
            Scheme::EddsaEd25519 => "eddsa-ed25519",
            Scheme::SchnorrSecp256k1Tr => "schnorr-secp256k1-tr",
            Scheme::SchnorrSecp256k1 => "schnorr-secp256k1",
            Scheme::EcdsaSecp256k1 => "ecdsa-secp256k1",
        }
    }

    /// A one-byte tag used in the binary envelope format. Stable: never renumber.
    pub fn tag(self) -> u8 {
        match self {
            Scheme::EddsaEd25519 => 1,
            Scheme::SchnorrSecp256k1Tr => 2,
            Scheme::SchnorrSecp256k1 => 3,
            Scheme::EcdsaSecp256k1 => 4,
        }
    }

    /// The scheme for an envelope tag.
    pub fn from_tag(tag: u8) -> Option<Scheme> {
        Scheme::ALL.into_iter().find(|s| s.tag() == tag)
    }

    /// The length of a signature in bytes.
    pub fn signature_len(self) -> usize {
        match self {
            Scheme::EddsaEd25519 | Scheme::SchnorrSecp256k1Tr | Scheme::EcdsaSecp256k1 => 64,
            Scheme::SchnorrSecp256k1 => 65,
        }
    }

    /// What the signature is, for humans.
    pub fn signature_kind(self) -> &'static str {
        match self {
            Scheme::EddsaEd25519 => "Ed25519 (RFC 8032), 64 bytes",
            Scheme::SchnorrSecp256k1Tr => "BIP340 Schnorr, 64 bytes",
            Scheme::SchnorrSecp256k1 => "FROST(secp256k1, SHA-256) R||z, 65 bytes",
            Scheme::EcdsaSecp256k1 => "ECDSA secp256k1, low-s",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for Scheme {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scheme::ALL
            .into_iter()
            .find(|x| x.id() == s)
            .ok_or_else(|| format!("unknown scheme `{s}`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_tags_round_trip() {
        for s in Scheme::ALL {
            assert_eq!(s.id().parse::<Scheme>().unwrap(), s);
            assert_eq!(Scheme::from_tag(s.tag()), Some(s));
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.id()));
        }
        assert!(Scheme::from_tag(0).is_none());
    }
}
