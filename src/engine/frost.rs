//! FROST DKG (two rounds, plus an echo of round 1 inside round 2) and FROST signing (two
//! rounds, every signer aggregates), generic over the frost-core ciphersuite.
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

/// Every other party's round-1 DKG package, by identifier.
type Round1Packages<C> = BTreeMap<Identifier<C>, dkg::round1::Package<C>>;

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
    let everyone: Vec<u16> = (1..=p.n).collect();
    let others: Vec<u16> = everyone.iter().copied().filter(|&i| i != p.me).collect();
    match state {
        KeygenState::Start => {
            let (secret, package) =
                dkg::part1::<C, _>(ident(p.me)?, p.n, p.t, OsRng).map_err(bug)?;
            let own = package.serialize().map_err(bug)?;
            Ok(Step::Advanced {
                state: KeygenState::Round1 {
                    secret: secret.serialize().map_err(bug)?,
                    own: own.clone(),
                },
                outgoing: vec![Outgoing {
                    round: 1,
                    recipient: None,
                    data: own,
                }],
            })
        }
        KeygenState::Round1 { secret, own } => {
            let missing = inbox.missing(1, others.iter().copied());
            if !missing.is_empty() {
                return Ok(Step::Waiting { round: 1, missing });
            }
            let (round1, echo) = keygen_round1::<C>(p, inbox, &others, own)?;
            let secret = dkg::round1::SecretPackage::<C>::deserialize(secret).map_err(bug)?;
            let (secret2, packages) =
                dkg::part2(secret, &round1).map_err(|e| blame(e, &everyone))?;
            let mut outgoing = Vec::new();
            for &j in &others {
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
            Ok(Step::Advanced {
                state: KeygenState::Round2 {
                    secret: secret2.serialize().map_err(bug)?,
                    echo,
                },
                outgoing,
            })
        }
        KeygenState::Round2 { secret, echo } => {
            let missing = inbox.missing(2, others.iter().copied());
            if !missing.is_empty() {
                return Ok(Step::Waiting { round: 2, missing });
            }
            let received = collect(inbox, 2, &others, "round-2 keygen package", |b| {
                postcard::from_bytes::<KeygenRound2>(b).ok()
            })?;
            check_echo(echo, received.iter().map(|(s, r)| (*s, r.echo)), "round-1")?;
            let mut round2 = BTreeMap::new();
            for (s, r) in &received {
                let pkg = dkg::round2::Package::<C>::deserialize(&r.package)
                    .map_err(|_| malformed(*s, "round-2 keygen package"))?;
                round2.insert(ident::<C>(*s)?, pkg);
            }
            let round1 = decode_round1::<C>(inbox, &others)?;
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

/// The others' round-1 packages and the echo hash over all parties' packages.
fn keygen_round1<C: Ciphersuite>(
    p: &KeygenParams,
    inbox: &Inbox,
    others: &[u16],
    own: &[u8],
) -> Result<(Round1Packages<C>, [u8; 32]), EngineError> {
    let round1 = decode_round1::<C>(inbox, others)?;
    let parts = (1..=p.n).map(|i| {
        if i == p.me {
            own
        } else {
            inbox.get(1, i).unwrap_or(&[])
        }
    });
    let echo = tagged_hash("mpc-keygen-round1", &p.session, parts);
    Ok((round1, echo))
}

/// One signing step.
pub fn sign_step<C: Ciphersuite>(
    p: &SignParams,
    key: &KeyMaterial,
    state: &SignState,
    inbox: &Inbox,
) -> Result<Step<SignState, SignResult>, EngineError> {
    let key_package = KeyPackage::<C>::deserialize(key.key_package.expose()).map_err(bug)?;
    let others: Vec<u16> = p.signers.iter().copied().filter(|&i| i != p.me).collect();
    match state {
        SignState::Start => {
            let (nonces, commitments) =
                frost_core::round1::commit(key_package.signing_share(), &mut OsRng);
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
