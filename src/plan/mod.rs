//! Plans: the small file that fixes everything a ceremony is about.
//!
//! A keygen plan names the scheme, t, the ordered party cards and a label; a signing plan
//! names the key, the signers and the exact message; a refresh plan names the key (all its
//! parties take part); a repair plan names the key, the party that lost its share and its
//! helpers. All carry an expiry and 32 bytes of
//! fresh randomness, and the **session id** is the SHA-256 of the plan's canonical JSON, so
//! every envelope of a ceremony is bound to exactly one plan. Party `i` (1-based, in plan
//! order) is FROST identifier `i`.

mod message;
mod validate;

use crate::identity::{Card, words};
use crate::scheme::Scheme;
use base64::Engine as _;
pub use message::{HashMode, digest_of, hash_message, parse_path};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The largest message a signing plan carries.
pub const MAX_MESSAGE_LEN: usize = 1 << 20;

/// Errors in a plan.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// Not JSON, or not a plan.
    #[error("not a valid plan: {0}")]
    Malformed(String),
    /// The plan's contents are inconsistent.
    #[error("invalid plan: {0}")]
    Invalid(String),
    /// The plan has expired.
    #[error("the plan expired at {0}")]
    Expired(String),
    /// This party is not in the plan.
    #[error("you ({0}) are not a party in this plan")]
    NotAParty(String),
}

/// A ceremony plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Plan {
    /// Distributed key generation.
    Keygen(KeygenPlan),
    /// A signing session.
    Sign(SignPlan),
    /// A share refresh: every party gets a new share of the same key (FROST).
    Refresh(RefreshPlan),
    /// A share repair: helpers give a party that lost its share a new one (FROST).
    Repair(RepairPlan),
    /// A reshare: some of a key's holders move it to a new party set and threshold;
    /// the public key stays (FROST keys).
    Reshare(ResharePlan),
}

/// A reshare plan: `dealers` (at least the key's threshold of its holders) move the key
/// to `holders` with `new_threshold`, by verifiable secret redistribution
/// (`engine::redistribute`). The public key does not change. `parties` lists everyone
/// taking part once (each dealer and each new holder; the envelope indices); the key's
/// own party list stays in `key_parties`, as every old holder's home has it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResharePlan {
    /// Plan format version (1).
    pub version: u8,
    /// The scheme.
    pub scheme: Scheme,
    /// The key id; it does not change.
    pub key_id: String,
    /// The group public key (hex, the scheme's stored form); it does not change.
    pub group_public_key: String,
    /// The key's public key package (hex; frost serialization, or for ECDSA cggmp21's
    /// key info as JSON, with the chain code): the public share each dealer's dealing is
    /// checked against.
    pub public_key_package: String,
    /// The key's threshold before the reshare.
    pub threshold: u16,
    /// The key's parties before the reshare, in key order.
    pub key_parties: Vec<Card>,
    /// The dealers, by 1-based index in `key_parties`, ascending.
    pub dealers: Vec<u16>,
    /// Everyone taking part, once each: the dealers and the new holders.
    pub parties: Vec<Card>,
    /// The new holders, by 1-based index in `parties`, in the new key's order.
    pub holders: Vec<u16>,
    /// The threshold after the reshare.
    pub new_threshold: u16,
    /// A label for the session.
    pub label: String,
    /// Unix seconds after which the plan is refused.
    pub expires_at: u64,
    /// 32 random bytes (hex).
    pub nonce: String,
    /// ECDSA only: how the new holders get aux info (Paillier keys) for the new party
    /// set: generated in this session among them, or the set's earlier aux info reused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aux: Option<AuxMode>,
}

/// What a reshare is asked to do; [`ResharePlan::new`] makes the plan.
pub struct ReshareSpec {
    /// The key, as a holder's home has it.
    pub key_id: String,
    /// The scheme.
    pub scheme: Scheme,
    /// The group public key (hex, stored form).
    pub group_public_key: String,
    /// The key's public key package (frost serialization; cggmp21 key info for ECDSA).
    pub public_key_package: Vec<u8>,
    /// The key's threshold and parties, in key order.
    pub threshold: u16,
    /// The key's parties.
    pub key_parties: Vec<Card>,
    /// The dealers, 1-based in `key_parties` (any order; duplicates ignored).
    pub dealers: Vec<u16>,
    /// The new holders, in the new key's order.
    pub holders: Vec<Card>,
    /// The new threshold.
    pub new_threshold: u16,
    /// The label.
    pub label: String,
    /// Unix seconds after which the plan is refused.
    pub expires_at: u64,
    /// ECDSA only: the new holders' aux info.
    pub aux: Option<AuxMode>,
}

impl ResharePlan {
    /// The plan for `spec`: everyone taking part once (the dealers in key order, then
    /// each new holder that does not deal, in the given order), unvalidated.
    pub fn new(spec: ReshareSpec) -> ResharePlan {
        let mut dealers = spec.dealers;
        dealers.sort_unstable();
        dealers.dedup();
        let mut parties: Vec<Card> = dealers
            .iter()
            .filter_map(|&d| {
                spec.key_parties
                    .get(usize::from(d).checked_sub(1)?)
                    .cloned()
            })
            .collect();
        for c in &spec.holders {
            if !parties.iter().any(|p| p.ed25519 == c.ed25519) {
                parties.push(c.clone());
            }
        }
        let holders = spec
            .holders
            .iter()
            .filter_map(|c| {
                parties
                    .iter()
                    .position(|p| p.ed25519 == c.ed25519)
                    .map(|i| i as u16 + 1)
            })
            .collect();
        ResharePlan {
            version: 1,
            scheme: spec.scheme,
            key_id: spec.key_id,
            group_public_key: spec.group_public_key,
            public_key_package: hex::encode(spec.public_key_package),
            threshold: spec.threshold,
            key_parties: spec.key_parties,
            dealers,
            parties,
            holders,
            new_threshold: spec.new_threshold,
            label: spec.label,
            expires_at: spec.expires_at,
            nonce: fresh_nonce(),
            aux: spec.aux,
        }
    }

    /// The participant index of the key's party `old` (1-based in `key_parties`).
    pub fn participant_of(&self, old: u16) -> Option<u16> {
        let card = self.key_parties.get(usize::from(old).checked_sub(1)?)?;
        self.parties
            .iter()
            .position(|c| c.ed25519 == card.ed25519)
            .map(|i| i as u16 + 1)
    }

    /// The 1-based index in `key_parties` of participant `index`, if it held the key.
    pub fn old_index_of(&self, index: u16) -> Option<u16> {
        let card = self.parties.get(usize::from(index).checked_sub(1)?)?;
        self.key_parties
            .iter()
            .position(|c| c.ed25519 == card.ed25519)
            .map(|i| i as u16 + 1)
    }

    /// The index in `key_parties` of participant `index`, if it deals.
    pub fn dealt_by(&self, index: u16) -> Option<u16> {
        self.old_index_of(index)
            .filter(|o| self.dealers.contains(o))
    }

    /// Whether participant `index` deals.
    pub fn deals(&self, index: u16) -> bool {
        self.dealt_by(index).is_some()
    }

    /// The new key's parties, in order.
    pub fn new_parties(&self) -> Vec<Card> {
        self.holders
            .iter()
            .filter_map(|&h| self.parties.get(usize::from(h) - 1).cloned())
            .collect()
    }

    /// Participant `index`'s new identifier (1-based position among the holders).
    pub fn new_index_of(&self, index: u16) -> Option<u16> {
        self.holders
            .iter()
            .position(|&h| h == index)
            .map(|i| i as u16 + 1)
    }
}

/// A share refresh plan: all n parties of the key take part.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshPlan {
    /// Plan format version (1).
    pub version: u8,
    /// The scheme (a FROST scheme).
    pub scheme: Scheme,
    /// The key id.
    pub key_id: String,
    /// The group public key (hex, the scheme's stored form); it does not change.
    pub group_public_key: String,
    /// The key's threshold; it does not change.
    pub threshold: u16,
    /// All n parties of the key, in key order.
    pub parties: Vec<Card>,
    /// A label for the session.
    pub label: String,
    /// Unix seconds after which the plan is refused.
    pub expires_at: u64,
    /// 32 random bytes (hex).
    pub nonce: String,
}

/// A share repair plan: `helpers` (at least t parties holding shares) give party `lost`
/// a new share of the same key; the other parties do not take part.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairPlan {
    /// Plan format version (1).
    pub version: u8,
    /// The scheme (a FROST scheme).
    pub scheme: Scheme,
    /// The key id.
    pub key_id: String,
    /// The group public key (hex, the scheme's stored form).
    pub group_public_key: String,
    /// The key's threshold.
    pub threshold: u16,
    /// All n parties of the key, in key order.
    pub parties: Vec<Card>,
    /// The helpers, 1-based party indices, ascending.
    pub helpers: Vec<u16>,
    /// The party that lost its share, 1-based.
    pub lost: u16,
    /// The key's label (the repaired party records it).
    pub label: String,
    /// Unix seconds after which the plan is refused.
    pub expires_at: u64,
    /// 32 random bytes (hex).
    pub nonce: String,
}

/// A key generation plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeygenPlan {
    /// Plan format version (1).
    pub version: u8,
    /// The scheme.
    pub scheme: Scheme,
    /// Signers required (t of t-of-n).
    pub threshold: u16,
    /// All n parties, in order; party i is index i+1.
    pub parties: Vec<Card>,
    /// A label for the key.
    pub label: String,
    /// Unix seconds after which the plan is refused.
    pub expires_at: u64,
    /// 32 random bytes (hex) so that equal plans still give distinct sessions.
    pub nonce: String,
    /// ECDSA only: generate aux info in this session, or reuse the party set's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aux: Option<AuxMode>,
}

/// How an ECDSA keygen gets its auxiliary info (Paillier keys).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum AuxMode {
    /// Run aux-info generation first, in the same session (slow: Paillier proofs).
    Generate,
    /// Use the aux info this party set generated before (a keygen takes milliseconds).
    Reuse,
}

/// A signing plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignPlan {
    /// Plan format version (1).
    pub version: u8,
    /// The scheme.
    pub scheme: Scheme,
    /// The key id.
    pub key_id: String,
    /// The group public key (hex, the scheme's stored form).
    pub group_public_key: String,
    /// The key's threshold.
    pub threshold: u16,
    /// All n parties of the key, in key order.
    pub parties: Vec<Card>,
    /// The signers, 1-based party indices, ascending.
    pub signers: Vec<u16>,
    /// The exact message to sign, base64.
    pub message: String,
    /// A label for the signing session.
    pub label: String,
    /// Unix seconds after which the plan is refused.
    pub expires_at: u64,
    /// 32 random bytes (hex).
    pub nonce: String,
    /// ECDSA only: how the message is hashed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<HashMode>,
    /// ECDSA only: sign with the child key at this non-hardened BIP32 path (`m/0/1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// ECDSA only: generate a presignature, or sign with one made earlier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presign: Option<Presign>,
}

impl SignPlan {
    /// The plan of a presigning session (`Presign::Generate`) of the ECDSA `key` among
    /// `signers` of its `parties`, with an empty message and a fresh nonce.
    pub fn presigning(
        key: &crate::store::db::KeyRecord,
        parties: Vec<Card>,
        signers: Vec<u16>,
        label: String,
        expires_at: u64,
    ) -> SignPlan {
        SignPlan {
            version: 1,
            scheme: Scheme::EcdsaSecp256k1,
            key_id: key.id.clone(),
            group_public_key: key.public_key.clone(),
            threshold: key.threshold,
            parties,
            signers,
            message: String::new(),
            label,
            expires_at,
            nonce: fresh_nonce(),
            hash: None,
            path: None,
            presign: Some(Presign::Generate),
        }
    }
}

/// The presignature role of an ECDSA signing plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Presign {
    /// Run the offline phase now: the session ends with a stored presignature, no
    /// signature (the plan's message is empty).
    Generate,
    /// Sign in one round with the presignature made in `session` (hex session id).
    Consume {
        /// The presigning session.
        session: String,
    },
}

/// The id of an ordered party set (aux info is generated once per party set): 16 hex
/// digits of SHA-256 over the parties' card fingerprints.
pub fn party_set_id(parties: &[Card]) -> String {
    let mut h = Sha256::new();
    h.update(b"mpc-party-set-v1\0");
    for c in parties {
        h.update(c.fingerprint());
    }
    hex::encode(&h.finalize()[..8])
}

pub use crate::clock::{format_time, now};

/// 32 fresh random bytes as hex.
pub fn fresh_nonce() -> String {
    use rand::RngCore;
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// A value that passed its checks (as cggmp21's `Valid<T>`): made only by validating,
/// read-only afterwards, so a function that takes a `Valid<Plan>` never sees a plan that
/// skipped [`Plan::validate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Valid<T>(T);

impl<T> std::ops::Deref for Valid<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Serialize> Serialize for Valid<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<T> Valid<T> {
    /// The value, no longer marked as checked.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl Plan {
    /// Parses and validates a plan.
    pub fn from_json(bytes: &[u8]) -> Result<Valid<Plan>, PlanError> {
        let plan: Plan =
            serde_json::from_slice(bytes).map_err(|e| PlanError::Malformed(e.to_string()))?;
        plan.validated()
    }

    /// Validates a plan made in code.
    pub fn validated(self) -> Result<Valid<Plan>, PlanError> {
        self.validate()?;
        Ok(Valid(self))
    }

    /// The plan as pretty JSON (the file form).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a plan always serializes")
    }

    /// The session id: SHA-256 over the canonical JSON of the plan.
    pub fn session_id(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"mpc-plan-v1\0");
        h.update(serde_json::to_vec(self).expect("a plan always serializes"));
        h.finalize().into()
    }

    /// The fingerprint people compare aloud before taking part.
    pub fn fingerprint(&self) -> String {
        words(&self.session_id())
    }

    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        match self {
            Plan::Keygen(p) => p.scheme,
            Plan::Sign(p) => p.scheme,
            Plan::Refresh(p) => p.scheme,
            Plan::Repair(p) => p.scheme,
            Plan::Reshare(p) => p.scheme,
        }
    }

    /// All parties (of the key, for a signing plan).
    pub fn parties(&self) -> &[Card] {
        match self {
            Plan::Keygen(p) => &p.parties,
            Plan::Sign(p) => &p.parties,
            Plan::Refresh(p) => &p.parties,
            Plan::Repair(p) => &p.parties,
            Plan::Reshare(p) => &p.parties,
        }
    }

    /// The parties who take part in this session, by 1-based index.
    pub fn participants(&self) -> Vec<u16> {
        match self {
            Plan::Keygen(p) => (1..=p.parties.len() as u16).collect(),
            Plan::Refresh(p) => (1..=p.parties.len() as u16).collect(),
            Plan::Sign(p) => p.signers.clone(),
            Plan::Repair(p) => {
                let mut v = p.helpers.clone();
                v.push(p.lost);
                v.sort_unstable();
                v
            }
            Plan::Reshare(p) => (1..=p.parties.len() as u16).collect(),
        }
    }

    /// The threshold (of a reshare: the new one).
    pub fn threshold(&self) -> u16 {
        match self {
            Plan::Keygen(p) => p.threshold,
            Plan::Sign(p) => p.threshold,
            Plan::Refresh(p) => p.threshold,
            Plan::Repair(p) => p.threshold,
            Plan::Reshare(p) => p.new_threshold,
        }
    }

    /// The expiry, unix seconds.
    pub fn expires_at(&self) -> u64 {
        match self {
            Plan::Keygen(p) => p.expires_at,
            Plan::Sign(p) => p.expires_at,
            Plan::Refresh(p) => p.expires_at,
            Plan::Repair(p) => p.expires_at,
            Plan::Reshare(p) => p.expires_at,
        }
    }

    /// The label.
    pub fn label(&self) -> &str {
        match self {
            Plan::Keygen(p) => &p.label,
            Plan::Sign(p) => &p.label,
            Plan::Refresh(p) => &p.label,
            Plan::Repair(p) => &p.label,
            Plan::Reshare(p) => &p.label,
        }
    }

    /// `keygen`, `sign`, `refresh` or `repair`.
    pub fn kind(&self) -> &'static str {
        match self {
            Plan::Keygen(_) => "keygen",
            Plan::Sign(_) => "sign",
            Plan::Refresh(_) => "refresh",
            Plan::Repair(_) => "repair",
            Plan::Reshare(_) => "reshare",
        }
    }

    /// Whether this plan gives every party of a key new shares of it and changes
    /// nothing else: a refresh, or a reshare to the same parties and threshold.
    pub fn is_rotation(&self) -> bool {
        match self {
            Plan::Refresh(_) => true,
            Plan::Reshare(p) => {
                p.new_parties() == p.key_parties
                    && p.new_threshold == p.threshold
                    && p.dealers.len() == p.key_parties.len()
            }
            _ => false,
        }
    }

    /// The existing key a plan is about (all but keygen): its id and group public key.
    pub fn key(&self) -> Option<(&str, &str)> {
        match self {
            Plan::Keygen(_) => None,
            Plan::Sign(p) => Some((&p.key_id, &p.group_public_key)),
            Plan::Refresh(p) => Some((&p.key_id, &p.group_public_key)),
            Plan::Repair(p) => Some((&p.key_id, &p.group_public_key)),
            Plan::Reshare(p) => Some((&p.key_id, &p.group_public_key)),
        }
    }

    /// The card of party `index` (1-based).
    pub fn party(&self, index: u16) -> Option<&Card> {
        index
            .checked_sub(1)
            .and_then(|i| self.parties().get(i as usize))
    }

    /// A party's display name: `2 (bob)`.
    pub fn party_label(&self, index: u16) -> String {
        match self.party(index) {
            Some(c) => format!("{index} ({})", c.name),
            None => format!("{index} (not in plan)"),
        }
    }

    /// The 1-based index of the party with this card, if any.
    pub fn index_of(&self, card: &Card) -> Option<u16> {
        self.parties()
            .iter()
            .position(|c| c.ed25519 == card.ed25519)
            .map(|i| i as u16 + 1)
    }

    /// Checks that the plan is usable now by the party with `card`, returning its index.
    pub fn check_for(&self, card: &Card) -> Result<u16, PlanError> {
        if now() > self.expires_at() {
            return Err(PlanError::Expired(format_time(self.expires_at())));
        }
        let idx = self
            .index_of(card)
            .ok_or_else(|| PlanError::NotAParty(card.name.clone()))?;
        Ok(idx)
    }

    /// The message of a signing plan.
    pub fn message(&self) -> Option<Vec<u8>> {
        match self {
            Plan::Sign(p) => base64::engine::general_purpose::STANDARD
                .decode(&p.message)
                .ok(),
            _ => None,
        }
    }

    /// The 32-byte digest an ECDSA signing plan signs.
    pub fn digest(&self) -> Option<[u8; 32]> {
        let Plan::Sign(p) = self else { return None };
        hash_message(p.hash?, &self.message()?)
    }
}

#[cfg(test)]
mod tests {

    /// ethers' `hashMessage("hello world")` (EIP-191 personal_sign).
    #[test]
    fn eip191_digest() {
        assert_eq!(
            hex::encode(hash_message(HashMode::Eip191, b"hello world").unwrap()),
            "d9eba16ed0ecae432b71fe008c98cc872bb4cc214d3220a36f365326cf807d68"
        );
    }

    use super::*;

    fn repair_plan(scheme: Scheme, helpers: Vec<u16>, lost: u16) -> RepairPlan {
        RepairPlan {
            version: 1,
            scheme,
            key_id: "k".into(),
            group_public_key: "00".into(),
            threshold: 2,
            parties: ["alice", "bob", "carol"]
                .iter()
                .map(|n| crate::identity::Identity::generate(n).card())
                .collect(),
            helpers,
            lost,
            label: String::new(),
            expires_at: now() + 60,
            nonce: fresh_nonce(),
        }
    }

    /// RUSTSEC-2025-0127 (cggmp21 0.6, no patched release): a presignature must never
    /// sign with an HD derivation or a caller-supplied raw hash. deny.toml ignores the
    /// advisory because of this check; it must stay.
    #[test]
    fn a_presignature_refuses_hd_paths_and_raw_hashes() {
        let r = repair_plan(Scheme::EcdsaSecp256k1, vec![1, 2], 3);
        let sign = |hash: HashMode, path: Option<&str>| {
            Plan::Sign(SignPlan {
                version: 1,
                scheme: Scheme::EcdsaSecp256k1,
                key_id: "k".into(),
                group_public_key: "00".into(),
                threshold: 2,
                parties: r.parties.clone(),
                signers: vec![1, 2],
                message: base64::engine::general_purpose::STANDARD.encode([7u8; 32]),
                label: String::new(),
                expires_at: r.expires_at,
                nonce: fresh_nonce(),
                hash: Some(hash),
                path: path.map(str::to_string),
                presign: Some(Presign::Consume {
                    session: "00".repeat(32),
                }),
            })
        };
        sign(HashMode::Sha256, None).validate().unwrap();
        for (plan, why) in [
            (sign(HashMode::Sha256, Some("m/1")), "HD derivation path"),
            (sign(HashMode::Prehash, None), "caller-supplied raw hash"),
        ] {
            let e = plan.validate().unwrap_err().to_string();
            assert!(e.contains(why) && e.contains("CVE-2025-66017"), "{e}");
        }
    }

    #[test]
    fn refresh_and_repair_plans_are_for_frost_keys_and_sound_helper_sets() {
        let ok = repair_plan(Scheme::EddsaEd25519, vec![1, 2], 3);
        Plan::Repair(ok.clone()).validate().unwrap();
        let refresh = Plan::Refresh(RefreshPlan {
            version: 1,
            scheme: Scheme::EcdsaSecp256k1,
            key_id: ok.key_id.clone(),
            group_public_key: ok.group_public_key.clone(),
            threshold: 2,
            parties: ok.parties.clone(),
            label: String::new(),
            expires_at: ok.expires_at,
            nonce: ok.nonce.clone(),
        });
        let e = refresh.validate().unwrap_err().to_string();
        assert!(e.contains("cggmp21 0.6 refreshes only n-of-n"), "{e}");
        let mut n_of_n = refresh.clone();
        if let Plan::Refresh(p) = &mut n_of_n {
            p.threshold = 3;
        }
        n_of_n.validate().unwrap();
        for (plan, want) in [
            (
                repair_plan(Scheme::EcdsaSecp256k1, vec![1, 2], 3),
                "FROST schemes only",
            ),
            (
                repair_plan(Scheme::EddsaEd25519, vec![1], 3),
                "at least t=2 helpers",
            ),
            (
                repair_plan(Scheme::EddsaEd25519, vec![2, 1], 3),
                "ascending",
            ),
            (
                repair_plan(Scheme::EddsaEd25519, vec![1, 3], 3),
                "cannot be one of its helpers",
            ),
            (
                repair_plan(Scheme::EddsaEd25519, vec![1, 4], 3),
                "between 1 and 3",
            ),
            (
                repair_plan(Scheme::EddsaEd25519, vec![1, 2], 0),
                "between 1 and 3",
            ),
        ] {
            let e = Plan::Repair(plan).validate().unwrap_err().to_string();
            assert!(e.contains(want), "`{want}` not in: {e}");
        }
    }

    /// A 2-of-3 ed25519 key's reshare to alice, bob and dave (alice and bob deal).
    fn reshare_plan() -> ResharePlan {
        use frost_ed25519::keys::{IdentifierList, generate_with_dealer};
        let (_, public) =
            generate_with_dealer(3, 2, IdentifierList::Default, rand::rngs::OsRng).unwrap();
        let r = repair_plan(Scheme::EddsaEd25519, vec![1, 2], 3);
        let dave = crate::identity::Identity::generate("dave").card();
        ResharePlan {
            version: 1,
            scheme: Scheme::EddsaEd25519,
            key_id: "k".into(),
            group_public_key: hex::encode(public.verifying_key().serialize().unwrap()),
            public_key_package: hex::encode(public.serialize().unwrap()),
            threshold: 2,
            key_parties: r.parties.clone(),
            dealers: vec![1, 2],
            parties: vec![r.parties[0].clone(), r.parties[1].clone(), dave],
            holders: vec![1, 2, 3],
            new_threshold: 2,
            label: String::new(),
            expires_at: r.expires_at,
            nonce: fresh_nonce(),
            aux: None,
        }
    }

    #[test]
    fn reshare_plans_need_enough_dealers_no_bystanders_and_the_key_s_own_package() {
        let ok = reshare_plan();
        Plan::Reshare(ok.clone()).validate().unwrap();
        let with = |f: &dyn Fn(&mut ResharePlan)| {
            let mut p = ok.clone();
            f(&mut p);
            Plan::Reshare(p).validate().unwrap_err().to_string()
        };
        for (e, want) in [
            (
                with(&|p| p.scheme = Scheme::EcdsaSecp256k1),
                "must say how the new holders get aux info",
            ),
            (
                with(&|p| p.aux = Some(AuxMode::Reuse)),
                "aux info applies only to ECDSA keys",
            ),
            (
                with(&|p| {
                    p.scheme = Scheme::EcdsaSecp256k1;
                    p.aux = Some(AuxMode::Generate);
                }),
                "does not decode",
            ),
            (
                with(&|p| p.dealers = vec![1]),
                "at least the key's threshold (2)",
            ),
            (with(&|p| p.dealers = vec![2, 1]), "ascending"),
            (
                with(&|p| p.dealers = vec![1, 3]),
                "not among the plan's parties",
            ),
            (
                with(&|p| {
                    p.parties
                        .push(crate::identity::Identity::generate("erin").card())
                }),
                "neither deals nor holds",
            ),
            (with(&|p| p.holders = vec![1, 1, 3]), "listed twice"),
            (
                with(&|p| p.new_threshold = 4),
                "between 2 and the number of new holders (3)",
            ),
            (
                with(&|p| p.group_public_key = "00".repeat(32)),
                "names another group key",
            ),
            (
                with(&|p| p.key_parties.truncate(2)),
                "a public share for each of the key's 2 parties",
            ),
        ] {
            assert!(e.contains(want), "`{want}` not in: {e}");
        }
        // Participant and key indices map both ways.
        assert_eq!(ok.participant_of(2), Some(2));
        assert_eq!(ok.participant_of(3), None);
        assert_eq!(ok.old_index_of(3), None);
        assert_eq!(ok.new_index_of(3), Some(3));
        // Only a reshare to the same parties and threshold, every party dealing, is a
        // rotation (what `mpc refresh` runs on a threshold ECDSA key).
        assert!(!Plan::Reshare(ok.clone()).is_rotation());
        let mut same = ok.clone();
        same.parties = ok.key_parties.clone();
        same.dealers = vec![1, 2, 3];
        assert!(Plan::Reshare(same.clone()).is_rotation());
        same.new_threshold = 3;
        assert!(!Plan::Reshare(same).is_rotation());
    }

    #[test]
    fn paths_are_non_hardened_bip32() {
        assert_eq!(parse_path("m").unwrap(), Vec::<u32>::new());
        assert_eq!(parse_path("m/0/1").unwrap(), vec![0, 1]);
        assert_eq!(parse_path("m/2147483647").unwrap(), vec![(1 << 31) - 1]);
        for bad in [
            "m/0'/1",
            "m/0h",
            "m/2147483648",
            "0/1",
            "m/",
            "m//1",
            "m/x",
            "m0/1",
        ] {
            assert!(parse_path(bad).is_err(), "{bad} accepted");
        }
    }
}
