//! The wire format of a round message.
//!
//! ```text
//! "MPCE" | version (1 byte, = 1) | body length (u32 BE) | body (postcard) | Ed25519 signature (64)
//! ```
//! The body is a [`Header`] (scheme, session id, protocol, round, sender index, sender's
//! Ed25519 key, recipient index or 0 for broadcast) and a [`Payload`]. The signature is the
//! sender's, over a domain tag and everything before it. A private payload is age-encrypted
//! to the recipient's X25519 key, and the plaintext repeats the header, so a payload lifted
//! from one envelope and re-signed by another party, or into another session or round,
//! fails to open. Envelopes can also travel ASCII-armored (`-----BEGIN MPC MESSAGE-----`).
//!
//! Decoding here is structural (format, signature by the key the envelope names); whether
//! that key belongs to the claimed sender of *this* session is the caller's check against
//! the plan.

use crate::identity::Identity;
use crate::scheme::Scheme;
use base64::Engine as _;
use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const MAGIC: &[u8; 4] = b"MPCE";
const VERSION: u8 = 1;
const SIG_DOMAIN: &[u8] = b"mpc-envelope-v1\0";
const ARMOR_BEGIN: &str = "-----BEGIN MPC MESSAGE-----";
const ARMOR_END: &str = "-----END MPC MESSAGE-----";
/// The largest envelope accepted (CGGMP21 aux-info messages are ~200 KB).
pub const MAX_ENVELOPE_LEN: usize = 16 << 20;

/// Why an envelope was rejected.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnvelopeError {
    /// The bytes do not start like an envelope.
    #[error("not an mpc round message")]
    NotAnEnvelope,
    /// A format version this build does not know.
    #[error("unsupported message format version {0}")]
    UnsupportedVersion(u8),
    /// Shorter than its own length field says.
    #[error("truncated: {got} bytes where {want} were expected")]
    Truncated {
        /// Bytes present.
        got: usize,
        /// Bytes needed.
        want: usize,
    },
    /// Longer than its own length field says.
    #[error("{0} unexpected bytes after the end of the message")]
    TrailingBytes(usize),
    /// Bigger than [`MAX_ENVELOPE_LEN`].
    #[error("larger than the {MAX_ENVELOPE_LEN}-byte limit")]
    TooLarge,
    /// The body does not decode.
    #[error("malformed message body")]
    Malformed,
    /// An unknown scheme tag.
    #[error("unknown scheme tag {0}")]
    UnknownScheme(u8),
    /// The signature does not verify under the key the envelope names.
    #[error("the signature does not verify (the message was altered or corrupted)")]
    BadSignature,
    /// The sender key in the envelope is not a valid Ed25519 key.
    #[error("the sender key is not a valid Ed25519 key")]
    BadSenderKey,
    /// A private payload could not be decrypted by this party.
    #[error("the private payload cannot be decrypted with your identity")]
    CannotDecrypt,
    /// The binding inside a private payload does not match the envelope.
    #[error("the private payload was made for a different session, round, sender or recipient")]
    BindingMismatch,
    /// Encryption failed (a bug or a bad recipient).
    #[error("could not encrypt the private payload: {0}")]
    Encrypt(String),
}

/// Which protocol of a ceremony a message belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Protocol {
    /// Distributed key generation.
    Keygen,
    /// Signing.
    Sign,
    /// CGGMP21 auxiliary info (Paillier keys), before an ECDSA keygen.
    Aux,
    /// FROST share refresh.
    Refresh,
    /// FROST share repair.
    Repair,
    /// Resharing (FROST).
    Reshare,
}

impl Protocol {
    /// A short name, used in file names.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Keygen => "keygen",
            Protocol::Sign => "sign",
            Protocol::Aux => "aux",
            Protocol::Refresh => "refresh",
            Protocol::Repair => "repair",
            Protocol::Reshare => "reshare",
        }
    }

    /// The protocol with this [`Protocol::name`].
    pub fn from_name(name: &str) -> Option<Protocol> {
        [
            Protocol::Keygen,
            Protocol::Sign,
            Protocol::Aux,
            Protocol::Refresh,
            Protocol::Repair,
            Protocol::Reshare,
        ]
        .into_iter()
        .find(|p| p.name() == name)
    }
}

/// Everything an envelope is bound to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// [`Scheme::tag`].
    pub scheme: u8,
    /// The session id (hash of the plan).
    pub session: [u8; 32],
    /// The protocol.
    pub protocol: Protocol,
    /// The round, from 1.
    pub round: u8,
    /// The sender's 1-based plan index.
    pub sender: u16,
    /// The sender's Ed25519 verifying key.
    pub sender_key: [u8; 32],
    /// The recipient's 1-based plan index, or 0 for a broadcast.
    pub recipient: u16,
}

impl Header {
    /// The scheme, if known.
    pub fn scheme(&self) -> Result<Scheme, EnvelopeError> {
        Scheme::from_tag(self.scheme).ok_or(EnvelopeError::UnknownScheme(self.scheme))
    }

    /// `None` for a broadcast.
    pub fn recipient(&self) -> Option<u16> {
        (self.recipient != 0).then_some(self.recipient)
    }
}

/// The payload of a round message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Payload {
    /// Readable by everyone (broadcasts, and public p2p data).
    Public(Vec<u8>),
    /// age ciphertext to the recipient.
    Sealed(Vec<u8>),
}

#[derive(Serialize, Deserialize)]
struct Body {
    header: Header,
    payload: Payload,
}

#[derive(Serialize, Deserialize)]
struct SealedInner {
    binding: Header,
    data: Vec<u8>,
}

/// A decoded, signature-checked envelope.
#[derive(Clone, Debug)]
pub struct Envelope {
    /// What the message is bound to.
    pub header: Header,
    /// The payload (possibly sealed).
    pub payload: Payload,
    raw: Vec<u8>,
}

impl Envelope {
    /// Builds and signs an envelope. With `seal_to`, `data` is encrypted to that recipient.
    pub fn create(
        identity: &Identity,
        header: Header,
        data: &[u8],
        seal_to: Option<&age::x25519::Recipient>,
    ) -> Result<Envelope, EnvelopeError> {
        let payload = match seal_to {
            None => Payload::Public(data.to_vec()),
            Some(r) => {
                let inner = postcard::to_allocvec(&SealedInner {
                    binding: header.clone(),
                    data: data.to_vec(),
                })
                .map_err(|e| EnvelopeError::Encrypt(e.to_string()))?;
                Payload::Sealed(
                    age::encrypt(r, &inner).map_err(|e| EnvelopeError::Encrypt(e.to_string()))?,
                )
            }
        };
        let body = postcard::to_allocvec(&Body {
            header: header.clone(),
            payload: payload.clone(),
        })
        .map_err(|_| EnvelopeError::Malformed)?;
        let mut raw = Vec::with_capacity(body.len() + 73);
        raw.extend_from_slice(MAGIC);
        raw.push(VERSION);
        raw.extend_from_slice(&(body.len() as u32).to_be_bytes());
        raw.extend_from_slice(&body);
        let sig = identity.sign(&signed_bytes(&raw));
        raw.extend_from_slice(&sig);
        Ok(Envelope {
            header,
            payload,
            raw,
        })
    }

    /// Decodes binary or armored bytes and checks the signature against the key named in
    /// the header. Does not check that key against any plan.
    pub fn decode(bytes: &[u8]) -> Result<Envelope, EnvelopeError> {
        let (env, signature) = Envelope::decode_for_inspection(bytes)?;
        signature.map(|()| env)
    }

    /// Decodes the structure and reports the signature check separately, so `inspect` can
    /// show what a tampered message claims to be. Never use the envelope of a failed check.
    pub fn decode_for_inspection(
        bytes: &[u8],
    ) -> Result<(Envelope, Result<(), EnvelopeError>), EnvelopeError> {
        let owned;
        let bytes = if bytes.starts_with(ARMOR_BEGIN.as_bytes()) {
            owned = dearmor(bytes)?;
            &owned[..]
        } else {
            bytes
        };
        if bytes.len() > MAX_ENVELOPE_LEN {
            return Err(EnvelopeError::TooLarge);
        }
        if bytes.len() < 4 || &bytes[..4] != MAGIC {
            return Err(EnvelopeError::NotAnEnvelope);
        }
        if bytes.len() < 9 {
            return Err(EnvelopeError::Truncated {
                got: bytes.len(),
                want: 9,
            });
        }
        if bytes[4] != VERSION {
            return Err(EnvelopeError::UnsupportedVersion(bytes[4]));
        }
        let body_len = u32::from_be_bytes(bytes[5..9].try_into().expect("4 bytes")) as usize;
        let want = 9 + body_len + 64;
        if bytes.len() < want {
            return Err(EnvelopeError::Truncated {
                got: bytes.len(),
                want,
            });
        }
        if bytes.len() > want {
            return Err(EnvelopeError::TrailingBytes(bytes.len() - want));
        }
        let unsigned = &bytes[..9 + body_len];
        let sig = Signature::from_bytes(bytes[9 + body_len..].try_into().expect("64 bytes"));
        let (body, rest): (Body, &[u8]) = postcard::take_from_bytes(&bytes[9..9 + body_len])
            .map_err(|_| EnvelopeError::Malformed)?;
        if !rest.is_empty() {
            return Err(EnvelopeError::Malformed);
        }
        body.header.scheme()?;
        let key = VerifyingKey::from_bytes(&body.header.sender_key)
            .map_err(|_| EnvelopeError::BadSenderKey)?;
        let signature = key
            .verify_strict(&signed_bytes(unsigned), &sig)
            .map_err(|_| EnvelopeError::BadSignature);
        let env = Envelope {
            header: body.header,
            payload: body.payload,
            raw: bytes.to_vec(),
        };
        Ok((env, signature))
    }

    /// The payload's data: public data as is, a sealed payload decrypted with `identity`
    /// after checking that its inner binding matches this envelope's header.
    pub fn open(&self, identity: &Identity) -> Result<Vec<u8>, EnvelopeError> {
        match &self.payload {
            Payload::Public(d) => Ok(d.clone()),
            Payload::Sealed(ct) => {
                let plain = age::decrypt(identity.age_identity(), ct)
                    .map_err(|_| EnvelopeError::CannotDecrypt)?;
                let inner: SealedInner =
                    postcard::from_bytes(&plain).map_err(|_| EnvelopeError::BindingMismatch)?;
                if inner.binding != self.header {
                    return Err(EnvelopeError::BindingMismatch);
                }
                Ok(inner.data)
            }
        }
    }

    /// The exact bytes (binary form).
    pub fn as_bytes(&self) -> &[u8] {
        &self.raw
    }

    /// SHA-256 of the exact bytes; equal digests mean a duplicate.
    pub fn digest(&self) -> [u8; 32] {
        Sha256::digest(&self.raw).into()
    }

    /// The ASCII-armored form.
    pub fn armored(&self) -> String {
        let b64 = base64::engine::general_purpose::STANDARD.encode(&self.raw);
        let mut out = String::from(ARMOR_BEGIN);
        out.push('\n');
        for chunk in b64.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
            out.push('\n');
        }
        out.push_str(ARMOR_END);
        out.push('\n');
        out
    }

    /// The canonical file name: `<session8>-<protocol>-r<round>-p<sender>-to-<recipient|all>.mpcmsg`.
    pub fn file_name(&self) -> String {
        file_name(
            &self.header.session,
            self.header.protocol,
            self.header.round,
            self.header.sender,
            self.header.recipient(),
        )
    }
}

/// The canonical file name for a message slot.
pub fn file_name(
    session: &[u8; 32],
    protocol: Protocol,
    round: u8,
    sender: u16,
    recipient: Option<u16>,
) -> String {
    let to = recipient.map_or("all".to_string(), |r| r.to_string());
    format!(
        "{}-{}-r{round}-p{sender}-to-{to}.mpcmsg",
        session_prefix(session),
        protocol.name()
    )
}

/// What a canonical file name says about its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameInfo {
    /// `keygen` or `sign`.
    pub protocol: String,
    /// Round.
    pub round: u8,
    /// Sender index.
    pub sender: u16,
    /// Recipient index, `None` for broadcast.
    pub recipient: Option<u16>,
}

/// Parses a canonical message file name (without the session prefix check).
pub fn parse_name(name: &str) -> Option<NameInfo> {
    let stem = name.strip_suffix(".mpcmsg")?;
    let mut parts = stem.split('-');
    let _session = parts.next()?;
    let protocol = parts.next()?.to_string();
    let round = parts.next()?.strip_prefix('r')?.parse().ok()?;
    let sender = parts.next()?.strip_prefix('p')?.parse().ok()?;
    if parts.next()? != "to" {
        return None;
    }
    let to = parts.next()?;
    let recipient = if to == "all" {
        None
    } else {
        Some(to.parse().ok()?)
    };
    if parts.next().is_some() {
        return None;
    }
    Some(NameInfo {
        protocol,
        round,
        sender,
        recipient,
    })
}

/// The first 8 bytes of a session id in hex: the prefix of its message files.
pub fn session_prefix(session: &[u8; 32]) -> String {
    hex::encode(&session[..8])
}

/// Does this look like an envelope (binary or armored)? Used by `inspect`.
pub fn looks_like_envelope(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC) || bytes.starts_with(ARMOR_BEGIN.as_bytes())
}

fn signed_bytes(unsigned: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(SIG_DOMAIN.len() + unsigned.len());
    v.extend_from_slice(SIG_DOMAIN);
    v.extend_from_slice(unsigned);
    v
}

fn dearmor(bytes: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
    let text = std::str::from_utf8(bytes).map_err(|_| EnvelopeError::Malformed)?;
    let inner = text
        .trim()
        .strip_prefix(ARMOR_BEGIN)
        .and_then(|t| t.strip_suffix(ARMOR_END))
        .ok_or(EnvelopeError::Truncated {
            got: bytes.len(),
            want: bytes.len() + ARMOR_END.len(),
        })?;
    let b64: String = inner.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| EnvelopeError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_canonical_names_only() {
        assert_eq!(
            parse_name("0011223344556677-keygen-r2-p3-to-1.mpcmsg"),
            Some(NameInfo {
                protocol: "keygen".into(),
                round: 2,
                sender: 3,
                recipient: Some(1)
            })
        );
        assert_eq!(
            parse_name("0011223344556677-sign-r1-p2-to-all.mpcmsg")
                .unwrap()
                .recipient,
            None
        );
        assert_eq!(
            parse_name("0011223344556677-sign-r1-p2-to-all (1).mpcmsg"),
            None
        );
        assert_eq!(parse_name("x-sign-r1-p2.mpcmsg"), None);
    }

    fn header(id: &Identity, recipient: u16) -> Header {
        Header {
            scheme: Scheme::EddsaEd25519.tag(),
            session: [7; 32],
            protocol: Protocol::Keygen,
            round: 2,
            sender: 1,
            sender_key: id.card().verifying_key().unwrap().to_bytes(),
            recipient,
        }
    }

    #[test]
    fn round_trip_public_and_armored() {
        let a = Identity::generate("a");
        let env = Envelope::create(&a, header(&a, 0), b"hello", None).unwrap();
        let back = Envelope::decode(env.as_bytes()).unwrap();
        assert_eq!(back.header, env.header);
        assert_eq!(back.open(&a).unwrap(), b"hello");
        let arm = Envelope::decode(env.armored().as_bytes()).unwrap();
        assert_eq!(arm.digest(), env.digest());
    }

    #[test]
    fn every_flipped_byte_is_rejected() {
        let a = Identity::generate("a");
        let env = Envelope::create(&a, header(&a, 0), b"payload", None).unwrap();
        let raw = env.as_bytes().to_vec();
        for i in 0..raw.len() {
            let mut bad = raw.clone();
            bad[i] ^= 0x01;
            assert!(Envelope::decode(&bad).is_err(), "flip at {i} accepted");
        }
        for len in 0..raw.len() {
            assert!(
                Envelope::decode(&raw[..len]).is_err(),
                "truncation to {len} accepted"
            );
        }
    }

    #[test]
    fn sealed_payload_binds_header() {
        let a = Identity::generate("a");
        let b = Identity::generate("b");
        let c = Identity::generate("c");
        let env = Envelope::create(&a, header(&a, 2), b"secret", Some(&b.recipient())).unwrap();
        assert_eq!(env.open(&b).unwrap(), b"secret");
        assert_eq!(env.open(&c), Err(EnvelopeError::CannotDecrypt));
        // c lifts a's ciphertext into its own envelope, signed by c: b must refuse it.
        let Payload::Sealed(ct) = env.payload.clone() else {
            panic!("sealed")
        };
        let mut h = header(&c, 2);
        h.sender = 3;
        let body = postcard::to_allocvec(&Body {
            header: h.clone(),
            payload: Payload::Sealed(ct),
        })
        .unwrap();
        let mut raw = Vec::new();
        raw.extend_from_slice(MAGIC);
        raw.push(VERSION);
        raw.extend_from_slice(&(body.len() as u32).to_be_bytes());
        raw.extend_from_slice(&body);
        let sig = c.sign(&signed_bytes(&raw));
        raw.extend_from_slice(&sig);
        let lifted = Envelope::decode(&raw).unwrap();
        assert_eq!(lifted.open(&b), Err(EnvelopeError::BindingMismatch));
    }
}
