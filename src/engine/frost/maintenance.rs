//! Share maintenance for FROST keys: refresh (a DKG of a sharing of zero, then a
//! confirmation round) and repair (the repairable threshold scheme), on the DKG helpers
//! of the parent module.

use super::{
    blame, bug, collect, dkg_round1, dkg_round2, dkg_round2_outgoing, dkg_start, ident, malformed,
    share_group_key,
};
use crate::engine::{
    EngineError, Inbox, KeyMaterial, KeygenParams, Outgoing, RefreshResult, RefreshState,
    RepairParams, RepairResult, RepairState, Step, tagged_hash,
};
use crate::secret::Secret;
use frost_core::Ciphersuite;
use frost_core::keys::{KeyPackage, PublicKeyPackage, dkg, refresh, repairable};
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The confirmation round (3) of a share change: `Some(waiting)` until every one of
/// `from` has confirmed; an error naming those whose confirmation is not `confirm` (a
/// different new public key package), whatever else happens (`meanwhile`).
pub(super) fn confirmed<S, R>(
    inbox: &Inbox,
    from: &[u16],
    confirm: &[u8; 32],
    meanwhile: &str,
) -> Result<Option<Step<S, R>>, EngineError> {
    let missing = inbox.missing(3, from.iter().copied());
    if !missing.is_empty() {
        return Ok(Some(Step::Waiting { round: 3, missing }));
    }
    let culprits: Vec<u16> = from
        .iter()
        .copied()
        .filter(|&s| inbox.get(3, s) != Some(&confirm[..]))
        .collect();
    if !culprits.is_empty() {
        return Err(EngineError::PeerMisbehaved {
            culprits,
            reason: format!("confirmed a different new public key package than yours; {meanwhile}"),
        });
    }
    Ok(None)
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
            if let Some(waiting) = confirmed(inbox, &others, confirm, "the old share stays in use")?
            {
                return Ok(waiting);
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

/// Refresh and repair run in one process over the engine's own steps, with a network
/// that can change what one party receives.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::KeygenState;
    use crate::engine::frost::{KeygenRound2, keygen_step};
    use crate::scheme::Scheme;
    use frost_core::keys::SigningShare;
    use std::collections::BTreeMap;

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
