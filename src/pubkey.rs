//! Public keys and signatures in their standard forms, and verification that does not
//! use the FROST code that made the signature: Ed25519 with `ed25519-dalek` (RFC 8032),
//! BIP340 with `k256`'s Schnorr verifier. FROST(secp256k1, SHA-256) has no other
//! standard verifier, so it is checked with `frost-secp256k1`.

use crate::scheme::Scheme;
use sha2::{Digest, Sha256};

/// Bad input to verification (not a negative answer).
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Wrong length.
    #[error("{what} must be {want} bytes for {scheme}, got {got}")]
    Length {
        /// What.
        what: &'static str,
        /// Scheme.
        scheme: Scheme,
        /// Expected lengths.
        want: &'static str,
        /// Got.
        got: usize,
    },
    /// Not a valid curve point.
    #[error("the public key is not a valid {0} point")]
    BadPoint(Scheme),
    /// Malformed signature encoding.
    #[error("the signature is not a valid {0} signature encoding")]
    BadSignature(Scheme),
}

/// The key id: 16 hex digits of SHA-256 over the scheme and the group key.
pub fn key_id(scheme: Scheme, group_key: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(b"mpc-key-id-v1\0");
    h.update(scheme.id().as_bytes());
    h.update([0]);
    h.update(group_key);
    hex::encode(&h.finalize()[..8])
}

/// The form a verifier takes: Ed25519 32 bytes, BIP340 x-only 32 bytes, secp256k1 SEC1
/// compressed 33 bytes. `stored` is frost's serialization.
pub fn standard_form(scheme: Scheme, stored: &[u8]) -> Vec<u8> {
    match scheme {
        Scheme::SchnorrSecp256k1Tr if stored.len() == 33 => stored[1..].to_vec(),
        _ => stored.to_vec(),
    }
}

/// PEM (SubjectPublicKeyInfo) for the key.
pub fn pem(scheme: Scheme, stored: &[u8]) -> Result<String, KeyError> {
    use ed25519_dalek::pkcs8::EncodePublicKey as _;
    let line = ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF;
    match scheme {
        Scheme::EddsaEd25519 => {
            let vk = ed25519_vk(stored)?;
            vk.to_public_key_pem(line)
                .map_err(|_| KeyError::BadPoint(scheme))
        }
        Scheme::SchnorrSecp256k1Tr | Scheme::SchnorrSecp256k1 | Scheme::EcdsaSecp256k1 => {
            // For BIP340 the key is the even-y point with the same x.
            let mut sec1 = stored.to_vec();
            if scheme == Scheme::SchnorrSecp256k1Tr && sec1.len() == 33 {
                sec1[0] = 0x02;
            }
            let pk =
                k256::PublicKey::from_sec1_bytes(&sec1).map_err(|_| KeyError::BadPoint(scheme))?;
            pk.to_public_key_pem(line)
                .map_err(|_| KeyError::BadPoint(scheme))
        }
    }
}

fn ed25519_vk(bytes: &[u8]) -> Result<ed25519_dalek::VerifyingKey, KeyError> {
    let arr: [u8; 32] = bytes.try_into().map_err(|_| KeyError::Length {
        what: "public key",
        scheme: Scheme::EddsaEd25519,
        want: "32",
        got: bytes.len(),
    })?;
    ed25519_dalek::VerifyingKey::from_bytes(&arr)
        .map_err(|_| KeyError::BadPoint(Scheme::EddsaEd25519))
}

/// Verifies `signature` on `message` under `public_key` (standard or stored form).
/// `Ok(false)` means the signature is well formed but invalid.
pub fn verify(
    scheme: Scheme,
    public_key: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<bool, KeyError> {
    if scheme == Scheme::EcdsaSecp256k1 {
        return verify_ecdsa_prehash(public_key, &Sha256::digest(message).into(), signature);
    }
    if signature.len() != scheme.signature_len() {
        return Err(KeyError::Length {
            what: "signature",
            scheme,
            want: if scheme == Scheme::SchnorrSecp256k1 {
                "65"
            } else {
                "64"
            },
            got: signature.len(),
        });
    }
    match scheme {
        Scheme::EddsaEd25519 => {
            let vk = ed25519_vk(public_key)?;
            let sig = ed25519_dalek::Signature::from_slice(signature)
                .map_err(|_| KeyError::BadSignature(scheme))?;
            Ok(vk.verify_strict(message, &sig).is_ok())
        }
        Scheme::SchnorrSecp256k1Tr => {
            let x = match public_key.len() {
                32 => public_key,
                33 => &public_key[1..],
                got => {
                    return Err(KeyError::Length {
                        what: "public key",
                        scheme,
                        want: "32 (x-only) or 33",
                        got,
                    });
                }
            };
            let vk = k256::schnorr::VerifyingKey::from_bytes(x)
                .map_err(|_| KeyError::BadPoint(scheme))?;
            let Ok(sig) = k256::schnorr::Signature::try_from(signature) else {
                return Ok(false);
            };
            Ok(vk.verify_raw(message, &sig).is_ok())
        }
        Scheme::SchnorrSecp256k1 => {
            if public_key.len() != 33 {
                return Err(KeyError::Length {
                    what: "public key",
                    scheme,
                    want: "33",
                    got: public_key.len(),
                });
            }
            let vk = frost_secp256k1::VerifyingKey::deserialize(public_key)
                .map_err(|_| KeyError::BadPoint(scheme))?;
            let Ok(sig) = frost_secp256k1::Signature::deserialize(signature) else {
                return Ok(false);
            };
            Ok(vk.verify(message, &sig).is_ok())
        }
        Scheme::EcdsaSecp256k1 => unreachable!("handled above"),
    }
}

fn ecdsa_vk(public_key: &[u8]) -> Result<k256::ecdsa::VerifyingKey, KeyError> {
    if public_key.len() != 33 && public_key.len() != 65 {
        return Err(KeyError::Length {
            what: "public key",
            scheme: Scheme::EcdsaSecp256k1,
            want: "33 (compressed) or 65 (uncompressed)",
            got: public_key.len(),
        });
    }
    k256::ecdsa::VerifyingKey::from_sec1_bytes(public_key)
        .map_err(|_| KeyError::BadPoint(Scheme::EcdsaSecp256k1))
}

/// Verifies an ECDSA signature over a 32-byte digest with `k256`. The signature may be
/// compact `r||s` (64 bytes), `r||s||v` (65 bytes; `v` must be the right recovery id,
/// 0/1 or 27/28) or DER. High-s signatures verify here as in plain ECDSA; `mpc` itself
/// only produces low-s.
pub fn verify_ecdsa_prehash(
    public_key: &[u8],
    digest: &[u8; 32],
    signature: &[u8],
) -> Result<bool, KeyError> {
    use k256::ecdsa::signature::hazmat::PrehashVerifier;
    let vk = ecdsa_vk(public_key)?;
    let bad = || KeyError::BadSignature(Scheme::EcdsaSecp256k1);
    let (sig, v) = match signature.len() {
        64 => (
            k256::ecdsa::Signature::from_slice(signature).map_err(|_| bad())?,
            None,
        ),
        65 => (
            k256::ecdsa::Signature::from_slice(&signature[..64]).map_err(|_| bad())?,
            Some(signature[64]),
        ),
        _ => (
            k256::ecdsa::Signature::from_der(signature).map_err(|_| bad())?,
            None,
        ),
    };
    if vk.verify_prehash(digest, &sig).is_err() {
        return Ok(false);
    }
    match v {
        None => Ok(true),
        Some(v) => {
            let v = if v >= 27 { v - 27 } else { v };
            Ok(recovery_id(public_key, digest, &sig.to_bytes().into())? == Some(v))
        }
    }
}

/// The recovery id (0 or 1) under which `r||s` over `digest` recovers `public_key`.
pub fn recovery_id(
    public_key: &[u8],
    digest: &[u8; 32],
    signature: &[u8; 64],
) -> Result<Option<u8>, KeyError> {
    let vk = ecdsa_vk(public_key)?;
    let sig = k256::ecdsa::Signature::from_slice(signature)
        .map_err(|_| KeyError::BadSignature(Scheme::EcdsaSecp256k1))?;
    Ok(
        k256::ecdsa::RecoveryId::trial_recovery_from_prehash(&vk, digest, &sig)
            .ok()
            .map(|id| id.to_byte()),
    )
}

/// An ECDSA signature in every form `mpc` offers besides compact `r||s`.
#[derive(Clone, Debug)]
pub struct EcdsaForms {
    /// DER.
    pub der: Vec<u8>,
    /// `r||s||v`, v the recovery id (0 or 1).
    pub recoverable: Vec<u8>,
    /// `r||s||v` with v = 27 + recovery id (Ethereum).
    pub eth: Vec<u8>,
}

/// The forms of the compact signature `rs` with recovery id `v`.
pub fn ecdsa_forms(rs: &[u8; 64], v: u8) -> Result<EcdsaForms, KeyError> {
    Ok(EcdsaForms {
        der: ecdsa_der(rs)?,
        recoverable: [&rs[..], &[v]].concat(),
        eth: [&rs[..], &[v + 27]].concat(),
    })
}

/// DER encoding of a compact ECDSA signature.
pub fn ecdsa_der(signature: &[u8; 64]) -> Result<Vec<u8>, KeyError> {
    let sig = k256::ecdsa::Signature::from_slice(signature)
        .map_err(|_| KeyError::BadSignature(Scheme::EcdsaSecp256k1))?;
    Ok(sig.to_der().as_bytes().to_vec())
}
