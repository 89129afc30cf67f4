//! Resharing a key: the same group key, a new party set and threshold
//! ([`crate::engine::redistribute`] has the arithmetic and its references). The step
//! machine is the same for every key format ([`KeyFormat`]): FROST key packages here
//! ([`Frost`]), cggmp21 core key shares in `engine::cggmp::reshare`.
//!
//! Participants are numbered as the plan lists them (1-based); some deal (old holders
//! named in the plan), some receive (the new holders, who get identifiers 1..=n′ in the
//! plan's order), many do both. Three rounds:
//! 1. each dealer broadcasts the commitments to its polynomial;
//! 2. each dealer sends each other new holder its evaluation (private; a dealer that
//!    also holds keeps its own);
//! 3. once every dealing checks out, each new holder broadcasts a confirmation: a hash of
//!    every dealer's commitments (the echo of round 1) and the new public key package.
//!
//! The new share is returned (and a leaving dealer told it may destroy its old one) only
//! when every new holder has confirmed the same package; until then the old key stays
//! exactly as it was, which is the stage-then-switch discipline of refresh.

use super::{bug, confirmed, ident};
use crate::engine::redistribute::{
    RedistributeError, deal, element, element_bytes, evaluate_commitments, evaluation_matches,
    lagrange_at_zero, public, scalar, scalar_bytes, sum, sum_commitments,
};
use crate::engine::{EngineError, Inbox, KeyMaterial, Outgoing, Step, tagged_hash};
use crate::secret::{Secret, SecretBytes};
use frost_core::keys::{KeyPackage, PublicKeyPackage, SigningShare, VerifyingShare};
use frost_core::{Ciphersuite, Element, Field, Group, Scalar, VerifyingKey};
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::marker::PhantomData;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The public side of the key being reshared, as a reshare needs it.
pub struct OldKey<C: Ciphersuite> {
    /// The group key.
    pub group: Element<C>,
    /// By the key's 1-based party index: the share's evaluation point and its public
    /// share.
    pub shares: BTreeMap<u16, (Scalar<C>, Element<C>)>,
    /// An additive (n-of-n, no VSS) sharing: every holder deals, each with weight one.
    pub additive: bool,
}

/// What a reshare reads from the old key and makes of the new one.
pub trait KeyFormat {
    /// The group the key lives in (a frost-core ciphersuite's).
    type C: Ciphersuite;
    /// The old key's public side, from the bytes the plan carries.
    fn old_key(public: &[u8]) -> Result<OldKey<Self::C>, EngineError>;
    /// Dealer `old`'s secret share, from its key material (checked to be its own).
    fn old_secret(key: &KeyMaterial, old: u16) -> Result<Scalar<Self::C>, EngineError>;
    /// The new key's public side: `group`, the new holders' public shares in order
    /// (identifiers, and evaluation points, 1..=n′) and the threshold. `old` is the old
    /// public side, for what carries over (a chain code).
    fn new_public(
        old: &[u8],
        group: &Element<Self::C>,
        shares: &[Element<Self::C>],
        threshold: u16,
    ) -> Result<Vec<u8>, EngineError>;
    /// New holder `index`'s secret material, its share `secret`, with `public` (from
    /// [`KeyFormat::new_public`]).
    fn new_secret(
        index: u16,
        secret: &Scalar<Self::C>,
        public: &[u8],
    ) -> Result<Vec<u8>, EngineError>;
}

/// FROST keys: `KeyPackage` and `PublicKeyPackage` of ciphersuite `C`.
pub struct Frost<C>(PhantomData<C>);

impl<C: Ciphersuite> KeyFormat for Frost<C> {
    type C = C;

    fn old_key(public: &[u8]) -> Result<OldKey<C>, EngineError> {
        let package = PublicKeyPackage::<C>::deserialize(public).map_err(bug)?;
        let group =
            element::<C>(&package.verifying_key().serialize().map_err(bug)?).map_err(math)?;
        let mut shares = BTreeMap::new();
        // The key's parties hold identifiers 1..=n (a DKG among the plan's parties).
        let n = u16::try_from(package.verifying_shares().len()).map_err(bug)?;
        for index in 1..=n {
            let share = package
                .verifying_shares()
                .get(&ident::<C>(index)?)
                .ok_or_else(|| bug(format!("no public share for party {index}")))?;
            let y = element::<C>(&share.serialize().map_err(bug)?).map_err(math)?;
            shares.insert(index, (point::<C>(index)?, y));
        }
        Ok(OldKey {
            group,
            shares,
            additive: false,
        })
    }

    fn old_secret(key: &KeyMaterial, old: u16) -> Result<Scalar<C>, EngineError> {
        let kp = KeyPackage::<C>::deserialize(key.key_package.expose()).map_err(bug)?;
        if *kp.identifier() != ident::<C>(old)? {
            return Err(bug("the share is not this dealer's"));
        }
        let mut share = kp.signing_share().serialize();
        let s = scalar::<C>(&share).map_err(math);
        share.zeroize();
        s
    }

    fn new_public(
        _old: &[u8],
        group: &Element<C>,
        shares: &[Element<C>],
        threshold: u16,
    ) -> Result<Vec<u8>, EngineError> {
        let bytes =
            |e: &Element<C>| element_bytes::<C>(e).ok_or_else(|| bug("an identity element"));
        let verifying_key = VerifyingKey::<C>::deserialize(&bytes(group)?).map_err(bug)?;
        let mut map = BTreeMap::new();
        for (m, y) in shares.iter().enumerate() {
            map.insert(
                ident::<C>(m as u16 + 1)?,
                VerifyingShare::<C>::deserialize(&bytes(y)?).map_err(bug)?,
            );
        }
        PublicKeyPackage::<C>::new(map, verifying_key, Some(threshold))
            .serialize()
            .map_err(bug)
    }

    fn new_secret(index: u16, secret: &Scalar<C>, public: &[u8]) -> Result<Vec<u8>, EngineError> {
        let package = PublicKeyPackage::<C>::deserialize(public).map_err(bug)?;
        let id = ident::<C>(index)?;
        let verifying = *package
            .verifying_shares()
            .get(&id)
            .ok_or_else(|| bug("no public share of our own"))?;
        let mut bytes = scalar_bytes::<C>(secret);
        let signing = SigningShare::<C>::deserialize(&bytes).map_err(bug);
        bytes.zeroize();
        let min = package
            .min_signers()
            .ok_or_else(|| bug("a package without its threshold"))?;
        KeyPackage::<C>::new(id, signing?, verifying, *package.verifying_key(), min)
            .serialize()
            .map_err(bug)
    }
}

/// What a reshare fixes (from its plan).
#[derive(Clone, Debug)]
pub struct ReshareParams {
    /// The session id.
    pub session: [u8; 32],
    /// This party's participant index.
    pub me: u16,
    /// The dealers: participant index and index in the old key, ascending by
    /// participant index. At least the old threshold (every holder of an additive key).
    pub dealers: Vec<(u16, u16)>,
    /// The new holders' participant indices, in the new key's order: the m-th (from 0)
    /// gets identifier m + 1.
    pub holders: Vec<u16>,
    /// The new threshold.
    pub threshold: u16,
    /// The key's public side as the plan carries it (FROST: its public key package).
    pub old_public: Vec<u8>,
}

impl ReshareParams {
    /// Everyone but this party: the senders it may wait on.
    fn others(&self, of: impl IntoIterator<Item = u16>) -> Vec<u16> {
        of.into_iter().filter(|&i| i != self.me).collect()
    }

    fn dealer_indices(&self) -> Vec<u16> {
        self.dealers.iter().map(|&(i, _)| i).collect()
    }

    fn holder_position(&self, participant: u16) -> Option<usize> {
        self.holders.iter().position(|&h| h == participant)
    }
}

/// A party's state in a reshare.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub enum ReshareState {
    /// Nothing done yet.
    Start,
    /// Dealt (a dealer's round 1 and 2 sent), or nothing to deal.
    Dealt {
        /// Our round-1 payload (empty if we do not deal).
        own_commitments: Vec<u8>,
        /// Our evaluation for ourselves (secret; empty unless we deal and hold).
        own_evaluation: Vec<u8>,
    },
    /// Every dealing checked; the new share (if we hold one) exists only here, and our
    /// confirmation is sent. The old share is still the one in use.
    Staged {
        /// The new secret material (secret; empty if we do not hold).
        key_package: Vec<u8>,
        /// The new public side.
        public_key_package: Vec<u8>,
        /// A hash of every dealer's commitments and the new public side.
        confirm: [u8; 32],
    },
}

impl ReshareState {
    /// The state's name, for logs and status.
    pub fn name(&self) -> &'static str {
        match self {
            ReshareState::Start => "start",
            ReshareState::Dealt { .. } => "dealt",
            ReshareState::Staged { .. } => "dealings checked, confirmation sent",
        }
    }
}

/// How a reshare ends for one party.
pub enum ReshareResult {
    /// A new holder: its new share.
    Holder {
        /// The new secret material (FROST: `KeyPackage`).
        key_package: SecretBytes,
        /// The new public side (FROST: `PublicKeyPackage`; the same group key).
        public_key_package: Vec<u8>,
        /// Hash every participant shares.
        transcript: [u8; 32],
    },
    /// A dealer that holds no new share: every new holder has confirmed, so its old
    /// share may be destroyed.
    Left {
        /// Hash every participant shares.
        transcript: [u8; 32],
    },
}

/// Round-2 payload, dealer to one new holder (encrypted to it by the envelope layer).
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
struct Evaluation {
    value: Vec<u8>,
}

fn dealer_fault(dealer: u16, reason: String) -> EngineError {
    EngineError::PeerMisbehaved {
        culprits: vec![dealer],
        reason,
    }
}

fn math(e: RedistributeError) -> EngineError {
    bug(e)
}

/// The scalar of party index `i` (a FROST identifier's; also cggmp21's `I` of the new
/// key).
fn point<C: Ciphersuite>(i: u16) -> Result<Scalar<C>, EngineError> {
    scalar::<C>(&ident::<C>(i)?.serialize()).map_err(math)
}

/// The new holders' evaluation points (1..=n′).
fn holder_points<C: Ciphersuite>(p: &ReshareParams) -> Result<Vec<Scalar<C>>, EngineError> {
    (1..=p.holders.len() as u16).map(point::<C>).collect()
}

/// Each dealer's weight: its Lagrange coefficient at zero over the dealers' points, or
/// one for an additive key (which every holder must deal).
fn weights<C: Ciphersuite>(
    p: &ReshareParams,
    old: &OldKey<C>,
) -> Result<Vec<Scalar<C>>, EngineError> {
    if old.additive {
        if p.dealers.len() != old.shares.len() {
            return Err(bug("an additive key is reshared by all of its holders"));
        }
        return Ok(vec![<<C::Group as Group>::Field>::one(); p.dealers.len()]);
    }
    let points = p
        .dealers
        .iter()
        .map(|&(_, o)| {
            old.shares
                .get(&o)
                .map(|s| s.0)
                .ok_or_else(|| bug("a dealer that holds no share of the key"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    (0..points.len())
        .map(|i| lagrange_at_zero::<C>(&points, i).map_err(math))
        .collect()
}

/// One reshare step of a FROST key.
pub fn reshare_step<C: Ciphersuite>(
    p: &ReshareParams,
    key: Option<&KeyMaterial>,
    state: &ReshareState,
    inbox: &Inbox,
) -> Result<Step<ReshareState, ReshareResult>, EngineError> {
    step::<Frost<C>>(p, key, state, inbox)
}

/// Checks a key's public key package for a reshare plan: it decodes, names
/// `group_key` and holds a public share for each of the key's `n` parties (identifiers
/// 1..=n, as a DKG among the plan's parties gives them).
pub fn check_public_key_package<C: Ciphersuite>(
    package: &[u8],
    group_key: &[u8],
    n: u16,
) -> Result<(), EngineError> {
    let public = PublicKeyPackage::<C>::deserialize(package)
        .map_err(|e| bug(format!("the key's public key package does not decode: {e}")))?;
    if public.verifying_key().serialize().map_err(bug)? != group_key {
        return Err(bug("the public key package names another group key"));
    }
    let shares = public.verifying_shares();
    if shares.len() != usize::from(n)
        || (1..=n).any(|i| {
            ident::<C>(i)
                .map(|id| !shares.contains_key(&id))
                .unwrap_or(true)
        })
    {
        return Err(bug(format!(
            "the public key package does not hold a public share for each of the key's {n} parties"
        )));
    }
    Ok(())
}

/// One reshare step, for keys of format `F`.
pub fn step<F: KeyFormat>(
    p: &ReshareParams,
    key: Option<&KeyMaterial>,
    state: &ReshareState,
    inbox: &Inbox,
) -> Result<Step<ReshareState, ReshareResult>, EngineError> {
    let old = F::old_key(&p.old_public)?;
    let threshold = usize::from(p.threshold);
    if threshold < 2 || threshold > p.holders.len() || p.dealers.is_empty() {
        return Err(bug("a reshare's threshold and parties do not fit"));
    }
    let mine = p.holder_position(p.me);
    match state {
        ReshareState::Start => {
            let Some(d) = p.dealers.iter().position(|&(i, _)| i == p.me) else {
                return Ok(Step::Advanced {
                    state: ReshareState::Dealt {
                        own_commitments: Vec::new(),
                        own_evaluation: Vec::new(),
                    },
                    outgoing: Vec::new(),
                });
            };
            let key = key.ok_or_else(|| bug("a dealer without its share"))?;
            let s = F::old_secret(key, p.dealers[d].1)?;
            let weighted = weights::<F::C>(p, &old)?[d] * s;
            let dealing = deal::<F::C, _>(
                &mut OsRng,
                weighted,
                p.threshold,
                &holder_points::<F::C>(p)?,
            )
            .map_err(math)?;
            let commitments = dealing
                .commitments
                .iter()
                .map(|c| element_bytes::<F::C>(c).ok_or_else(|| bug("a zero coefficient")))
                .collect::<Result<Vec<_>, _>>()?;
            let own_commitments = postcard::to_allocvec(&commitments).map_err(bug)?;
            let mut outgoing = vec![Outgoing {
                round: 1,
                recipient: None,
                data: own_commitments.clone(),
            }];
            let mut own_evaluation = Vec::new();
            for (m, &holder) in p.holders.iter().enumerate() {
                let value = scalar_bytes::<F::C>(&dealing.evaluations[m]);
                if holder == p.me {
                    own_evaluation = value;
                    continue;
                }
                outgoing.push(Outgoing {
                    round: 2,
                    recipient: Some(holder),
                    data: postcard::to_allocvec(&Evaluation { value }).map_err(bug)?,
                });
            }
            Ok(Step::Advanced {
                state: ReshareState::Dealt {
                    own_commitments,
                    own_evaluation,
                },
                outgoing,
            })
        }
        ReshareState::Dealt {
            own_commitments,
            own_evaluation,
        } => {
            let dealers = p.dealer_indices();
            let missing = inbox.missing(1, p.others(dealers.iter().copied()));
            if !missing.is_empty() {
                return Ok(Step::Waiting { round: 1, missing });
            }
            if mine.is_some() {
                let missing = inbox.missing(2, p.others(dealers.iter().copied()));
                if !missing.is_empty() {
                    return Ok(Step::Waiting { round: 2, missing });
                }
            }
            // Every dealer's commitments, as sent (for the echo) and decoded.
            let mut raw: Vec<&[u8]> = Vec::new();
            let mut dealt: Vec<Vec<Element<F::C>>> = Vec::new();
            for &i in &dealers {
                let bytes = if i == p.me {
                    own_commitments.as_slice()
                } else {
                    inbox.get(1, i).ok_or_else(|| bug("payload vanished"))?
                };
                let commitments = postcard::from_bytes::<Vec<Vec<u8>>>(bytes)
                    .ok()
                    .and_then(|c| {
                        c.iter()
                            .map(|e| element::<F::C>(e).ok())
                            .collect::<Option<Vec<_>>>()
                    })
                    .filter(|c| c.len() == threshold)
                    .ok_or_else(|| {
                        dealer_fault(
                            i,
                            format!("sent malformed commitments (not {threshold} group elements)"),
                        )
                    })?;
                raw.push(bytes);
                dealt.push(commitments);
            }
            // Each dealer dealt its own weighted share, and together the group key.
            let lambdas = weights::<F::C>(p, &old)?;
            for (d, &(i, o)) in p.dealers.iter().enumerate() {
                let (_, y) = old
                    .shares
                    .get(&o)
                    .ok_or_else(|| bug("a dealer that holds no share of the key"))?;
                if dealt[d][0] != *y * lambdas[d] {
                    return Err(dealer_fault(
                        i,
                        "dealt something other than its own share of the key (its constant commitment is not its weighted public share)".into(),
                    ));
                }
            }
            let summed = sum_commitments::<F::C>(&dealt);
            if summed[0] != old.group {
                return Err(bug("the dealings add up to another group key"));
            }
            let points = holder_points::<F::C>(p)?;
            let shares: Vec<Element<F::C>> = points
                .iter()
                .map(|y| evaluate_commitments::<F::C>(&summed, y))
                .collect();
            let public_key_package =
                F::new_public(&p.old_public, &old.group, &shares, p.threshold)?;
            let confirm = tagged_hash(
                "mpc-reshare-confirm",
                &p.session,
                raw.iter().copied().chain([&public_key_package[..]]),
            );
            let Some(m) = mine else {
                return Ok(Step::Advanced {
                    state: ReshareState::Staged {
                        key_package: Vec::new(),
                        public_key_package,
                        confirm,
                    },
                    outgoing: Vec::new(),
                });
            };
            // Our evaluations, each checked against its dealer's commitments.
            let mut values = Vec::with_capacity(dealers.len());
            for (d, &i) in dealers.iter().enumerate() {
                let value = if i == p.me {
                    scalar::<F::C>(own_evaluation).map_err(math)?
                } else {
                    let raw = inbox.get(2, i).ok_or_else(|| bug("payload vanished"))?;
                    postcard::from_bytes::<Evaluation>(raw)
                        .ok()
                        .and_then(|e| scalar::<F::C>(&e.value).ok())
                        .ok_or_else(|| dealer_fault(i, "sent a malformed evaluation".into()))?
                };
                if !evaluation_matches::<F::C>(&dealt[d], &points[m], &value) {
                    return Err(dealer_fault(
                        i,
                        "sent you an evaluation that does not match its commitments".into(),
                    ));
                }
                values.push(value);
            }
            let secret = sum::<F::C>(&values);
            if public::<F::C>(&secret) != shares[m] {
                return Err(bug("the new share does not match its public share"));
            }
            let key_package = F::new_secret(m as u16 + 1, &secret, &public_key_package)?;
            Ok(Step::Advanced {
                state: ReshareState::Staged {
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
        ReshareState::Staged {
            key_package,
            public_key_package,
            confirm,
        } => {
            let holders = p.others(p.holders.iter().copied());
            if let Some(waiting) = confirmed(
                inbox,
                &holders,
                confirm,
                "nobody switches and the old shares stay in use",
            )? {
                return Ok(waiting);
            }
            let transcript = tagged_hash("mpc-reshare-transcript", &p.session, [&confirm[..]]);
            Ok(Step::Done(match mine {
                Some(_) => ReshareResult::Holder {
                    key_package: Secret::new(key_package.clone()),
                    public_key_package: public_key_package.clone(),
                    transcript,
                },
                None => ReshareResult::Left { transcript },
            }))
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use frost_core::keys::{IdentifierList, generate_with_dealer};
    use frost_core::{Field, Group, Identifier, SigningPackage, round1, round2};
    use std::collections::BTreeMap;

    /// The old key: `t`-of-`n` from a trusted dealer (as a DKG would leave it), as each
    /// holder's `KeyMaterial`, and its public key package.
    fn old_key<C: Ciphersuite>(t: u16, n: u16) -> (Vec<KeyMaterial>, Vec<u8>) {
        let (secret_shares, public) =
            generate_with_dealer::<C, _>(n, t, IdentifierList::Default, &mut OsRng).unwrap();
        let public_bytes = public.serialize().unwrap();
        let shares = (1..=n)
            .map(|i| {
                let ss = secret_shares[&Identifier::try_from(i).unwrap()].clone();
                let kp = KeyPackage::<C>::try_from(ss).unwrap();
                KeyMaterial {
                    key_package: Secret::new(kp.serialize().unwrap()),
                    public_key_package: public_bytes.clone(),
                }
            })
            .collect();
        (shares, public_bytes)
    }

    /// Runs a reshare among `participants` parties, delivering every message, until no
    /// one can move; how each party that ended did. `tamper` may change a payload in
    /// flight (round, from, to).
    pub(crate) fn run<F: KeyFormat>(
        participants: u16,
        params: impl Fn(u16) -> ReshareParams,
        keys: &BTreeMap<u16, KeyMaterial>,
        tamper: impl Fn(u8, u16, u16, &mut Vec<u8>),
    ) -> (
        BTreeMap<u16, Result<ReshareResult, EngineError>>,
        BTreeMap<u16, ReshareState>,
    ) {
        let mut states: BTreeMap<u16, ReshareState> = (1..=participants)
            .map(|i| (i, ReshareState::Start))
            .collect();
        let mut inboxes: BTreeMap<u16, Inbox> =
            (1..=participants).map(|i| (i, Inbox::default())).collect();
        let mut done = BTreeMap::new();
        for _ in 0..10 {
            for i in 1..=participants {
                if done.contains_key(&i) {
                    continue;
                }
                match step::<F>(&params(i), keys.get(&i), &states[&i], &inboxes[&i]) {
                    Ok(Step::Advanced { state, outgoing }) => {
                        states.insert(i, state);
                        for o in outgoing {
                            let to: Vec<u16> = match o.recipient {
                                Some(r) => vec![r],
                                None => (1..=participants).filter(|&r| r != i).collect(),
                            };
                            for r in to {
                                let mut data = o.data.clone();
                                tamper(o.round, i, r, &mut data);
                                inboxes.get_mut(&r).unwrap().insert(o.round, i, data);
                            }
                        }
                    }
                    Ok(Step::Waiting { .. }) => {}
                    Ok(Step::Done(r)) => {
                        done.insert(i, Ok(r));
                    }
                    Err(e) => {
                        done.insert(i, Err(e));
                    }
                }
            }
        }
        (done, states)
    }

    /// Signs `message` with the new holders at `signers` (identifiers) and checks the
    /// signature under `group`.
    fn signs<C: Ciphersuite>(
        packages: &BTreeMap<u16, KeyPackage<C>>,
        public: &PublicKeyPackage<C>,
        signers: &[u16],
    ) {
        let message = b"after the reshare";
        let mut nonces = BTreeMap::new();
        let mut commitments = BTreeMap::new();
        for s in signers {
            let kp = &packages[s];
            let (n, c) = round1::commit(kp.signing_share(), &mut OsRng);
            nonces.insert(*kp.identifier(), n);
            commitments.insert(*kp.identifier(), c);
        }
        let package = SigningPackage::new(commitments, message);
        let shares: BTreeMap<_, _> = signers
            .iter()
            .map(|s| {
                let kp = &packages[s];
                let id = *kp.identifier();
                (id, round2::sign(&package, &nonces[&id], kp).unwrap())
            })
            .collect();
        let signature = frost_core::aggregate(&package, &shares, public).unwrap();
        public.verifying_key().verify(message, &signature).unwrap();
    }

    /// Old `t`-of-`n` → new `t2`-of-(holders): `dealers` are old identifiers; `holders`
    /// lists, per new identifier, the old identifier of a staying holder or `None` for a
    /// new party. Participants: the old holders involved, then the new parties.
    fn reshare<C: Ciphersuite>(t: u16, n: u16, dealers: &[u16], holders: &[Option<u16>], t2: u16) {
        let (old, old_public) = old_key::<C>(t, n);
        // Participant indices: each involved old holder (dealer or staying), then each new party.
        let mut involved: Vec<u16> = dealers.to_vec();
        involved.extend(holders.iter().flatten().copied());
        involved.sort_unstable();
        involved.dedup();
        let participant_of_old = |o: u16| involved.iter().position(|&x| x == o).unwrap() as u16 + 1;
        let mut next = involved.len() as u16;
        let holder_participants: Vec<u16> = holders
            .iter()
            .map(|h| match h {
                Some(o) => participant_of_old(*o),
                None => {
                    next += 1;
                    next
                }
            })
            .collect();
        let participants = next;
        let keys: BTreeMap<u16, KeyMaterial> = involved
            .iter()
            .map(|&o| {
                let k = &old[usize::from(o) - 1];
                (
                    participant_of_old(o),
                    KeyMaterial {
                        key_package: Secret::new(k.key_package.expose().to_vec()),
                        public_key_package: k.public_key_package.clone(),
                    },
                )
            })
            .collect();
        let params = |me: u16| ReshareParams {
            session: [7; 32],
            me,
            dealers: dealers
                .iter()
                .map(|&o| (participant_of_old(o), o))
                .collect(),
            holders: holder_participants.clone(),
            threshold: t2,
            old_public: old_public.clone(),
        };
        let (results, _) = run::<Frost<C>>(participants, params, &keys, |_, _, _, _| {});
        assert_eq!(
            results.len(),
            usize::from(participants),
            "a party never finished"
        );
        let old_group = PublicKeyPackage::<C>::deserialize(&old_public).unwrap();
        let mut packages = BTreeMap::new();
        let mut public = None;
        let mut transcripts = Vec::new();
        for (i, r) in results {
            match r.unwrap() {
                ReshareResult::Holder {
                    key_package,
                    public_key_package,
                    transcript,
                } => {
                    let kp = KeyPackage::<C>::deserialize(key_package.expose()).unwrap();
                    let m = holder_participants.iter().position(|&h| h == i).unwrap() as u16 + 1;
                    assert_eq!(*kp.identifier(), Identifier::try_from(m).unwrap());
                    packages.insert(m, kp);
                    public = Some(PublicKeyPackage::<C>::deserialize(&public_key_package).unwrap());
                    transcripts.push(transcript);
                }
                ReshareResult::Left { transcript } => {
                    assert!(!holder_participants.contains(&i));
                    transcripts.push(transcript);
                }
            }
        }
        assert!(transcripts.windows(2).all(|w| w[0] == w[1]));
        let public = public.unwrap();
        assert_eq!(
            public.verifying_key(),
            old_group.verifying_key(),
            "the group key changed"
        );
        assert_eq!(packages.len(), holders.len());
        // Several signer subsets of the new set sign under the unchanged key.
        let all: Vec<u16> = (1..=holders.len() as u16).collect();
        signs::<C>(&packages, &public, &all[..usize::from(t2)]);
        signs::<C>(&packages, &public, &all[all.len() - usize::from(t2)..]);
        signs::<C>(&packages, &public, &all);
    }

    fn every_shape<C: Ciphersuite>() {
        // 2-of-3 → 3-of-5: holders 1 and 3 deal; all three stay, two join.
        reshare::<C>(2, 3, &[1, 3], &[Some(1), Some(2), Some(3), None, None], 3);
        // 3-of-5 → 2-of-3: 1, 2 and 5 deal; 3 and 4 leave, 1 and 5 stay, one joins.
        reshare::<C>(3, 5, &[1, 2, 5], &[Some(1), Some(5), None], 2);
        // 2-of-3 with party 2 replaced (2 does not take part).
        reshare::<C>(2, 3, &[1, 3], &[Some(1), None, Some(3)], 2);
        // The same set and threshold: a refresh.
        reshare::<C>(2, 3, &[1, 2, 3], &[Some(1), Some(2), Some(3)], 2);
    }

    #[test]
    fn ed25519_keys_keep_their_group_key_through_every_shape_of_reshare() {
        every_shape::<frost_ed25519::Ed25519Sha512>();
    }

    #[test]
    fn secp256k1_keys_keep_their_group_key_through_every_shape_of_reshare() {
        every_shape::<frost_secp256k1::Secp256K1Sha256>();
    }

    #[test]
    fn taproot_keys_keep_their_group_key_through_every_shape_of_reshare() {
        every_shape::<frost_secp256k1_tr::Secp256K1Sha256TR>();
    }

    /// 2-of-3 → 2-of-3 with dealers 1 and 2 and holders 1, 2, 3 (participants 1..=3).
    fn params_for(old_public: &[u8], me: u16) -> ReshareParams {
        ReshareParams {
            session: [9; 32],
            me,
            dealers: vec![(1, 1), (2, 2)],
            holders: vec![1, 2, 3],
            threshold: 2,
            old_public: old_public.to_vec(),
        }
    }

    fn keys_of(old: &[KeyMaterial]) -> BTreeMap<u16, KeyMaterial> {
        (1..=3u16)
            .map(|i| {
                let k = &old[usize::from(i) - 1];
                (
                    i,
                    KeyMaterial {
                        key_package: Secret::new(k.key_package.expose().to_vec()),
                        public_key_package: k.public_key_package.clone(),
                    },
                )
            })
            .collect()
    }

    fn culprits(r: &Result<ReshareResult, EngineError>) -> Vec<u16> {
        match r {
            Err(EngineError::PeerMisbehaved { culprits, .. }) => culprits.clone(),
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("switched"),
        }
    }

    #[test]
    fn a_dealer_whose_evaluation_or_constant_is_wrong_is_named_and_nobody_switches() {
        type C = frost_ed25519::Ed25519Sha512;
        let (old, old_public) = old_key::<C>(2, 3);
        let keys = keys_of(&old);
        // Dealer 2 sends party 3 an evaluation off by one: party 3 names it, and as 3
        // never confirms nobody switches (1 and 2 still wait for 3's confirmation).
        let off = |round: u8, from: u16, to: u16, data: &mut Vec<u8>| {
            if (round, from, to) == (2, 2, 3) {
                let mut e: Evaluation = postcard::from_bytes(data).unwrap();
                let v = scalar::<C>(&e.value).unwrap()
                    + <<C as Ciphersuite>::Group as Group>::Field::one();
                e.value = scalar_bytes::<C>(&v);
                *data = postcard::to_allocvec(&e).unwrap();
            }
        };
        let (outcome, states) = run::<Frost<C>>(3, |me| params_for(&old_public, me), &keys, off);
        assert_eq!(culprits(&outcome[&3]), vec![2]);
        assert!(
            !outcome.contains_key(&1) && !outcome.contains_key(&2),
            "someone switched"
        );
        assert!(matches!(states[&1], ReshareState::Staged { .. }));

        // Dealer 1 deals a constant that is not its weighted share (its round-1
        // commitments replaced by a dealing of something else): everyone names it.
        let forged = {
            let other = <<C as Ciphersuite>::Group as Group>::Field::random(&mut OsRng);
            let at: Vec<_> = (1..=3).map(|i| point::<C>(i).unwrap()).collect();
            let d = deal::<C, _>(&mut OsRng, other, 2, &at).unwrap();
            let c: Vec<Vec<u8>> = d
                .commitments
                .iter()
                .map(|e| element_bytes::<C>(e).unwrap())
                .collect();
            postcard::to_allocvec(&c).unwrap()
        };
        let (results, _) = run::<Frost<C>>(
            3,
            |me| params_for(&old_public, me),
            &keys,
            |round, from, _, data| {
                if (round, from) == (1, 1) {
                    *data = forged.clone();
                }
            },
        );
        assert_eq!(culprits(&results[&2]), vec![1]);
        assert_eq!(culprits(&results[&3]), vec![1]);
        // Dealer 1 saw its own true commitments; it waits for confirmations that never
        // come, and keeps its old share.
        assert!(!results.contains_key(&1));
    }

    #[test]
    fn a_holder_confirming_another_package_stops_every_switch() {
        type C = frost_secp256k1::Secp256K1Sha256;
        let (old, old_public) = old_key::<C>(2, 3);
        let keys = keys_of(&old);
        let (results, _) = run::<Frost<C>>(
            3,
            |me| params_for(&old_public, me),
            &keys,
            |round, from, _, data| {
                if (round, from) == (3, 3) {
                    data[0] ^= 1;
                }
            },
        );
        // The honest holders name 3 and keep their old shares. (Party 3 itself, which
        // sent something other than what it computed, is the misbehaving one.)
        assert_eq!(culprits(&results[&1]), vec![3]);
        assert_eq!(culprits(&results[&2]), vec![3]);
    }
}
