//! FROST DKG (two rounds, plus an echo of round 1 inside round 2) and FROST signing (two
//! rounds, every signer aggregates), generic over the frost-core ciphersuite. Share
//! refresh and repair, built on the same DKG helpers, are in `maintenance`.
//!
//! Round-1 DKG packages must be broadcast reliably. Every round-2 payload therefore
//! carries the sender's hash of all round-1 packages it saw; a party that saw different
//! ones is named before any share is derived. The same echo is used in signing.

use super::{
    EngineError, Inbox, KeyMaterial, KeygenParams, KeygenResult, KeygenState, Outgoing, SignParams,
    SignResult, SignState, Step, tagged_hash,
};
use crate::secret::Secret;
use frost_core::keys::{KeyPackage, PublicKeyPackage, dkg};
use frost_core::round1::{SigningCommitments, SigningNonces};
use frost_core::round2::SignatureShare;
use frost_core::{Ciphersuite, Identifier, SigningPackage};
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use zeroize::{Zeroize, ZeroizeOnDrop};

mod maintenance;
pub mod preprocessed;
pub mod reshare;
use maintenance::confirmed;
pub use maintenance::{refresh_step, repair_step};

/// Every other party's round-1 DKG package, by identifier.
type Round1Packages<C> = BTreeMap<Identifier<C>, dkg::round1::Package<C>>;
/// Round-2 DKG packages, by identifier (received, or to send).
type Round2Packages<C> = BTreeMap<Identifier<C>, dkg::round2::Package<C>>;

/// Round-2 DKG payload (encrypted to its recipient by the envelope layer).
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
struct KeygenRound2 {
    echo: [u8; 32],
    package: Vec<u8>,
}

/// Round-2 signing payload (broadcast).
#[derive(Serialize, Deserialize)]
struct SignRound2 {
    echo: [u8; 32],
    share: Vec<u8>,
}

fn bug(e: impl std::fmt::Display) -> EngineError {
    EngineError::Bug(e.to_string())
}

fn ident<C: Ciphersuite>(i: u16) -> Result<Identifier<C>, EngineError> {
    Identifier::try_from(i).map_err(bug)
}

/// Maps a frost error to a blame-carrying one where frost names culprits.
fn blame<C: Ciphersuite>(e: frost_core::Error<C>, parties: &[u16]) -> EngineError {
    let culprits: Vec<u16> = e
        .culprits()
        .iter()
        .filter_map(|c| {
            parties
                .iter()
                .copied()
                .find(|&i| ident::<C>(i).ok() == Some(*c))
        })
        .collect();
    if culprits.is_empty() {
        bug(e)
    } else {
        EngineError::PeerMisbehaved {
            culprits,
            reason: e.to_string(),
        }
    }
}

fn malformed(sender: u16, what: &str) -> EngineError {
    EngineError::PeerMisbehaved {
        culprits: vec![sender],
        reason: format!("sent a malformed {what}"),
    }
}

/// Decodes every payload of `round` from `senders`, blaming the sender of one that fails.
fn collect<T>(
    inbox: &Inbox,
    round: u8,
    senders: &[u16],
    what: &str,
    decode: impl Fn(&[u8]) -> Option<T>,
) -> Result<Vec<(u16, T)>, EngineError> {
    senders
        .iter()
        .map(|&s| {
            let raw = inbox.get(round, s).ok_or_else(|| bug("payload vanished"))?;
            decode(raw)
                .map(|v| (s, v))
                .ok_or_else(|| malformed(s, what))
        })
        .collect()
}

/// Names the senders whose echo of `round` differs from ours.
fn check_echo(
    echo: &[u8; 32],
    echoes: impl Iterator<Item = (u16, [u8; 32])>,
    round: u8,
) -> Result<(), EngineError> {
    let echoers: Vec<u16> = echoes.filter(|(_, e)| e != echo).map(|(s, _)| s).collect();
    if echoers.is_empty() {
        Ok(())
    } else {
        Err(EngineError::EchoMismatch { round, echoers })
    }
}

/// One DKG step.
pub fn keygen_step<C: Ciphersuite>(
    p: &KeygenParams,
    state: &KeygenState,
    inbox: &Inbox,
) -> Result<Step<KeygenState, KeygenResult>, EngineError> {
    keygen_step_with::<C, _>(p, state, inbox, &mut OsRng)
}

/// [`keygen_step`] drawing the polynomial's randomness from `rng`: the operating
/// system's in every real session; a seeded one for the test vectors (`vectors`).
pub(crate) fn keygen_step_with<C: Ciphersuite, R: rand_core::RngCore + rand_core::CryptoRng>(
    p: &KeygenParams,
    state: &KeygenState,
    inbox: &Inbox,
    rng: &mut R,
) -> Result<Step<KeygenState, KeygenResult>, EngineError> {
    let everyone: Vec<u16> = (1..=p.n).collect();
    let others: Vec<u16> = everyone.iter().copied().filter(|&i| i != p.me).collect();
    match state {
        KeygenState::Start => dkg_start(
            dkg::part1::<C, _>(ident(p.me)?, p.n, p.t, &mut *rng).map_err(bug)?,
            |secret, own| KeygenState::Round1 { secret, own },
        ),
        KeygenState::Round1 { secret, own } => {
            let missing = inbox.missing(1, others.iter().copied());
            if !missing.is_empty() {
                return Ok(Step::Waiting { round: 1, missing });
            }
            let (round1, echo) = dkg_round1::<C>(p, inbox, &others, own, "mpc-keygen-round1")?;
            let secret = dkg::round1::SecretPackage::<C>::deserialize(secret).map_err(bug)?;
            let (secret2, packages) =
                dkg::part2(secret, &round1).map_err(|e| blame(e, &everyone))?;
            Ok(Step::Advanced {
                state: KeygenState::Round2 {
                    secret: secret2.serialize().map_err(bug)?,
                    echo,
                },
                outgoing: dkg_round2_outgoing(&others, &packages, echo)?,
            })
        }
        KeygenState::Round2 { secret, echo } => {
            let missing = inbox.missing(2, others.iter().copied());
            if !missing.is_empty() {
                return Ok(Step::Waiting { round: 2, missing });
            }
            let (round1, round2) = dkg_round2::<C>(inbox, &others, echo)?;
            let secret2 = dkg::round2::SecretPackage::<C>::deserialize(secret).map_err(bug)?;
            let (key_package, public) =
                dkg::part3(&secret2, &round1, &round2).map_err(|e| blame(e, &everyone))?;
            let group_key = public.verifying_key().serialize().map_err(bug)?;
            let transcript =
                tagged_hash("mpc-keygen-transcript", &p.session, [&echo[..], &group_key]);
            Ok(Step::Done(KeygenResult {
                key_package: Secret::new(key_package.serialize().map_err(bug)?),
                public_key_package: public.serialize().map_err(bug)?,
                group_key,
                transcript,
            }))
        }
    }
}

/// The first step of a DKG or a refresh: the state keeps the secret package and this
/// party's own round-1 package (for the echo); the package is broadcast.
fn dkg_start<C: Ciphersuite, S, R>(
    (secret, package): (dkg::round1::SecretPackage<C>, dkg::round1::Package<C>),
    state: impl FnOnce(Vec<u8>, Vec<u8>) -> S,
) -> Result<Step<S, R>, EngineError> {
    let own = package.serialize().map_err(bug)?;
    Ok(Step::Advanced {
        state: state(secret.serialize().map_err(bug)?, own.clone()),
        outgoing: vec![Outgoing {
            round: 1,
            recipient: None,
            data: own,
        }],
    })
}

fn decode_round1<C: Ciphersuite>(
    inbox: &Inbox,
    others: &[u16],
) -> Result<Round1Packages<C>, EngineError> {
    collect(inbox, 1, others, "round-1 keygen package", |b| {
        dkg::round1::Package::<C>::deserialize(b).ok()
    })?
    .into_iter()
    .map(|(s, pkg)| Ok((ident::<C>(s)?, pkg)))
    .collect()
}

/// The others' round-1 packages and the echo hash (under `tag`) over all parties'
/// packages, of a DKG or a refresh.
fn dkg_round1<C: Ciphersuite>(
    p: &KeygenParams,
    inbox: &Inbox,
    others: &[u16],
    own: &[u8],
    tag: &str,
) -> Result<(Round1Packages<C>, [u8; 32]), EngineError> {
    let round1 = decode_round1::<C>(inbox, others)?;
    let parts = (1..=p.n).map(|i| {
        if i == p.me {
            own
        } else {
            inbox.get(1, i).unwrap_or(&[])
        }
    });
    let echo = tagged_hash(tag, &p.session, parts);
    Ok((round1, echo))
}

/// The private round-2 payloads of a DKG or a refresh, one per other party.
fn dkg_round2_outgoing<C: Ciphersuite>(
    others: &[u16],
    packages: &Round2Packages<C>,
    echo: [u8; 32],
) -> Result<Vec<Outgoing>, EngineError> {
    let mut outgoing = Vec::new();
    for &j in others {
        let package = packages
            .get(&ident::<C>(j)?)
            .ok_or_else(|| bug("no package"))?;
        let payload = KeygenRound2 {
            echo,
            package: package.serialize().map_err(bug)?,
        };
        outgoing.push(Outgoing {
            round: 2,
            recipient: Some(j),
            data: postcard::to_allocvec(&payload).map_err(bug)?,
        });
    }
    Ok(outgoing)
}

/// The round-1 and round-2 packages received in a DKG or a refresh, after checking that
/// every sender saw the same round-1 packages (`echo`) as this party.
fn dkg_round2<C: Ciphersuite>(
    inbox: &Inbox,
    others: &[u16],
    echo: &[u8; 32],
) -> Result<(Round1Packages<C>, Round2Packages<C>), EngineError> {
    let received = collect(inbox, 2, others, "round-2 package", |b| {
        postcard::from_bytes::<KeygenRound2>(b).ok()
    })?;
    check_echo(echo, received.iter().map(|(s, r)| (*s, r.echo)), 1)?;
    let mut round2 = BTreeMap::new();
    for (s, r) in &received {
        let pkg = dkg::round2::Package::<C>::deserialize(&r.package)
            .map_err(|_| malformed(*s, "round-2 package"))?;
        round2.insert(ident::<C>(*s)?, pkg);
    }
    Ok((decode_round1::<C>(inbox, others)?, round2))
}

/// FROST round 2: the signature share, from nonces taken by value. The nonces are
/// consumed (and zeroized when dropped) by computing the one share they may ever make;
/// the ceremony then claims them in its ledger for exactly this share before the share
/// is stored or sent.
fn round2<C: Ciphersuite>(
    nonces: SigningNonces<C>,
    package: &frost_core::SigningPackage<C>,
    key_package: &KeyPackage<C>,
    signers: &[u16],
) -> Result<SignatureShare<C>, EngineError> {
    frost_core::round2::sign(package, &nonces, key_package).map_err(|e| blame(e, signers))
}

/// One signing step.
pub fn sign_step<C: Ciphersuite>(
    p: &SignParams,
    key: &KeyMaterial,
    state: &SignState,
    inbox: &Inbox,
) -> Result<Step<SignState, SignResult>, EngineError> {
    sign_step_with::<C, _>(p, key, state, inbox, &mut OsRng)
}

/// [`sign_step`] drawing the nonces' randomness from `rng`: the operating system's in
/// every real session; the published randomness when reproducing RFC 9591's vectors,
/// a seeded one for mpc's own (`vectors`).
pub(crate) fn sign_step_with<C: Ciphersuite, R: rand_core::RngCore + rand_core::CryptoRng>(
    p: &SignParams,
    key: &KeyMaterial,
    state: &SignState,
    inbox: &Inbox,
    rng: &mut R,
) -> Result<Step<SignState, SignResult>, EngineError> {
    let key_package = KeyPackage::<C>::deserialize(key.key_package.expose()).map_err(bug)?;
    let others: Vec<u16> = p.signers.iter().copied().filter(|&i| i != p.me).collect();
    match state {
        SignState::Start => {
            let (nonces, commitments) =
                frost_core::round1::commit(key_package.signing_share(), rng);
            let own = commitments.serialize().map_err(bug)?;
            Ok(Step::Advanced {
                state: SignState::Committed {
                    nonces: nonces.serialize().map_err(bug)?,
                    own: own.clone(),
                },
                outgoing: vec![Outgoing {
                    round: 1,
                    recipient: None,
                    data: own,
                }],
            })
        }
        SignState::Committed { nonces, own } => {
            let missing = inbox.missing(1, others.iter().copied());
            if !missing.is_empty() {
                return Ok(Step::Waiting { round: 1, missing });
            }
            let (package, echo) = signing_package::<C>(p, inbox, &others, own)?;
            let nonces = SigningNonces::<C>::deserialize(nonces).map_err(bug)?;
            let share = round2::<C>(nonces, &package, &key_package, &p.signers)?;
            let own_share = share.serialize();
            let payload = SignRound2 {
                echo,
                share: own_share.clone(),
            };
            Ok(Step::Advanced {
                state: SignState::Shared {
                    echo,
                    own_share,
                    own: own.clone(),
                },
                outgoing: vec![Outgoing {
                    round: 2,
                    recipient: None,
                    data: postcard::to_allocvec(&payload).map_err(bug)?,
                }],
            })
        }
        SignState::Shared {
            echo,
            own_share,
            own,
        } => {
            let missing = inbox.missing(2, others.iter().copied());
            if !missing.is_empty() {
                return Ok(Step::Waiting { round: 2, missing });
            }
            let (package, _) = signing_package::<C>(p, inbox, &others, own)?;
            let received = collect(inbox, 2, &others, "signature share", |b| {
                postcard::from_bytes::<SignRound2>(b).ok()
            })?;
            check_echo(echo, received.iter().map(|(s, r)| (*s, r.echo)), 1)?;
            let mut shares = BTreeMap::new();
            shares.insert(
                ident::<C>(p.me)?,
                SignatureShare::<C>::deserialize(own_share).map_err(bug)?,
            );
            for (s, r) in &received {
                let share = SignatureShare::<C>::deserialize(&r.share)
                    .map_err(|_| malformed(*s, "signature share"))?;
                shares.insert(ident::<C>(*s)?, share);
            }
            let public =
                PublicKeyPackage::<C>::deserialize(&key.public_key_package).map_err(bug)?;
            let signature = frost_core::aggregate(&package, &shares, &public)
                .map_err(|e| blame(e, &p.signers))?;
            public
                .verifying_key()
                .verify(&p.message, &signature)
                .map_err(|e| bug(format!("aggregate signature does not verify: {e}")))?;
            let signature = signature.serialize().map_err(bug)?;
            let transcript =
                tagged_hash("mpc-sign-transcript", &p.session, [&echo[..], &signature]);
            Ok(Step::Done(SignResult {
                signature,
                transcript,
            }))
        }
    }
}

/// The signing package from every signer's commitments, and the echo hash over them.
fn signing_package<C: Ciphersuite>(
    p: &SignParams,
    inbox: &Inbox,
    others: &[u16],
    own: &[u8],
) -> Result<(SigningPackage<C>, [u8; 32]), EngineError> {
    let mut commitments = BTreeMap::new();
    commitments.insert(
        ident::<C>(p.me)?,
        SigningCommitments::<C>::deserialize(own).map_err(bug)?,
    );
    for (s, c) in collect(inbox, 1, others, "signing commitment", |b| {
        SigningCommitments::<C>::deserialize(b).ok()
    })? {
        commitments.insert(ident::<C>(s)?, c);
    }
    let parts = p.signers.iter().map(|&i| {
        if i == p.me {
            own
        } else {
            inbox.get(1, i).unwrap_or(&[])
        }
    });
    let echo = tagged_hash("mpc-sign-round1", &p.session, parts);
    Ok((SigningPackage::new(commitments, &p.message), echo))
}

/// Checks that a stored FROST share is whole and belongs to party `index` of the group
/// key it names: the verifying share is the signing share's, and the public package
/// agrees. Returns the group key (frost serialization).
pub fn share_group_key<C: Ciphersuite>(key: &KeyMaterial, index: u16) -> Result<Vec<u8>, String> {
    let kp = KeyPackage::<C>::deserialize(key.key_package.expose())
        .map_err(|e| format!("the key package does not decode: {e}"))?;
    let public = PublicKeyPackage::<C>::deserialize(&key.public_key_package)
        .map_err(|e| format!("the public key package does not decode: {e}"))?;
    let id = ident::<C>(index).map_err(|e| e.to_string())?;
    if *kp.identifier() != id {
        return Err(format!("the share is not party {index}'s"));
    }
    let from_secret = frost_core::keys::VerifyingShare::<C>::from(*kp.signing_share());
    if from_secret != *kp.verifying_share()
        || public.verifying_shares().get(&id) != Some(&from_secret)
    {
        return Err("the secret share does not match its public share".into());
    }
    if public.verifying_key() != kp.verifying_key() {
        return Err("the share and the public key package name different keys".into());
    }
    public
        .verifying_key()
        .serialize()
        .map_err(|e| e.to_string())
}

/// RFC 9591's published test vectors (Appendix E), reproduced by this engine's signing
/// steps: with the published shares and nonce randomness, every commitment, signature
/// share and the final signature must come out byte for byte.
#[cfg(test)]
mod rfc9591 {
    use super::*;
    use crate::scheme::Scheme;
    use frost_core::keys::{SigningShare, VerifyingShare};
    use serde_json::Value;

    /// Hands out the given bytes in order: the published nonce randomness.
    struct Replay(Vec<u8>);

    impl rand_core::RngCore for Replay {
        fn next_u32(&mut self) -> u32 {
            unreachable!("FROST draws nonce randomness with fill_bytes")
        }
        fn next_u64(&mut self) -> u64 {
            unreachable!("FROST draws nonce randomness with fill_bytes")
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            assert!(
                self.0.len() >= dest.len(),
                "more randomness drawn than published"
            );
            let rest = self.0.split_off(dest.len());
            dest.copy_from_slice(&self.0);
            self.0 = rest;
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
            self.fill_bytes(dest);
            Ok(())
        }
    }
    impl rand_core::CryptoRng for Replay {}

    fn hex_of(v: &Value) -> Vec<u8> {
        hex::decode(v.as_str().unwrap()).unwrap()
    }

    fn by_id(list: &Value, id: u16) -> &Value {
        list.as_array()
            .unwrap()
            .iter()
            .find(|o| o["identifier"] == id)
            .unwrap()
    }

    fn reproduce<C: Ciphersuite>(scheme: Scheme, file: &str) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/rfc9591")
            .join(file);
        let v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let inputs = &v["inputs"];
        let min: u16 = v["config"]["MIN_PARTICIPANTS"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let signers: Vec<u16> = inputs["participant_list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i.as_u64().unwrap() as u16)
            .collect();
        let group =
            frost_core::VerifyingKey::<C>::deserialize(&hex_of(&inputs["verifying_key_key"]))
                .unwrap();
        let share_of = |id: u16| {
            SigningShare::<C>::deserialize(&hex_of(
                &by_id(&inputs["participant_shares"], id)["participant_share"],
            ))
            .unwrap()
        };
        let all: Vec<u16> = inputs["participant_shares"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["identifier"].as_u64().unwrap() as u16)
            .collect();
        let verifying_shares = all
            .iter()
            .map(|&i| {
                (
                    ident::<C>(i).unwrap(),
                    VerifyingShare::<C>::from(share_of(i)),
                )
            })
            .collect();
        let public = PublicKeyPackage::<C>::new(verifying_shares, group, Some(min));
        let material = |id: u16| {
            let share = share_of(id);
            let kp = KeyPackage::<C>::new(
                ident::<C>(id).unwrap(),
                share,
                VerifyingShare::from(share),
                group,
                min,
            );
            KeyMaterial {
                key_package: Secret::new(kp.serialize().unwrap()),
                public_key_package: public.serialize().unwrap(),
            }
        };
        let params = |me: u16| SignParams {
            scheme,
            session: [0; 32],
            me,
            signers: signers.clone(),
            message: hex_of(&inputs["message"]),
        };
        let advance = |me: u16, state: &SignState, inbox: &Inbox, rng: &mut Replay| {
            match sign_step_with::<C, _>(&params(me), &material(me), state, inbox, rng).unwrap() {
                Step::Advanced { state, outgoing } => {
                    (Some(state), outgoing.into_iter().next().unwrap().data)
                }
                Step::Done(r) => (None, r.signature),
                Step::Waiting { .. } => panic!("party {me} is waiting"),
            }
        };
        // Round 1: commitments from the published randomness.
        let mut states = Vec::new();
        let mut round1 = Vec::new();
        for &me in &signers {
            let out = by_id(&v["round_one_outputs"]["outputs"], me);
            let mut rng = Replay(
                [
                    hex_of(&out["hiding_nonce_randomness"]),
                    hex_of(&out["binding_nonce_randomness"]),
                ]
                .concat(),
            );
            let (state, data) = advance(me, &SignState::Start, &Inbox::default(), &mut rng);
            let c = SigningCommitments::<C>::deserialize(&data).unwrap();
            assert_eq!(
                c.hiding().serialize().unwrap(),
                hex_of(&out["hiding_nonce_commitment"]),
                "{file}: party {me} hiding commitment"
            );
            assert_eq!(
                c.binding().serialize().unwrap(),
                hex_of(&out["binding_nonce_commitment"]),
                "{file}: party {me} binding commitment"
            );
            states.push(state.unwrap());
            round1.push(data);
        }
        // Round 2: signature shares; then each signer aggregates.
        let mut inbox = Inbox::default();
        for (i, &me) in signers.iter().enumerate() {
            inbox.insert(1, me, round1[i].clone());
        }
        let mut round2 = Vec::new();
        for (i, &me) in signers.iter().enumerate() {
            let (state, data) = advance(me, &states[i], &inbox, &mut Replay(Vec::new()));
            let payload: SignRound2 = postcard::from_bytes(&data).unwrap();
            let want = hex_of(&by_id(&v["round_two_outputs"]["outputs"], me)["sig_share"]);
            assert_eq!(payload.share, want, "{file}: party {me} signature share");
            states[i] = state.unwrap();
            round2.push(data);
        }
        for (i, &me) in signers.iter().enumerate() {
            inbox.insert(2, me, round2[i].clone());
        }
        for (i, &me) in signers.iter().enumerate() {
            let (state, sig) = advance(me, &states[i], &inbox, &mut Replay(Vec::new()));
            assert!(state.is_none());
            assert_eq!(
                sig,
                hex_of(&v["final_output"]["sig"]),
                "{file}: party {me} signature"
            );
        }
    }

    #[test]
    fn ed25519_vectors() {
        reproduce::<frost_ed25519::Ed25519Sha512>(Scheme::EddsaEd25519, "ed25519.json");
    }

    #[test]
    fn secp256k1_vectors() {
        reproduce::<frost_secp256k1::Secp256K1Sha256>(Scheme::SchnorrSecp256k1, "secp256k1.json");
    }
}
