//! Protocol runners. No I/O: each step takes the parameters fixed by the plan, the party's
//! current state and the payloads received so far, and returns the next state plus the
//! payloads to send, or says what it is still waiting for, or returns the result.
//!
//! Files, QR codes, a relay or HTTP are adapters over this (see `ceremony`).
//!
//! Secret state (FROST DKG secret packages and signing nonces) lives in the state enums,
//! which zeroize on drop and have no `Debug` that shows them. A signing state that has
//! produced a signature share no longer contains the nonces: the caller persists that
//! state atomically *before* the share leaves the machine, which is what makes a nonce
//! single-use across crashes and retries.

pub mod cggmp;
pub mod frost;
pub mod redistribute;

use crate::scheme::Scheme;
use crate::secret::SecretBytes;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// What went wrong inside a protocol.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// One or more parties sent something provably wrong; the session must abort.
    #[error("{reason}")]
    PeerMisbehaved {
        /// The parties to blame, by 1-based plan index.
        culprits: Vec<u16>,
        /// What they did.
        reason: String,
    },
    /// Some parties' echo of a broadcast round differs from this party's view: someone
    /// sent different broadcasts to different parties. The echo alone cannot say who
    /// (the equivocator, or a party lying about what it saw); the caller settles it
    /// with the signed envelopes each party accepted.
    #[error("parties {echoers:?} saw different round-{round} broadcasts than you did")]
    EchoMismatch {
        /// The round whose broadcasts differ.
        round: u8,
        /// The parties whose echo differs from ours, by 1-based plan index.
        echoers: Vec<u16>,
    },
    /// Parameters or stored state that cannot be right; a bug or a damaged journal.
    #[error("internal protocol error: {0}")]
    Bug(String),
}

/// Payloads received so far, opened, keyed by (round, sender).
#[derive(Default)]
pub struct Inbox {
    entries: BTreeMap<(u8, u16), Vec<u8>>,
}

impl Inbox {
    /// Records a payload.
    pub fn insert(&mut self, round: u8, sender: u16, data: Vec<u8>) {
        self.entries.insert((round, sender), data);
    }

    /// The payload of `sender` in `round`.
    pub fn get(&self, round: u8, sender: u16) -> Option<&[u8]> {
        self.entries.get(&(round, sender)).map(|v| v.as_slice())
    }

    /// Of `senders`, those who have not sent `round` yet.
    pub fn missing(&self, round: u8, senders: impl IntoIterator<Item = u16>) -> Vec<u16> {
        senders
            .into_iter()
            .filter(|s| !self.entries.contains_key(&(round, *s)))
            .collect()
    }
}

/// A payload to send.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The round it belongs to.
    pub round: u8,
    /// `None` for a broadcast.
    pub recipient: Option<u16>,
    /// The payload; private payloads are encrypted by the envelope layer.
    pub data: Vec<u8>,
}

/// The result of one step.
pub enum Step<S, R> {
    /// Moved to a new state; send these.
    Advanced {
        /// The new state, to persist before anything is sent.
        state: S,
        /// What to send.
        outgoing: Vec<Outgoing>,
    },
    /// Cannot move until these parties' messages of this round arrive.
    Waiting {
        /// The round waited on.
        round: u8,
        /// Who has not sent it.
        missing: Vec<u16>,
    },
    /// Finished.
    Done(R),
}

/// What a keygen fixes.
#[derive(Clone, Debug)]
pub struct KeygenParams {
    /// The scheme.
    pub scheme: Scheme,
    /// The session id.
    pub session: [u8; 32],
    /// This party's index.
    pub me: u16,
    /// Threshold.
    pub t: u16,
    /// Number of parties.
    pub n: u16,
}

/// A party's state in a DKG.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub enum KeygenState {
    /// Nothing done yet.
    Start,
    /// Round 1 sent.
    Round1 {
        /// frost round-1 secret package.
        secret: Vec<u8>,
        /// Our own round-1 package, for the echo hash.
        own: Vec<u8>,
    },
    /// Round 2 sent.
    Round2 {
        /// frost round-2 secret package.
        secret: Vec<u8>,
        /// Hash of every party's round-1 package.
        echo: [u8; 32],
    },
}

/// The outcome of a DKG for one party.
pub struct KeygenResult {
    /// The party's serialized `KeyPackage` (secret).
    pub key_package: SecretBytes,
    /// The serialized `PublicKeyPackage`.
    pub public_key_package: Vec<u8>,
    /// The group verifying key, frost serialization.
    pub group_key: Vec<u8>,
    /// Hash all parties share: round-1 transcript and the group key.
    pub transcript: [u8; 32],
}

/// What a signing session fixes.
#[derive(Clone, Debug)]
pub struct SignParams {
    /// The scheme.
    pub scheme: Scheme,
    /// The session id.
    pub session: [u8; 32],
    /// This party's index.
    pub me: u16,
    /// The signers, ascending.
    pub signers: Vec<u16>,
    /// The message.
    pub message: Vec<u8>,
}

/// A signer's state.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub enum SignState {
    /// Nothing done yet.
    Start,
    /// Commitments sent; holds the single-use nonces.
    Committed {
        /// frost `SigningNonces` (secret, single use).
        nonces: Vec<u8>,
        /// Our own commitments.
        own: Vec<u8>,
    },
    /// Signature share sent; the nonces are gone.
    Shared {
        /// Hash of all signers' commitments.
        echo: [u8; 32],
        /// Our signature share.
        own_share: Vec<u8>,
        /// Our own commitments, to rebuild the signing package.
        own: Vec<u8>,
    },
}

/// The outcome of a signing session.
pub struct SignResult {
    /// The signature in the scheme's standard encoding.
    pub signature: Vec<u8>,
    /// Hash of the commitments and the signature, the same for every signer.
    pub transcript: [u8; 32],
}

/// A party's state in a share refresh.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub enum RefreshState {
    /// Nothing done yet.
    Start,
    /// Round 1 sent.
    Round1 {
        /// frost round-1 secret package.
        secret: Vec<u8>,
        /// Our own round-1 package, for the echo hash.
        own: Vec<u8>,
    },
    /// Round 2 sent.
    Round2 {
        /// frost round-2 secret package.
        secret: Vec<u8>,
        /// Hash of every party's round-1 package.
        echo: [u8; 32],
    },
    /// The new share exists (only here, in the encrypted journal) and our confirmation
    /// is sent; the old share is still the one in use.
    Staged {
        /// The new `KeyPackage` (secret).
        key_package: Vec<u8>,
        /// The new `PublicKeyPackage`.
        public_key_package: Vec<u8>,
        /// Our confirmation: a hash of the round-1 echo and the new public key package.
        confirm: [u8; 32],
    },
}

/// The outcome of a refresh for one party: its new share.
pub struct RefreshResult {
    /// The new `KeyPackage` (secret).
    pub key_package: SecretBytes,
    /// The new `PublicKeyPackage` (same group key, new verifying shares).
    pub public_key_package: Vec<u8>,
    /// Hash all parties share.
    pub transcript: [u8; 32],
}

/// What a share repair fixes.
#[derive(Clone, Debug)]
pub struct RepairParams {
    /// The scheme.
    pub scheme: Scheme,
    /// The session id.
    pub session: [u8; 32],
    /// This party's index.
    pub me: u16,
    /// The helpers, ascending.
    pub helpers: Vec<u16>,
    /// The party whose share is repaired.
    pub lost: u16,
    /// The group key, as stored in key metadata; the repaired party checks it.
    pub group_key: Vec<u8>,
    /// Helpers: public key metadata handed to the repaired party (all helpers must
    /// send the same).
    pub info: Vec<u8>,
}

/// A party's state in a share repair.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub enum RepairState {
    /// Nothing done yet.
    Start,
    /// A helper sent its deltas to the other helpers.
    Dealt {
        /// The delta this helper keeps for itself (secret).
        own_delta: Vec<u8>,
    },
    /// A helper sent its sigma to the repaired party.
    Sent,
    /// The repaired party has its new share and has confirmed it.
    Repaired {
        /// The new `KeyPackage` (secret).
        key_package: Vec<u8>,
        /// The key's `PublicKeyPackage`, as the helpers sent it.
        public_key_package: Vec<u8>,
        /// The helpers' key metadata.
        info: Vec<u8>,
        /// The verifying share, confirmed to the helpers.
        verifying_share: Vec<u8>,
    },
}

/// The outcome of a repair.
pub enum RepairResult {
    /// A helper: the repaired party confirmed a share that matches the key.
    Helped {
        /// Hash the helpers and the repaired party share.
        transcript: [u8; 32],
    },
    /// The repaired party: its new share.
    Repaired {
        /// The new `KeyPackage` (secret).
        key_package: SecretBytes,
        /// The key's `PublicKeyPackage`.
        public_key_package: Vec<u8>,
        /// The helpers' key metadata.
        info: Vec<u8>,
        /// Hash the helpers and the repaired party share.
        transcript: [u8; 32],
    },
}

macro_rules! redacted_debug {
    ($t:ty) => {
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}
redacted_debug!(KeygenState);
redacted_debug!(SignState);
redacted_debug!(RefreshState);
redacted_debug!(RepairState);

impl RefreshState {
    /// The state's name, for logs and status.
    pub fn name(&self) -> &'static str {
        match self {
            RefreshState::Start => "start",
            RefreshState::Round1 { .. } => "round 1 sent",
            RefreshState::Round2 { .. } => "round 2 sent",
            RefreshState::Staged { .. } => "new share staged, confirmation sent",
        }
    }
}

impl RepairState {
    /// The state's name, for logs and status.
    pub fn name(&self) -> &'static str {
        match self {
            RepairState::Start => "start",
            RepairState::Dealt { .. } => "deltas sent",
            RepairState::Sent => "sigma sent",
            RepairState::Repaired { .. } => "share repaired, confirmation sent",
        }
    }
}

impl KeygenState {
    /// The state's name, for logs and status.
    pub fn name(&self) -> &'static str {
        match self {
            KeygenState::Start => "start",
            KeygenState::Round1 { .. } => "round 1 sent",
            KeygenState::Round2 { .. } => "round 2 sent",
        }
    }
}

impl SignState {
    /// The state's name, for logs and status.
    pub fn name(&self) -> &'static str {
        match self {
            SignState::Start => "start",
            SignState::Committed { .. } => "commitments sent",
            SignState::Shared { .. } => "signature share sent",
        }
    }
}

/// Calls the generic FROST function `$f` with the ciphersuite of `$scheme`; ECDSA gets
/// `$what` as an internal error.
macro_rules! frost_dispatch {
    ($scheme:expr, $f:path, ($($arg:expr),*), $what:expr) => {{
        use $f as f;
        use $crate::scheme::Scheme;
        match $scheme {
            Scheme::EddsaEd25519 => f::<frost_ed25519::Ed25519Sha512>($($arg),*),
            Scheme::SchnorrSecp256k1Tr => f::<frost_secp256k1_tr::Secp256K1Sha256TR>($($arg),*),
            Scheme::SchnorrSecp256k1 => f::<frost_secp256k1::Secp256K1Sha256>($($arg),*),
            Scheme::EcdsaSecp256k1 => Err($crate::engine::EngineError::Bug($what.into())),
        }
    }};
}
#[cfg(feature = "test-vectors")]
pub(crate) use frost_dispatch;

/// `key` made ready for FROST signing with preprocessed nonces (FROST schemes; see
/// [`frost::preprocessed`]).
pub fn prepare(
    scheme: Scheme,
    key: &KeyMaterial,
) -> Result<Box<dyn frost::preprocessed::Prepared>, EngineError> {
    frost_dispatch!(
        scheme,
        self::frost::preprocessed::prepare,
        (key),
        "ECDSA has no FROST preprocessing"
    )
}

/// Advances a DKG by one step.
pub fn keygen_step(
    p: &KeygenParams,
    state: &KeygenState,
    inbox: &Inbox,
) -> Result<Step<KeygenState, KeygenResult>, EngineError> {
    frost_dispatch!(
        p.scheme,
        self::frost::keygen_step,
        (p, state, inbox),
        "ECDSA does not run the FROST DKG"
    )
}

/// Advances a signing session by one step.
pub fn sign_step(
    p: &SignParams,
    key: &KeyMaterial,
    state: &SignState,
    inbox: &Inbox,
) -> Result<Step<SignState, SignResult>, EngineError> {
    frost_dispatch!(
        p.scheme,
        self::frost::sign_step,
        (p, key, state, inbox),
        "ECDSA does not run FROST signing"
    )
}

/// Advances a share refresh by one step (FROST schemes; ECDSA refreshes in
/// `ceremony::ecdsa`).
pub fn refresh_step(
    p: &KeygenParams,
    key: &KeyMaterial,
    state: &RefreshState,
    inbox: &Inbox,
) -> Result<Step<RefreshState, RefreshResult>, EngineError> {
    frost_dispatch!(
        p.scheme,
        self::frost::refresh_step,
        (p, key, state, inbox),
        "ECDSA does not run the FROST refresh"
    )
}

/// Advances a share repair by one step (FROST schemes). `key` is the helper's share;
/// the repaired party has none.
pub fn repair_step(
    p: &RepairParams,
    key: Option<&KeyMaterial>,
    state: &RepairState,
    inbox: &Inbox,
) -> Result<Step<RepairState, RepairResult>, EngineError> {
    frost_dispatch!(
        p.scheme,
        self::frost::repair_step,
        (p, key, state, inbox),
        "ECDSA shares are not repaired"
    )
}

/// Advances a reshare by one step. `key` is a dealer's old share; a party that only
/// receives has none. For ECDSA the key material is a cggmp21 core key share and its
/// key info (see `cggmp::reshare`).
pub fn reshare_step(
    scheme: Scheme,
    p: &frost::reshare::ReshareParams,
    key: Option<&KeyMaterial>,
    state: &frost::reshare::ReshareState,
    inbox: &Inbox,
) -> Result<Step<frost::reshare::ReshareState, frost::reshare::ReshareResult>, EngineError> {
    if scheme == Scheme::EcdsaSecp256k1 {
        return cggmp::reshare::reshare_step(p, key, state, inbox);
    }
    frost_dispatch!(
        scheme,
        self::frost::reshare::reshare_step,
        (p, key, state, inbox),
        "unreachable"
    )
}

/// Checks a public key package a reshare plan carries: it decodes, names `group_key`
/// (the scheme's stored form) and a public share for each of the key's `n` parties.
pub fn check_public_key_package(
    scheme: Scheme,
    package: &[u8],
    group_key: &[u8],
    n: u16,
) -> Result<(), String> {
    match scheme {
        Scheme::EcdsaSecp256k1 => cggmp::reshare::check_public_key_package(package, group_key, n),
        _ => frost_dispatch!(
            scheme,
            self::frost::reshare::check_public_key_package,
            (package, group_key, n),
            "unreachable"
        ),
    }
    .map_err(|e| match e {
        EngineError::Bug(m) => m,
        e => e.to_string(),
    })
}

/// A party's key share, serialized (as stored in its share file).
pub struct KeyMaterial {
    /// `KeyPackage` bytes (secret).
    pub key_package: SecretBytes,
    /// `PublicKeyPackage` bytes.
    pub public_key_package: Vec<u8>,
}

/// Hashes a domain tag, the session and a list of parts, each length-prefixed.
pub(crate) fn tagged_hash<'a>(
    tag: &str,
    session: &[u8; 32],
    parts: impl IntoIterator<Item = &'a [u8]>,
) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(tag.as_bytes());
    h.update([0]);
    h.update(session);
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p);
    }
    h.finalize().into()
}

/// Checks a stored share of party `index` and returns the group key it belongs to (as
/// stored in key metadata). An error says what does not hold.
pub fn share_group_key(scheme: Scheme, key: &KeyMaterial, index: u16) -> Result<Vec<u8>, String> {
    use self::frost::share_group_key as g;
    match scheme {
        Scheme::EddsaEd25519 => g::<frost_ed25519::Ed25519Sha512>(key, index),
        Scheme::SchnorrSecp256k1Tr => g::<frost_secp256k1_tr::Secp256K1Sha256TR>(key, index),
        Scheme::SchnorrSecp256k1 => g::<frost_secp256k1::Secp256K1Sha256>(key, index),
        Scheme::EcdsaSecp256k1 => {
            // cggmp21 validates a key share as it deserializes it.
            let share: cggmp::EcdsaKeyShare = serde_json::from_slice(key.key_package.expose())
                .map_err(|e| format!("the key share does not decode or is invalid: {e}"))?;
            if usize::from(share.i) + 1 != usize::from(index) {
                return Err(format!("the share is not party {index}'s"));
            }
            let group = cggmp::public_key(&share);
            if group != key.public_key_package {
                return Err("the share names a different key than its file".into());
            }
            Ok(group)
        }
    }
}
