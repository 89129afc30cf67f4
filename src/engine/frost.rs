//! FROST DKG (two rounds, plus an echo of round 1 inside round 2) and FROST signing (two
//! rounds, every signer aggregates), generic over the frost-core ciphersuite.
//!
//! Round-1 DKG packages must be broadcast reliably. Every round-2 payload therefore
//! carries the sender's hash of all round-1 packages it saw; a party that saw different
//! ones is named before any share is derived. The same echo is used in signing.

use super::{
    EngineError, Inbox, KeyMaterial, KeygenParams, KeygenResult, KeygenState, Outgoing,
    RefreshResult, RefreshState, RepairParams, RepairResult, RepairState, SignParams, SignResult,
    SignState, Step, tagged_hash,
};
use crate::secret::Secret;
use frost_core::keys::{KeyPackage, PublicKeyPackage, dkg, refresh, repairable};
use frost_core::round1::{SigningCommitments, SigningNonces};
use frost_core::round2::SignatureShare;
use frost_core::{Ciphersuite, Identifier, SigningPackage};
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use zeroize::{Zeroize, ZeroizeOnDrop};

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

/// Names the senders whose echo differs from ours.
fn check_echo(
    echo: &[u8; 32],
    echoes: impl Iterator<Item = (u16, [u8; 32])>,
    round: &str,
) -> Result<(), EngineError> {
    let culprits: Vec<u16> = echoes.filter(|(_, e)| e != echo).map(|(s, _)| s).collect();
    if culprits.is_empty() {
        Ok(())
    } else {
        Err(EngineError::PeerMisbehaved {
            culprits,
            reason: format!(
                "saw different {round} messages than you did: someone sent conflicting broadcasts"
            ),
        })
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
    check_echo(echo, received.iter().map(|(s, r)| (*s, r.echo)), "round-1")?;
    let mut round2 = BTreeMap::new();
    for (s, r) in &received {
        let pkg = dkg::round2::Package::<C>::deserialize(&r.package)
            .map_err(|_| malformed(*s, "round-2 package"))?;
        round2.insert(ident::<C>(*s)?, pkg);
    }
    Ok((decode_round1::<C>(inbox, others)?, round2))
}

/// frost-core's refresh checks each received share against its sender's commitment but
/// does not say whose failed: the abort then names nobody.
fn refresh_blame<C: Ciphersuite>(e: frost_core::Error<C>, parties: &[u16]) -> EngineError {
    match e {
        frost_core::Error::InvalidSecretShare { culprit: None } => EngineError::PeerMisbehaved {
            culprits: Vec::new(),
            reason: "a refresh share sent to you does not match its sender's commitment (frost-core does not say whose)".into(),
        },
        e => blame(e, parties),
    }
}

/// One share-refresh step: a DKG of a sharing of zero (frost-core's
/// `refresh_dkg_part1/2/shares`) added to the current share, then a third round in which
/// every party confirms the new public key package. The new share is returned only when
/// every party has confirmed the same package.
pub fn refresh_step<C: Ciphersuite>(
    p: &KeygenParams,
    key: &KeyMaterial,
    state: &RefreshState,
    inbox: &Inbox,
) -> Result<Step<RefreshState, RefreshResult>, EngineError> {
    let everyone: Vec<u16> = (1..=p.n).collect();
    let others: Vec<u16> = everyone.iter().copied().filter(|&i| i != p.me).collect();
    match state {
        RefreshState::Start => dkg_start(
            refresh::refresh_dkg_part1::<C, _>(ident(p.me)?, p.n, p.t, OsRng).map_err(bug)?,
            |secret, own| RefreshState::Round1 { secret, own },
        ),
        RefreshState::Round1 { secret, own } => {
            let missing = inbox.missing(1, others.iter().copied());
            if !missing.is_empty() {
                return Ok(Step::Waiting { round: 1, missing });
            }
            let (round1, echo) = dkg_round1::<C>(p, inbox, &others, own, "mpc-refresh-round1")?;
            let secret = dkg::round1::SecretPackage::<C>::deserialize(secret).map_err(bug)?;
            let (secret2, packages) = refresh::refresh_dkg_part2(secret, &round1)
                .map_err(|e| refresh_blame(e, &everyone))?;
            Ok(Step::Advanced {
                state: RefreshState::Round2 {
                    secret: secret2.serialize().map_err(bug)?,
                    echo,
                },
                outgoing: dkg_round2_outgoing(&others, &packages, echo)?,
            })
        }
        RefreshState::Round2 { secret, echo } => {
            let missing = inbox.missing(2, others.iter().copied());
            if !missing.is_empty() {
                return Ok(Step::Waiting { round: 2, missing });
            }
            let (round1, round2) = dkg_round2::<C>(inbox, &others, echo)?;
            let secret2 = dkg::round2::SecretPackage::<C>::deserialize(secret).map_err(bug)?;
            let old = KeyPackage::<C>::deserialize(key.key_package.expose()).map_err(bug)?;
            let old_public =
                PublicKeyPackage::<C>::deserialize(&key.public_key_package).map_err(bug)?;
            let group = *old_public.verifying_key();
            let (new, public) =
                refresh::refresh_dkg_shares(&secret2, &round1, &round2, old_public, old)
                    .map_err(|e| refresh_blame(e, &everyone))?;
            let public_key_package = public.serialize().map_err(bug)?;
            let key_package = new.serialize().map_err(bug)?;
            let material = KeyMaterial {
                key_package: Secret::new(key_package.clone()),
                public_key_package: public_key_package.clone(),
            };
            let new_group = share_group_key::<C>(&material, p.me).map_err(bug)?;
            if new_group != group.serialize().map_err(bug)? {
                return Err(bug("the refreshed share names a different group key"));
            }
            let confirm = tagged_hash(
                "mpc-refresh-confirm",
                &p.session,
                [&echo[..], &public_key_package],
            );
            Ok(Step::Advanced {
                state: RefreshState::Staged {
                    key_package,
                    public_key_package,
                    confirm,
                },
                outgoing: vec![Outgoing {
                    round: 3,
                    recipient: None,
                    data: confirm.to_vec(),
                }],
            })
        }
        RefreshState::Staged {
            key_package,
            public_key_package,
            confirm,
        } => {
            let missing = inbox.missing(3, others.iter().copied());
            if !missing.is_empty() {
                return Ok(Step::Waiting { round: 3, missing });
            }
            let culprits: Vec<u16> = others
                .iter()
                .copied()
                .filter(|&s| inbox.get(3, s) != Some(&confirm[..]))
                .collect();
            if !culprits.is_empty() {
                return Err(EngineError::PeerMisbehaved {
                    culprits,
                    reason: "confirmed a different new public key package than yours; the old share stays in use".into(),
                });
            }
            Ok(Step::Done(RefreshResult {
                key_package: Secret::new(key_package.clone()),
                public_key_package: public_key_package.clone(),
                transcript: tagged_hash("mpc-refresh-transcript", &p.session, [&confirm[..]]),
            }))
        }
    }
}

/// Round-2 repair payload, helper to the repaired party (encrypted to it).
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
struct RepairRound2 {
    sigma: Vec<u8>,
    public_key_package: Vec<u8>,
    info: Vec<u8>,
}

/// One share-repair step (frost-core's `repairable`, the repairable threshold scheme):
/// every helper splits its Lagrange-weighted share into random deltas, one per helper
/// (round 1, private); each helper sends the sum of the deltas it got to the repaired
/// party (round 2, private) with the key's public key package; the repaired party adds
/// them up, checks the result against its verifying share in that package, and confirms
/// its verifying share to the helpers (round 3, broadcast). No party learns another's
/// share.
pub fn repair_step<C: Ciphersuite>(
    p: &RepairParams,
    key: Option<&KeyMaterial>,
    state: &RepairState,
    inbox: &Inbox,
) -> Result<Step<RepairState, RepairResult>, EngineError> {
    let others: Vec<u16> = p.helpers.iter().copied().filter(|&i| i != p.me).collect();
    let lost = ident::<C>(p.lost)?;
    let helper_key = || -> Result<(KeyPackage<C>, PublicKeyPackage<C>), EngineError> {
        let key = key.ok_or_else(|| bug("a helper without a share"))?;
        Ok((
            KeyPackage::<C>::deserialize(key.key_package.expose()).map_err(bug)?,
            PublicKeyPackage::<C>::deserialize(&key.public_key_package).map_err(bug)?,
        ))
    };
    let transcript = |verifying_share: &[u8]| {
        tagged_hash("mpc-repair-transcript", &p.session, [verifying_share])
    };
    match state {
        RepairState::Start if p.me == p.lost => {
            let missing = inbox.missing(2, p.helpers.iter().copied());
            if !missing.is_empty() {
                return Ok(Step::Waiting { round: 2, missing });
            }
            let received = collect(inbox, 2, &p.helpers, "repair sigma", |b| {
                postcard::from_bytes::<RepairRound2>(b).ok()
            })?;
            let (first, rest) = received.split_first().ok_or_else(|| bug("no helpers"))?;
            let differ: Vec<u16> = rest
                .iter()
                .filter(|(_, r)| {
                    r.public_key_package != first.1.public_key_package || r.info != first.1.info
                })
                .map(|(s, _)| *s)
                .collect();
            if !differ.is_empty() {
                return Err(EngineError::PeerMisbehaved {
                    culprits: std::iter::once(first.0).chain(differ).collect(),
                    reason:
                        "sent different public key packages or key details; one of them is lying"
                            .into(),
                });
            }
            let public = PublicKeyPackage::<C>::deserialize(&first.1.public_key_package)
                .map_err(|_| malformed(first.0, "public key package"))?;
            if public.verifying_key().serialize().map_err(bug)? != p.group_key {
                return Err(EngineError::PeerMisbehaved {
                    culprits: p.helpers.clone(),
                    reason: "sent the public key package of a different key than the plan's".into(),
                });
            }
            let mut sigmas = Vec::new();
            for (s, r) in &received {
                sigmas.push(
                    repairable::Sigma::<C>::deserialize(&r.sigma)
                        .map_err(|_| malformed(*s, "repair sigma"))?,
                );
            }
            let kp = repairable::repair_share_part3(&sigmas, lost, &public).map_err(bug)?;
            if public.verifying_shares().get(&lost) != Some(kp.verifying_share()) {
                return Err(EngineError::PeerMisbehaved {
                    culprits: Vec::new(),
                    reason: format!(
                        "the repaired share does not match party {}'s verifying share: a helper sent a wrong value (frost-core's repair cannot say whose); nothing was stored",
                        p.lost
                    ),
                });
            }
            let verifying_share = kp.verifying_share().serialize().map_err(bug)?;
            Ok(Step::Advanced {
                state: RepairState::Repaired {
                    key_package: kp.serialize().map_err(bug)?,
                    public_key_package: first.1.public_key_package.clone(),
                    info: first.1.info.clone(),
                    verifying_share: verifying_share.clone(),
                },
                outgoing: vec![Outgoing {
                    round: 3,
                    recipient: None,
                    data: verifying_share,
                }],
            })
        }
        RepairState::Repaired {
            key_package,
            public_key_package,
            info,
            verifying_share,
        } => Ok(Step::Done(RepairResult::Repaired {
            key_package: Secret::new(key_package.clone()),
            public_key_package: public_key_package.clone(),
            info: info.clone(),
            transcript: transcript(verifying_share),
        })),
        RepairState::Start => {
            let (kp, _) = helper_key()?;
            let helpers = p
                .helpers
                .iter()
                .map(|&h| ident::<C>(h))
                .collect::<Result<Vec<_>, _>>()?;
            let deltas =
                repairable::repair_share_part1(&helpers, &kp, &mut OsRng, lost).map_err(bug)?;
            let delta_for = |i: u16| -> Result<Vec<u8>, EngineError> {
                Ok(deltas
                    .get(&ident::<C>(i)?)
                    .ok_or_else(|| bug("no delta"))?
                    .serialize())
            };
            let outgoing = others
                .iter()
                .map(|&j| {
                    Ok(Outgoing {
                        round: 1,
                        recipient: Some(j),
                        data: delta_for(j)?,
                    })
                })
                .collect::<Result<Vec<_>, EngineError>>()?;
            Ok(Step::Advanced {
                state: RepairState::Dealt {
                    own_delta: delta_for(p.me)?,
                },
                outgoing,
            })
        }
        RepairState::Dealt { own_delta } => {
            let missing = inbox.missing(1, others.iter().copied());
            if !missing.is_empty() {
                return Ok(Step::Waiting { round: 1, missing });
            }
            let mut deltas = vec![repairable::Delta::<C>::deserialize(own_delta).map_err(bug)?];
            for (_, d) in collect(inbox, 1, &others, "repair delta", |b| {
                repairable::Delta::<C>::deserialize(b).ok()
            })? {
                deltas.push(d);
            }
            let sigma = repairable::repair_share_part2(&deltas);
            let (_, public) = helper_key()?;
            let payload = RepairRound2 {
                sigma: sigma.serialize(),
                public_key_package: public.serialize().map_err(bug)?,
                info: p.info.clone(),
            };
            Ok(Step::Advanced {
                state: RepairState::Sent,
                outgoing: vec![Outgoing {
                    round: 2,
                    recipient: Some(p.lost),
                    data: postcard::to_allocvec(&payload).map_err(bug)?,
                }],
            })
        }
        RepairState::Sent => {
            let missing = inbox.missing(3, [p.lost]);
            if !missing.is_empty() {
                return Ok(Step::Waiting { round: 3, missing });
            }
            let (_, public) = helper_key()?;
            let expected = public
                .verifying_shares()
                .get(&lost)
                .ok_or_else(|| bug("the key has no such party"))?
                .serialize()
                .map_err(bug)?;
            let confirmed = inbox.get(3, p.lost).unwrap_or_default();
            if confirmed != expected {
                return Err(EngineError::PeerMisbehaved {
                    culprits: vec![p.lost],
                    reason: "confirmed a verifying share that is not its share of this key".into(),
                });
            }
            Ok(Step::Done(RepairResult::Helped {
                transcript: transcript(&expected),
            }))
        }
    }
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
            let share = frost_core::round2::sign(&package, &nonces, &key_package)
                .map_err(|e| blame(e, &p.signers))?;
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
            check_echo(
                echo,
                received.iter().map(|(s, r)| (*s, r.echo)),
                "round-1 commitment",
            )?;
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

/// Refresh and repair run in one process over the engine's own steps, with a network
/// that can change what one party receives.
#[cfg(test)]
mod maintenance {
    use super::*;
    use crate::scheme::Scheme;
    use frost_core::keys::SigningShare;

    type C = frost_ed25519::Ed25519Sha512;

    /// Hands `from`'s payloads to their recipients (a broadcast to every other party in
    /// `parties`), through `wire`, which may change what one recipient gets.
    fn deliver(
        inboxes: &mut BTreeMap<u16, Inbox>,
        from: u16,
        out: &[Outgoing],
        parties: &[u16],
        wire: Wire,
    ) {
        for o in out {
            let to: Vec<u16> = match o.recipient {
                Some(r) => vec![r],
                None => parties.iter().copied().filter(|&r| r != from).collect(),
            };
            for r in to {
                let data = wire(from, r, o.round, o.data.clone());
                inboxes.entry(r).or_default().insert(o.round, from, data);
            }
        }
    }

    /// What a network changes in one payload (from, to, round, payload).
    type Wire<'a> = &'a dyn Fn(u16, u16, u8, Vec<u8>) -> Vec<u8>;

    fn honest(_: u16, _: u16, _: u8, d: Vec<u8>) -> Vec<u8> {
        d
    }

    /// One party's step: its index, state and inbox.
    type StepFn<'a, S, R> = &'a dyn Fn(u16, &S, &Inbox) -> Result<Step<S, R>, EngineError>;

    /// Steps parties 1..=3 in turns, `step` taking a party's state and inbox, until each
    /// is done or failed (or nothing moves any more): each party's result.
    fn drive<S, R>(
        start: impl Fn() -> S,
        step: StepFn<S, R>,
        wire: Wire,
    ) -> BTreeMap<u16, Result<R, EngineError>> {
        let parties = [1u16, 2, 3];
        let mut states: Vec<S> = parties.iter().map(|_| start()).collect();
        let mut inboxes: BTreeMap<u16, Inbox> = BTreeMap::new();
        let mut done = BTreeMap::new();
        for _ in 0..6 {
            for &me in &parties {
                if done.contains_key(&me) {
                    continue;
                }
                let i = me as usize - 1;
                match step(me, &states[i], inboxes.entry(me).or_default()) {
                    Ok(Step::Advanced { state, outgoing }) => {
                        states[i] = state;
                        deliver(&mut inboxes, me, &outgoing, &parties, wire);
                    }
                    Ok(Step::Waiting { .. }) => {}
                    Ok(Step::Done(r)) => {
                        done.insert(me, Ok(r));
                    }
                    Err(e) => {
                        done.insert(me, Err(e));
                    }
                }
            }
        }
        done
    }

    fn material(kp: &[u8], pkp: &[u8]) -> KeyMaterial {
        KeyMaterial {
            key_package: Secret::new(kp.to_vec()),
            public_key_package: pkp.to_vec(),
        }
    }

    fn params(me: u16) -> KeygenParams {
        KeygenParams {
            scheme: Scheme::EddsaEd25519,
            session: [7; 32],
            me,
            t: 2,
            n: 3,
        }
    }

    /// A 2-of-3 key: each party's share.
    fn keygen() -> Vec<KeyMaterial> {
        drive(
            || KeygenState::Start,
            &|me, state, inbox| keygen_step::<C>(&params(me), state, inbox),
            &honest,
        )
        .into_values()
        .map(|r| {
            let r = r.unwrap();
            material(r.key_package.expose(), &r.public_key_package)
        })
        .collect()
    }

    /// Runs a refresh of `keys` to the end for each party: its new share, or its error.
    fn refresh(
        keys: &[KeyMaterial],
        wire: Wire,
    ) -> BTreeMap<u16, Result<KeyMaterial, EngineError>> {
        drive(
            || RefreshState::Start,
            &|me, state, inbox| {
                refresh_step::<C>(&params(me), &keys[me as usize - 1], state, inbox)
            },
            wire,
        )
        .into_iter()
        .map(|(me, r)| {
            (
                me,
                r.map(|r| material(r.key_package.expose(), &r.public_key_package)),
            )
        })
        .collect()
    }

    fn signing_share(k: &KeyMaterial) -> SigningShare<C> {
        *KeyPackage::<C>::deserialize(k.key_package.expose())
            .unwrap()
            .signing_share()
    }

    #[test]
    fn refresh_gives_new_consistent_shares_of_the_same_key() {
        let keys = keygen();
        let group = share_group_key::<C>(&keys[0], 1).unwrap();
        let new = refresh(&keys, &honest);
        for (me, r) in &new {
            let k = r.as_ref().unwrap();
            assert_eq!(share_group_key::<C>(k, *me).unwrap(), group);
            assert_ne!(signing_share(k), signing_share(&keys[*me as usize - 1]));
        }
    }

    #[test]
    fn a_confirmation_shown_differently_to_one_party_stops_its_switch_and_names_the_sender() {
        let keys = keygen();
        // Party 3 shows party 1 a different confirmation than everyone else sees.
        let new = refresh(&keys, &|from, to, round, mut d| {
            if (from, to, round) == (3, 1, 3) {
                d[0] ^= 1;
            }
            d
        });
        match &new[&1] {
            Err(EngineError::PeerMisbehaved { culprits, .. }) => assert_eq!(culprits, &[3]),
            _ => panic!("party 1 switched to a new share despite a differing confirmation"),
        }
        assert!(new[&2].is_ok());
    }

    #[test]
    fn a_tampered_refresh_share_aborts_the_refresh() {
        let keys = keygen();
        let new = refresh(&keys, &|from, to, round, d| {
            if (from, to, round) != (2, 1, 2) {
                return d;
            }
            // Party 2 sends party 1 another (valid) share than its commitment promises.
            let mut payload: KeygenRound2 = postcard::from_bytes(&d).unwrap();
            let pkg = dkg::round2::Package::<C>::deserialize(&payload.package).unwrap();
            let mut bytes = pkg.signing_share().serialize();
            bytes[0] ^= 1;
            let other = dkg::round2::Package::<C>::new(SigningShare::deserialize(&bytes).unwrap());
            payload.package = other.serialize().unwrap();
            postcard::to_allocvec(&payload).unwrap()
        });
        assert!(
            matches!(&new[&1], Err(EngineError::PeerMisbehaved { .. })),
            "party 1 accepted a share that does not match its commitment"
        );
        assert!(new[&1].is_err());
    }

    /// Runs a repair of party 3's share by helpers 1 and 2.
    fn repair(
        keys: &[KeyMaterial],
        wire: Wire,
    ) -> BTreeMap<u16, Result<RepairResult, EngineError>> {
        let group = share_group_key::<C>(&keys[0], 1).unwrap();
        drive(
            || RepairState::Start,
            &|me, state, inbox| {
                let p = RepairParams {
                    scheme: Scheme::EddsaEd25519,
                    session: [5; 32],
                    me,
                    helpers: vec![1, 2],
                    lost: 3,
                    group_key: group.clone(),
                    info: b"key details".to_vec(),
                };
                let key = (me != 3).then(|| &keys[me as usize - 1]);
                repair_step::<C>(&p, key, state, inbox)
            },
            wire,
        )
    }

    #[test]
    fn repair_restores_exactly_the_lost_share() {
        let keys = keygen();
        let out = repair(&keys, &honest);
        let Some(Ok(RepairResult::Repaired {
            key_package,
            public_key_package,
            info,
            ..
        })) = out.get(&3)
        else {
            panic!("party 3 was not repaired");
        };
        let repaired = material(key_package.expose(), public_key_package);
        assert_eq!(signing_share(&repaired), signing_share(&keys[2]));
        assert_eq!(info, b"key details");
        for h in [1, 2] {
            assert!(matches!(out[&h], Ok(RepairResult::Helped { .. })));
        }
    }

    #[test]
    fn a_wrong_sigma_leaves_the_party_without_a_share() {
        let keys = keygen();
        let out = repair(&keys, &|from, to, round, d| {
            if (from, to, round) != (2, 3, 2) {
                return d;
            }
            let mut payload: RepairRound2 = postcard::from_bytes(&d).unwrap();
            payload.sigma[0] ^= 1;
            postcard::to_allocvec(&payload).unwrap()
        });
        match &out[&3] {
            Err(EngineError::PeerMisbehaved { reason, .. }) => {
                assert!(reason.contains("does not match"), "{reason}")
            }
            _ => panic!("a share from a wrong sigma was accepted"),
        }
        // The helpers never see a confirmation and keep waiting.
        assert!(!out.contains_key(&1) && !out.contains_key(&2));
    }
}
