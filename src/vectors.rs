//! mpc's own deterministic test vectors (`testdata/vectors/`, format in its README).
//!
//! A vector is a whole 2-of-3 key generation and a signing by parties 1 and 3, run by the
//! same engine steps a ceremony runs, with every bit of randomness drawn from a seed:
//! the parties' identities, the plans' nonces, the DKG polynomials and the signing
//! nonces (ECDSA: cggmp21's per-party replay seeds). ECDSA vectors start from a fixture
//! of the parties' aux info (`testdata/vectors/ecdsa-aux-info.json`, made by
//! [`ecdsa_aux_info`] from the pregenerated primes), since making aux info costs
//! Paillier proofs, and sign the SHA-256 of the message. It records the plans (and so the session ids), the parties' cards, every
//! round payload in the order the parties produced them, the signed envelope of every
//! broadcast, the key, the verifying shares, the signature and the transcripts; then
//! negative cases that every verifier must reject. Private (encrypted) envelopes are not
//! recorded: age draws its own randomness for every encryption, so they cannot be byte
//! stable; their payloads (the plaintext a recipient opens) are.
//!
//! Payloads are what the engine emits: frost serializations (FROST), postcard of
//! cggmp21's messages (ECDSA, which mpc DEFLATE-compresses inside the envelope).
//!
//! Randomness: party `i`'s generator for `purpose` (`identity`, `keygen`, `sign`) is
//! ChaCha20 seeded with SHA-256(`mpc-vectors-v1` 0x00 seed scheme-id 0x00 purpose 0x00
//! i as u16 big-endian); the plans' nonces come from party 0's `plan` generator. The
//! identity generator yields the Ed25519 secret key (32 bytes) and then the X25519 secret
//! key (32 bytes); an ECDSA party's replay seed is the first 32 bytes of its `keygen`
//! or `sign` generator. Other implementations reproduce a vector from that alone.

use crate::ceremony::ecdsa::{envelope_round, keygen_transcript, pack, sign_transcript};
use crate::engine::cggmp::{self, AuxInfo, Received, Replay, Started};
use crate::engine::frost::{keygen_step_with, sign_step_with};
use crate::engine::{
    EngineError, Inbox, KeyMaterial, KeygenParams, KeygenState, SignParams, SignState, Step,
};
use crate::envelope::{Envelope, Header, Protocol};
use crate::identity::{Card, Identity};
use crate::plan::{AuxMode, HashMode, KeygenPlan, Plan, SignPlan};
use crate::pubkey;
use crate::scheme::Scheme;
use crate::secret::Secret;
use base64::Engine as _;
use frost_core::Ciphersuite;
use frost_core::keys::PublicKeyPackage;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The format tag of a vector file.
pub const FORMAT: &str = "mpc-vectors/1";

/// The names of the parties, in plan order.
const NAMES: [&str; 3] = ["alice", "bob", "carol"];
/// Plans in vectors expire on 2100-01-01.
const EXPIRES: u64 = 4_102_444_800;
/// The signers of the signing vector (plan indices).
const SIGNERS: [u16; 2] = [1, 3];
/// The message of the signing vector.
const MESSAGE: &[u8] = b"mpc test vector: sign me";

/// One scheme's vectors.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct Vectors {
    /// [`FORMAT`].
    pub format: String,
    /// The scheme id.
    pub scheme: String,
    /// The seed everything is derived from, hex.
    pub seed: String,
    /// The parties' public cards, in plan order.
    pub parties: Vec<Card>,
    /// The key generation.
    pub keygen: KeygenVector,
    /// The signing.
    pub sign: SignVector,
    /// Signatures every verifier must reject.
    pub negative_signatures: Vec<NegativeSignature>,
    /// Envelopes every decoder must reject.
    pub negative_envelopes: Vec<NegativeEnvelope>,
}

/// One round message.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct MessageVector {
    /// `keygen` or `sign`.
    pub protocol: String,
    /// The round, from 1.
    pub round: u8,
    /// The sender's plan index.
    pub sender: u16,
    /// The recipient's plan index; none for a broadcast.
    pub recipient: Option<u16>,
    /// The payload, hex (what the recipient opens).
    pub payload: String,
    /// The signed envelope, hex; broadcasts only (private ones are encrypted with fresh
    /// randomness).
    pub envelope: Option<String>,
}

/// A key generation.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct KeygenVector {
    /// The plan.
    pub plan: Plan,
    /// SHA-256 of `mpc-plan-v1` 0x00 and the plan's compact JSON, hex.
    pub session_id: String,
    /// Every message, in the order produced.
    pub messages: Vec<MessageVector>,
    /// The group public key in the scheme's standard form, hex.
    pub public_key: String,
    /// The key id.
    pub key_id: String,
    /// Each party's verifying share (frost serialization), hex.
    pub verifying_shares: BTreeMap<u16, String>,
    /// The keygen transcript hash every party computes, hex.
    pub transcript: String,
}

/// A signing.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct SignVector {
    /// The plan.
    pub plan: Plan,
    /// The session id, hex.
    pub session_id: String,
    /// The message, hex.
    pub message: String,
    /// Every message, in the order produced.
    pub messages: Vec<MessageVector>,
    /// The signature in the scheme's standard encoding, hex.
    pub signature: String,
    /// The signing transcript hash, hex.
    pub transcript: String,
}

/// A signature that must not verify.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct NegativeSignature {
    /// What is wrong.
    pub case: String,
    /// Public key, hex (standard form).
    pub public_key: String,
    /// Message, hex.
    pub message: String,
    /// Signature, hex.
    pub signature: String,
    /// `invalid` (well formed, does not verify: `mpc verify` exits 1) or `malformed`
    /// (not a signature of this scheme at all: exit 2).
    pub expect: String,
}

/// An envelope that must not decode.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct NegativeEnvelope {
    /// What is wrong.
    pub case: String,
    /// The bytes, hex.
    pub envelope: String,
}

/// The generator for party `i`'s `purpose`.
fn rng(seed: &[u8; 32], scheme: Scheme, purpose: &str, i: u16) -> ChaCha20Rng {
    let mut h = Sha256::new();
    h.update(b"mpc-vectors-v1\0");
    h.update(seed);
    h.update(scheme.id().as_bytes());
    h.update([0]);
    h.update(purpose.as_bytes());
    h.update([0]);
    h.update(i.to_be_bytes());
    ChaCha20Rng::from_seed(h.finalize().into())
}

/// 32 bytes from party `i`'s generator for `purpose`.
fn bytes32(seed: &[u8; 32], scheme: Scheme, purpose: &str, i: u16) -> [u8; 32] {
    let mut b = [0u8; 32];
    rng(seed, scheme, purpose, i).fill_bytes(&mut b);
    b
}

fn bug(e: impl std::fmt::Display) -> EngineError {
    EngineError::Bug(e.to_string())
}

/// Generates the vectors of a FROST `scheme` from `seed`.
pub fn generate(scheme: Scheme, seed: [u8; 32]) -> Result<Vectors, EngineError> {
    crate::engine::frost_dispatch!(
        scheme,
        self::frost_vectors,
        (scheme, seed),
        "ECDSA vectors need aux info: use generate_ecdsa"
    )
}

/// What every vector has before its protocols run: the parties and the plans' nonces.
struct Setup {
    scheme: Scheme,
    seed: [u8; 32],
    identities: Vec<Identity>,
    cards: Vec<Card>,
    nonces: ChaCha20Rng,
}

impl Setup {
    fn new(scheme: Scheme, seed: [u8; 32]) -> Setup {
        let identities: Vec<Identity> = NAMES
            .iter()
            .zip(1u16..)
            .map(|(name, i)| {
                let mut r = rng(&seed, scheme, "identity", i);
                let (mut ed, mut x) = ([0u8; 32], [0u8; 32]);
                r.fill_bytes(&mut ed);
                r.fill_bytes(&mut x);
                Identity::from_secrets(name, ed, x)
            })
            .collect();
        Setup {
            scheme,
            seed,
            cards: identities.iter().map(Identity::card).collect(),
            identities,
            nonces: rng(&seed, scheme, "plan", 0),
        }
    }

    fn nonce(&mut self) -> String {
        let mut b = [0u8; 32];
        self.nonces.fill_bytes(&mut b);
        hex::encode(b)
    }

    fn keygen_plan(&mut self, aux: Option<AuxMode>) -> Result<Plan, EngineError> {
        let plan = Plan::Keygen(KeygenPlan {
            version: 1,
            scheme: self.scheme,
            threshold: 2,
            parties: self.cards.clone(),
            label: "mpc test vector".into(),
            expires_at: EXPIRES,
            nonce: self.nonce(),
            aux,
        });
        plan.validate().map_err(bug)?;
        Ok(plan)
    }

    fn sign_plan(&mut self, group_key: &[u8], hash: Option<HashMode>) -> Result<Plan, EngineError> {
        let plan = Plan::Sign(SignPlan {
            version: 1,
            scheme: self.scheme,
            key_id: pubkey::key_id(self.scheme, group_key),
            group_public_key: hex::encode(group_key),
            threshold: 2,
            parties: self.cards.clone(),
            signers: SIGNERS.to_vec(),
            message: base64::engine::general_purpose::STANDARD.encode(MESSAGE),
            label: "mpc test vector".into(),
            expires_at: EXPIRES,
            nonce: self.nonce(),
            hash,
            path: None,
            presign: None,
        });
        plan.validate().map_err(bug)?;
        Ok(plan)
    }

    /// A message as recorded: its payload, and its envelope if it is a broadcast.
    fn record(
        &self,
        protocol: Protocol,
        session: [u8; 32],
        sender: u16,
        m: Sent,
    ) -> Result<MessageVector, EngineError> {
        let Sent {
            round,
            recipient,
            payload,
            enveloped,
        } = m;
        let identity = &self.identities[sender as usize - 1];
        let envelope = match recipient {
            Some(_) => None,
            None => {
                let header = Header {
                    scheme: self.scheme.tag(),
                    session,
                    protocol,
                    round,
                    sender,
                    sender_key: identity.card().verifying_key().map_err(bug)?.to_bytes(),
                    recipient: 0,
                };
                let env = Envelope::create(identity, header, &enveloped, None).map_err(bug)?;
                Some(hex::encode(env.as_bytes()))
            }
        };
        Ok(MessageVector {
            protocol: protocol.name().into(),
            round,
            sender,
            recipient,
            payload: hex::encode(payload),
            envelope,
        })
    }

    /// Assembles the vectors from the protocols' results and adds the negative cases.
    fn finish(self, r: Results) -> Result<Vectors, EngineError> {
        let scheme = self.scheme;
        let Results {
            keygen,
            group_key,
            verifying_shares,
            keygen_transcript,
            sign,
            signature,
            sign_transcript,
        } = r;
        let (group_key, signature) = (&group_key[..], &signature[..]);
        if !pubkey::verify(scheme, group_key, MESSAGE, signature).map_err(bug)? {
            return Err(bug("the vector's signature does not verify"));
        }
        let public_key = pubkey::standard_form(scheme, group_key);
        let negative = |case: &str, pk: &[u8], msg: &[u8], sig: &[u8]| NegativeSignature {
            case: case.into(),
            public_key: hex::encode(pk),
            message: hex::encode(msg),
            signature: hex::encode(sig),
            expect: if sig.len() == scheme.signature_len() {
                "invalid".into()
            } else {
                "malformed".into()
            },
        };
        let mut flipped = signature.to_vec();
        flipped[signature.len() - 1] ^= 0x01;
        let mut other_message = MESSAGE.to_vec();
        other_message.push(b'!');
        let share_key = hex::decode(&verifying_shares[&1]).map_err(bug)?;
        let negative_signatures = vec![
            negative(
                "the last byte of the signature flipped",
                &public_key,
                MESSAGE,
                &flipped,
            ),
            negative("another message", &public_key, &other_message, signature),
            negative(
                "the key of party 1's verifying share instead of the group key",
                &pubkey::standard_form(scheme, &share_key),
                MESSAGE,
                signature,
            ),
            negative(
                "the signature truncated by one byte",
                &public_key,
                MESSAGE,
                &signature[..signature.len() - 1],
            ),
        ];
        let broadcast = hex::decode(
            keygen
                .1
                .iter()
                .find_map(|m| m.envelope.clone())
                .ok_or_else(|| bug("no broadcast"))?,
        )
        .map_err(bug)?;
        let mut tampered = broadcast.clone();
        let middle = tampered.len() / 2;
        tampered[middle] ^= 0x01;
        let mut resigned = broadcast.clone();
        let last = resigned.len() - 1;
        resigned[last] ^= 0x80;
        let negative_envelopes = vec![
            NegativeEnvelope {
                case: "a round-1 broadcast with one byte in the middle flipped".into(),
                envelope: hex::encode(&tampered),
            },
            NegativeEnvelope {
                case: "a round-1 broadcast with its signature altered".into(),
                envelope: hex::encode(&resigned),
            },
            NegativeEnvelope {
                case: "a round-1 broadcast truncated by 10 bytes".into(),
                envelope: hex::encode(&broadcast[..broadcast.len() - 10]),
            },
        ];
        let (keygen_plan, keygen_messages) = keygen;
        let (sign_plan, sign_messages) = sign;
        Ok(Vectors {
            format: FORMAT.into(),
            scheme: scheme.id().into(),
            seed: hex::encode(self.seed),
            parties: self.cards,
            keygen: KeygenVector {
                session_id: hex::encode(keygen_plan.session_id()),
                plan: keygen_plan,
                messages: keygen_messages,
                public_key: hex::encode(&public_key),
                key_id: pubkey::key_id(scheme, group_key),
                verifying_shares,
                transcript: hex::encode(keygen_transcript),
            },
            sign: SignVector {
                session_id: hex::encode(sign_plan.session_id()),
                plan: sign_plan,
                message: hex::encode(MESSAGE),
                messages: sign_messages,
                signature: hex::encode(signature),
                transcript: hex::encode(sign_transcript),
            },
            negative_signatures,
            negative_envelopes,
        })
    }
}

/// A message to record.
struct Sent {
    round: u8,
    recipient: Option<u16>,
    /// What the recipient opens.
    payload: Vec<u8>,
    /// What the envelope carries (ECDSA: compressed).
    enveloped: Vec<u8>,
}

/// What the protocols of a vector produced.
struct Results {
    keygen: (Plan, Vec<MessageVector>),
    group_key: Vec<u8>,
    verifying_shares: BTreeMap<u16, String>,
    keygen_transcript: [u8; 32],
    sign: (Plan, Vec<MessageVector>),
    signature: Vec<u8>,
    sign_transcript: [u8; 32],
}

/// A FROST party's step: its index, state and inbox.
type FrostStep<'a, S, R> = &'a mut dyn FnMut(u16, &S, &Inbox) -> Result<Step<S, R>, EngineError>;
/// Starts a cggmp21 party's replay run: its protocol position and what it received.
type CggmpStart<'a, O> = &'a dyn Fn(usize, &[Received]) -> Result<Started<O>, EngineError>;

/// Runs one FROST protocol for `parties`, each step of party `i` being
/// `step(i, state, inbox)`, until all are done; records every message and returns each
/// party's result.
fn run_frost<S, R>(
    setup: &Setup,
    protocol: Protocol,
    session: [u8; 32],
    parties: &[u16],
    start: impl Fn() -> S,
    step: FrostStep<S, R>,
) -> Result<(Vec<MessageVector>, BTreeMap<u16, R>), EngineError> {
    let mut states: BTreeMap<u16, S> = parties.iter().map(|&i| (i, start())).collect();
    let mut inboxes: BTreeMap<u16, Inbox> = BTreeMap::new();
    let mut done = BTreeMap::new();
    let mut messages = Vec::new();
    for _ in 0..4 {
        for &me in parties {
            if done.contains_key(&me) {
                continue;
            }
            match step(me, &states[&me], inboxes.entry(me).or_default())? {
                Step::Advanced { state, outgoing } => {
                    states.insert(me, state);
                    for o in outgoing {
                        let sent = Sent {
                            round: o.round,
                            recipient: o.recipient,
                            payload: o.data.clone(),
                            enveloped: o.data.clone(),
                        };
                        messages.push(setup.record(protocol, session, me, sent)?);
                        let to: Vec<u16> = match o.recipient {
                            Some(r) => vec![r],
                            None => parties.iter().copied().filter(|&r| r != me).collect(),
                        };
                        for r in to {
                            inboxes
                                .entry(r)
                                .or_default()
                                .insert(o.round, me, o.data.clone());
                        }
                    }
                }
                Step::Waiting { .. } => {}
                Step::Done(r) => {
                    done.insert(me, r);
                }
            }
        }
    }
    if done.len() != parties.len() {
        return Err(bug("the vector's protocol did not finish"));
    }
    Ok((messages, done))
}

fn frost_vectors<C: Ciphersuite>(scheme: Scheme, seed: [u8; 32]) -> Result<Vectors, EngineError> {
    let mut setup = Setup::new(scheme, seed);
    let everyone = [1u16, 2, 3];
    let keygen_plan = setup.keygen_plan(None)?;
    let session = keygen_plan.session_id();
    let mut rngs: BTreeMap<u16, ChaCha20Rng> = everyone
        .iter()
        .map(|&i| (i, rng(&seed, scheme, "keygen", i)))
        .collect();
    let (keygen_messages, keys) = run_frost(
        &setup,
        Protocol::Keygen,
        session,
        &everyone,
        || KeygenState::Start,
        &mut |me, state, inbox| {
            let p = KeygenParams {
                scheme,
                session,
                me,
                t: 2,
                n: 3,
            };
            let r = rngs.get_mut(&me).ok_or_else(|| bug("no generator"))?;
            keygen_step_with::<C, _>(&p, state, inbox, r)
        },
    )?;
    let first = &keys[&1];
    if keys.values().any(|k| k.transcript != first.transcript) {
        return Err(bug("the parties' keygen transcripts differ"));
    }
    let group_key = first.group_key.clone();
    let public = PublicKeyPackage::<C>::deserialize(&first.public_key_package).map_err(bug)?;
    let mut verifying_shares = BTreeMap::new();
    for &i in &everyone {
        let id = frost_core::Identifier::<C>::try_from(i).map_err(bug)?;
        let share = public
            .verifying_shares()
            .get(&id)
            .ok_or_else(|| bug("no verifying share"))?;
        verifying_shares.insert(i, hex::encode(share.serialize().map_err(bug)?));
    }

    let sign_plan = setup.sign_plan(&group_key, None)?;
    let sign_session = sign_plan.session_id();
    let materials: BTreeMap<u16, KeyMaterial> = keys
        .iter()
        .map(|(&i, k)| {
            (
                i,
                KeyMaterial {
                    key_package: Secret::new(k.key_package.expose().clone()),
                    public_key_package: k.public_key_package.clone(),
                },
            )
        })
        .collect();
    let mut rngs: BTreeMap<u16, ChaCha20Rng> = SIGNERS
        .iter()
        .map(|&i| (i, rng(&seed, scheme, "sign", i)))
        .collect();
    let (sign_messages, sigs) = run_frost(
        &setup,
        Protocol::Sign,
        sign_session,
        &SIGNERS,
        || SignState::Start,
        &mut |me, state, inbox| {
            let p = SignParams {
                scheme,
                session: sign_session,
                me,
                signers: SIGNERS.to_vec(),
                message: MESSAGE.to_vec(),
            };
            let r = rngs.get_mut(&me).ok_or_else(|| bug("no generator"))?;
            sign_step_with::<C, _>(&p, &materials[&me], state, inbox, r)
        },
    )?;
    let sig = &sigs[&SIGNERS[0]];
    if sigs.values().any(|s| s.signature != sig.signature) {
        return Err(bug("the signers' signatures differ"));
    }
    let (signature, sign_transcript) = (sig.signature.clone(), sig.transcript);
    setup.finish(Results {
        keygen: (keygen_plan, keygen_messages),
        group_key,
        verifying_shares,
        keygen_transcript: first.transcript,
        sign: (sign_plan, sign_messages),
        signature,
        sign_transcript,
    })
}

/// The aux info of the three ECDSA vector parties, made from the pregenerated primes
/// `primes` (slow: Paillier proofs). Deterministic; its output is the fixture
/// `testdata/vectors/ecdsa-aux-info.json`.
pub fn ecdsa_aux_info(primes: Vec<cggmp::Primes>) -> Result<Vec<AuxInfo>, EngineError> {
    cggmp::simulate::aux_info_seeded(primes)
}

/// Runs one cggmp21 protocol for `parties` (plan indices) by the engine's replay runs,
/// `start(k, received)` starting position `k`'s; records every message and returns each
/// party's output.
fn run_cggmp<O: Send + 'static>(
    setup: &Setup,
    protocol: Protocol,
    session: [u8; 32],
    parties: &[u16],
    start: CggmpStart<O>,
) -> Result<(Vec<MessageVector>, Vec<O>), EngineError> {
    let n = parties.len();
    let mut received: Vec<Vec<Received>> = vec![Vec::new(); n];
    let mut outputs: Vec<Option<O>> = (0..n).map(|_| None).collect();
    let mut messages = Vec::new();
    let mut lives = Vec::new();
    let mut reports = Vec::new();
    for k in 0..n {
        let (live, first) = start(k, &[])?;
        lives.push(live);
        reports.push((k, first));
    }
    for _ in 0..16 {
        for (k, report) in reports.drain(..) {
            let new = match report {
                Replay::Waiting { new } => new,
                Replay::Done { output, new } => {
                    outputs[k] = Some(output);
                    new
                }
            };
            for m in new {
                let round = envelope_round(&m);
                let recipient = m.recipient.map(|r| parties[r as usize]);
                let sent = Sent {
                    round,
                    recipient,
                    payload: m.data.clone(),
                    enveloped: pack(&m.data),
                };
                messages.push(setup.record(protocol, session, parties[k], sent)?);
                for (j, inbox) in received.iter_mut().enumerate() {
                    let to_j = match m.recipient {
                        Some(r) => r as usize == j,
                        None => j != k,
                    };
                    if to_j {
                        inbox.push(Received {
                            sender: k as u16,
                            broadcast: m.recipient.is_none(),
                            data: m.data.clone(),
                        });
                    }
                }
            }
        }
        if outputs.iter().all(Option::is_some) {
            break;
        }
        for k in 0..n {
            if outputs[k].is_none() {
                let report = lives[k]
                    .advance(&received[k])
                    .ok_or_else(|| bug("a replay run cannot continue"))??;
                reports.push((k, report));
            }
        }
    }
    let outputs: Vec<O> = outputs.into_iter().flatten().collect();
    if outputs.len() != n {
        return Err(bug("the vector's protocol did not finish"));
    }
    Ok((messages, outputs))
}

/// Generates the ECDSA vectors from `seed` and the parties' aux info (the fixture).
pub fn generate_ecdsa(seed: [u8; 32], aux: &[AuxInfo]) -> Result<Vectors, EngineError> {
    let scheme = Scheme::EcdsaSecp256k1;
    if aux.len() != 3 {
        return Err(bug("ECDSA vectors need the aux info of three parties"));
    }
    let mut setup = Setup::new(scheme, seed);
    let everyone = [1u16, 2, 3];
    let keygen_plan = setup.keygen_plan(Some(AuxMode::Reuse))?;
    let session = keygen_plan.session_id();
    let params = |session: [u8; 32], purpose: &str, k: usize, n: usize, party: u16| cggmp::Params {
        session,
        seed: bytes32(&seed, scheme, purpose, party),
        i: k as u16,
        n: n as u16,
    };
    let (keygen_messages, shares) =
        run_cggmp(&setup, Protocol::Keygen, session, &everyone, &|k, rx| {
            cggmp::keygen(
                &params(session, "keygen", k, 3, everyone[k]),
                2,
                &aux[k],
                rx,
                &[],
            )
        })?;
    let group_key = cggmp::public_key(&shares[0]);
    if shares.iter().any(|s| cggmp::public_key(s) != group_key) {
        return Err(bug("the parties' keys differ"));
    }
    let verifying_shares: BTreeMap<u16, String> = everyone
        .iter()
        .zip(shares[0].public_shares.iter())
        .map(|(&i, x)| (i, hex::encode(x.to_bytes(true))))
        .collect();

    let sign_plan = setup.sign_plan(&group_key, Some(HashMode::Sha256))?;
    let sign_session = sign_plan.session_id();
    let digest = sign_plan.digest().ok_or_else(|| bug("no digest"))?;
    let signers_at_keygen: Vec<u16> = SIGNERS.iter().map(|s| s - 1).collect();
    let (sign_messages, sigs) =
        run_cggmp(&setup, Protocol::Sign, sign_session, &SIGNERS, &|k, rx| {
            let job = cggmp::SignJob {
                share: shares[signers_at_keygen[k] as usize].clone(),
                signers_at_keygen: signers_at_keygen.clone(),
                path: Vec::new(),
            };
            cggmp::sign(
                &params(sign_session, "sign", k, 2, SIGNERS[k]),
                &job,
                &digest,
                rx,
                &[],
            )
        })?;
    if sigs.iter().any(|s| s != &sigs[0]) {
        return Err(bug("the signers' signatures differ"));
    }
    setup.finish(Results {
        keygen: (keygen_plan, keygen_messages),
        keygen_transcript: keygen_transcript(&session, &group_key),
        group_key,
        verifying_shares,
        sign: (sign_plan, sign_messages),
        sign_transcript: sign_transcript(&sign_session, &sigs[0]),
        signature: sigs[0].to_vec(),
    })
}
