//! Resharing an ECDSA key: cggmp21 core key shares (`DirtyIncompleteKeyShare`, the
//! key share without its aux info) in and out of the reshare step machine of
//! `engine::frost::reshare`. The arithmetic runs in frost-secp256k1's group, which is
//! the same curve (secp256k1); scalars and points cross between the two crates as their
//! standard encodings (32-byte big-endian scalars, 33-byte compressed SEC1 points).
//!
//! The old key's public side is its `DirtyKeyInfo` (JSON, as cggmp21 serializes it): the
//! group key, every holder's public share and, for a threshold key, the evaluation
//! points `I`; a key made without VSS (n-of-n, additive shares) is reshared by all of
//! its holders, each with weight one. The new key is always a threshold (VSS) key at
//! points 1..=n′, with the old key's chain code, so its extended public key and every
//! HD child address stay the same. A new holder's core share is accepted only if
//! cggmp21's own validation (`Validate`) accepts it. Turning it into a complete key
//! share needs aux info for the new party set, which the ceremony provides.

use super::{AuxInfo, EcdsaKeyShare};
use crate::engine::frost::reshare::{
    self as generic, KeyFormat, OldKey, ReshareParams, ReshareResult, ReshareState,
};
use crate::engine::redistribute::{element, element_bytes, scalar, scalar_bytes};
use crate::engine::{EngineError, Inbox, KeyMaterial, Step};
use crate::secret::SecretBytes;
use cggmp21::generic_ec::{NonZero, Point, Scalar, SecretScalar};
use cggmp21::key_share::{DirtyIncompleteKeyShare, DirtyKeyInfo, Validate, VssSetup};
use cggmp21::supported_curves::Secp256k1;
use frost_secp256k1::Secp256K1Sha256;
use std::collections::BTreeMap;
use zeroize::Zeroize;

/// The group of the arithmetic.
type C = Secp256K1Sha256;

fn bug(e: impl std::fmt::Display) -> EngineError {
    EngineError::Bug(e.to_string())
}

/// cggmp21 core key shares.
pub struct Cggmp;

fn key_info(public: &[u8]) -> Result<DirtyKeyInfo<Secp256k1>, EngineError> {
    let info: DirtyKeyInfo<Secp256k1> = serde_json::from_slice(public)
        .map_err(|e| bug(format!("the key's public side does not decode: {e}")))?;
    info.is_valid()
        .map_err(|e| bug(format!("the key's public side is not valid: {e}")))?;
    Ok(info)
}

fn to_element(p: &Point<Secp256k1>) -> Result<frost_core::Element<C>, EngineError> {
    element::<C>(&p.to_bytes(true)).map_err(bug)
}

fn to_point(e: &frost_core::Element<C>) -> Result<NonZero<Point<Secp256k1>>, EngineError> {
    let bytes = element_bytes::<C>(e).ok_or_else(|| bug("an identity element"))?;
    Point::from_bytes(bytes)
        .ok()
        .and_then(NonZero::from_point)
        .ok_or_else(|| bug("a point cggmp21 does not take"))
}

impl KeyFormat for Cggmp {
    type C = C;

    fn old_key(public: &[u8]) -> Result<OldKey<C>, EngineError> {
        let info = key_info(public)?;
        let mut shares = BTreeMap::new();
        for (j, y) in info.public_shares.iter().enumerate() {
            let j = u16::try_from(j).map_err(bug)?;
            let x = info
                .share_preimage(j)
                .ok_or_else(|| bug("a public share without its point"))?;
            let x = scalar::<C>(x.as_ref().to_be_bytes().as_bytes()).map_err(bug)?;
            shares.insert(j + 1, (x, to_element(y)?));
        }
        Ok(OldKey {
            group: to_element(&info.shared_public_key)?,
            shares,
            additive: info.vss_setup.is_none(),
        })
    }

    fn old_secret(key: &KeyMaterial, old: u16) -> Result<frost_core::Scalar<C>, EngineError> {
        let share: DirtyIncompleteKeyShare<Secp256k1> =
            serde_json::from_slice(key.key_package.expose()).map_err(bug)?;
        if share.i.checked_add(1) != Some(old) {
            return Err(bug("the share is not this dealer's"));
        }
        let x: &SecretScalar<Secp256k1> = share.x.as_ref();
        let x: &Scalar<Secp256k1> = x.as_ref();
        let mut bytes = x.to_be_bytes().as_bytes().to_vec();
        let s = scalar::<C>(&bytes).map_err(bug);
        bytes.zeroize();
        s
    }

    fn new_public(
        old: &[u8],
        group: &frost_core::Element<C>,
        shares: &[frost_core::Element<C>],
        threshold: u16,
    ) -> Result<Vec<u8>, EngineError> {
        let old = key_info(old)?;
        let points = (1..=shares.len() as u64)
            .map(|m| NonZero::from_scalar(Scalar::<Secp256k1>::from(m)))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| bug("a zero point"))?;
        let info = DirtyKeyInfo {
            curve: old.curve,
            shared_public_key: to_point(group)?,
            public_shares: shares.iter().map(to_point).collect::<Result<_, _>>()?,
            vss_setup: Some(VssSetup {
                min_signers: threshold,
                I: points,
            }),
            chain_code: old.chain_code,
        };
        info.is_valid()
            .map_err(|e| bug(format!("cggmp21 does not accept the new public side: {e}")))?;
        serde_json::to_vec(&info).map_err(bug)
    }

    fn new_secret(
        index: u16,
        secret: &frost_core::Scalar<C>,
        public: &[u8],
    ) -> Result<Vec<u8>, EngineError> {
        let key_info = key_info(public)?;
        let mut bytes = scalar_bytes::<C>(secret);
        let x = SecretScalar::<Secp256k1>::from_be_bytes(&bytes).map_err(bug);
        bytes.zeroize();
        let x = NonZero::from_secret_scalar(x?).ok_or_else(|| bug("a zero share"))?;
        let share = DirtyIncompleteKeyShare {
            i: index.checked_sub(1).ok_or_else(|| bug("index 0"))?,
            key_info,
            x,
        };
        share
            .is_valid()
            .map_err(|e| bug(format!("cggmp21 does not accept the new share: {e}")))?;
        serde_json::to_vec(&share).map_err(bug)
    }
}

/// The public side of `share`'s key as a reshare plan carries it: its `DirtyKeyInfo`
/// (JSON), which names every holder's public share, the evaluation points and the chain
/// code.
pub fn public_side(share: &EcdsaKeyShare) -> Result<Vec<u8>, EngineError> {
    serde_json::to_vec(&share.core.key_info).map_err(bug)
}

/// The chain code in a key's public side (from [`public_side`]), if it has one.
pub fn chain_code(public: &[u8]) -> Option<[u8; 32]> {
    key_info(public).ok()?.chain_code
}

/// A dealer's key material for [`reshare_step`]: the core of its complete key share
/// (JSON; the aux info stays behind) and the key's public side.
pub fn material(share: &EcdsaKeyShare) -> Result<KeyMaterial, EngineError> {
    Ok(KeyMaterial {
        key_package: SecretBytes::new(serde_json::to_vec(&share.core).map_err(bug)?),
        public_key_package: public_side(share)?,
    })
}

/// A new holder's complete key share: its new core share (JSON, from a reshare) with the
/// aux info of the new party set, accepted only if cggmp21 finds them consistent (the
/// aux info of as many parties as the key has, with this party's Paillier key).
pub fn complete(core: &[u8], aux: AuxInfo) -> Result<EcdsaKeyShare, EngineError> {
    let core: DirtyIncompleteKeyShare<Secp256k1> = serde_json::from_slice(core).map_err(bug)?;
    let core = cggmp21::IncompleteKeyShare::<Secp256k1>::validate(core)
        .map_err(|e| bug(format!("cggmp21 does not accept the new share: {e}")))?;
    EcdsaKeyShare::from_parts((core, aux)).map_err(|e| {
        bug(format!(
            "the new share and the aux info of the new parties do not fit together: {}",
            e.error()
        ))
    })
}

/// Checks a key's public side for a reshare plan: a valid `DirtyKeyInfo` naming
/// `group_key` (compressed) with a public share for each of the key's `n` parties.
pub fn check_public_key_package(
    package: &[u8],
    group_key: &[u8],
    n: u16,
) -> Result<(), EngineError> {
    let info = key_info(package)?;
    if info.shared_public_key.to_bytes(true).as_bytes() != group_key {
        return Err(bug("the key info names another group key"));
    }
    if info.public_shares.len() != usize::from(n) {
        return Err(bug(format!(
            "the key info does not hold a public share for each of the key's {n} parties"
        )));
    }
    Ok(())
}

/// One reshare step of an ECDSA key: the old and new key material are cggmp21 core key
/// shares (JSON), the public side their `DirtyKeyInfo` (JSON).
pub fn reshare_step(
    p: &ReshareParams,
    key: Option<&KeyMaterial>,
    state: &ReshareState,
    inbox: &Inbox,
) -> Result<Step<ReshareState, ReshareResult>, EngineError> {
    generic::step::<Cggmp>(p, key, state, inbox)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::redistribute::{deal, lagrange_at_zero, public, sum};
    use crate::secret::Secret;
    use frost_core::{Field, Group};
    use rand::rngs::OsRng;

    type F = <<C as frost_core::Ciphersuite>::Group as Group>::Field;

    fn n(i: u64) -> frost_core::Scalar<C> {
        scalar::<C>(Scalar::<Secp256k1>::from(i).to_be_bytes().as_bytes()).unwrap()
    }

    /// An old ECDSA key of `count` holders sharing `secret`: threshold `t` (VSS at
    /// points 1..=count) or additive (`None`); each holder's (core share JSON, public
    /// side JSON).
    fn old_key(secret: frost_core::Scalar<C>, t: Option<u16>, count: u16) -> Vec<KeyMaterial> {
        let secrets: Vec<frost_core::Scalar<C>> = match t {
            Some(t) => {
                let at: Vec<_> = (1..=count as u64).map(n).collect();
                deal::<C, _>(&mut OsRng, secret, t, &at)
                    .unwrap()
                    .evaluations
            }
            None => {
                let mut v: Vec<_> = (1..count).map(|_| F::random(&mut OsRng)).collect();
                let rest = secret - sum::<C>(&v);
                v.push(rest);
                v
            }
        };
        let shares: Vec<_> = secrets.iter().map(public::<C>).collect();
        let info = DirtyKeyInfo {
            curve: Default::default(),
            shared_public_key: to_point(&public::<C>(&secret)).unwrap(),
            public_shares: shares.iter().map(|y| to_point(y).unwrap()).collect(),
            vss_setup: t.map(|t| VssSetup {
                min_signers: t,
                I: (1..=count as u64)
                    .map(|m| NonZero::from_scalar(Scalar::from(m)).unwrap())
                    .collect(),
            }),
            chain_code: Some([7; 32]),
        };
        info.is_valid().unwrap();
        let public_bytes = serde_json::to_vec(&info).unwrap();
        secrets
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let x = SecretScalar::<Secp256k1>::from_be_bytes(&scalar_bytes::<C>(s)).unwrap();
                let share = DirtyIncompleteKeyShare {
                    i: i as u16,
                    key_info: info.clone(),
                    x: NonZero::from_secret_scalar(x).unwrap(),
                };
                share.is_valid().unwrap();
                KeyMaterial {
                    key_package: Secret::new(serde_json::to_vec(&share).unwrap()),
                    public_key_package: public_bytes.clone(),
                }
            })
            .collect()
    }

    /// Runs a reshare among `participants` (every message delivered) to the end; every
    /// party's result by participant.
    fn run(
        participants: u16,
        params: impl Fn(u16) -> ReshareParams,
        keys: &BTreeMap<u16, KeyMaterial>,
    ) -> BTreeMap<u16, ReshareResult> {
        let (done, _) = crate::engine::frost::reshare::tests::run::<Cggmp>(
            participants,
            params,
            keys,
            |_, _, _, _| {},
        );
        assert_eq!(
            done.len(),
            usize::from(participants),
            "a party never finished"
        );
        done.into_iter().map(|(i, r)| (i, r.unwrap())).collect()
    }

    /// The dealers' old key material, as participants 1, 2, ... in the order given.
    fn dealt_by(old: &[KeyMaterial], dealers: &[u16]) -> BTreeMap<u16, KeyMaterial> {
        dealers
            .iter()
            .enumerate()
            .map(|(p, &o)| {
                let k = &old[usize::from(o) - 1];
                (
                    p as u16 + 1,
                    KeyMaterial {
                        key_package: Secret::new(k.key_package.expose().clone()),
                        public_key_package: k.public_key_package.clone(),
                    },
                )
            })
            .collect()
    }

    /// Reshares an old key (dealers = every old holder listed, participants 1..) to
    /// `new_n` holders with threshold `t2`: old holders 1..=dealers.len() are the first
    /// participants and hold again; the rest are new. Checks every new core share with
    /// cggmp21, the group key and chain code, and that `t2` new shares give back the
    /// secret and `t2 - 1` do not.
    fn reshare_to(t: Option<u16>, count: u16, dealers: &[u16], new_n: u16, t2: u16) {
        let secret = F::random(&mut OsRng);
        let old = old_key(secret, t, count);
        let keys = dealt_by(&old, dealers);
        let participants = (dealers.len() as u16).max(new_n);
        let params = |me: u16| ReshareParams {
            session: [3; 32],
            me,
            dealers: dealers
                .iter()
                .enumerate()
                .map(|(p, &o)| (p as u16 + 1, o))
                .collect(),
            holders: (1..=new_n).collect(),
            threshold: t2,
            old_public: old[0].public_key_package.clone(),
        };
        let results = run(participants, params, &keys);
        let mut shares = Vec::new();
        for m in 1..=new_n {
            let ReshareResult::Holder {
                key_package,
                public_key_package,
                ..
            } = &results[&m]
            else {
                panic!("holder {m} got no share");
            };
            let share: DirtyIncompleteKeyShare<Secp256k1> =
                serde_json::from_slice(key_package.expose()).unwrap();
            share.is_valid().unwrap();
            assert_eq!(share.i, m - 1);
            assert_eq!(
                share.key_info.chain_code,
                Some([7; 32]),
                "the chain code changed"
            );
            assert_eq!(
                share.key_info.shared_public_key.to_bytes(true).as_bytes(),
                to_point(&public::<C>(&secret))
                    .unwrap()
                    .to_bytes(true)
                    .as_bytes(),
                "the public key changed"
            );
            assert_eq!(
                serde_json::to_vec(&share.key_info).unwrap(),
                *public_key_package
            );
            let x: &SecretScalar<Secp256k1> = share.x.as_ref();
            let x: &Scalar<Secp256k1> = x.as_ref();
            let x = scalar::<C>(x.to_be_bytes().as_bytes()).unwrap();
            shares.push((n(u64::from(m)), x));
        }
        let interpolate = |pick: &[(frost_core::Scalar<C>, frost_core::Scalar<C>)]| {
            let points: Vec<_> = pick.iter().map(|p| p.0).collect();
            (0..pick.len())
                .map(|i| lagrange_at_zero::<C>(&points, i).unwrap() * pick[i].1)
                .fold(F::zero(), |a, b| a + b)
        };
        let t2 = usize::from(t2);
        assert!(interpolate(&shares[..t2]) == secret);
        assert!(interpolate(&shares[shares.len() - t2..]) == secret);
        assert!(interpolate(&shares[..t2 - 1]) != secret);
    }

    #[test]
    fn a_threshold_ecdsa_key_is_reshared_to_other_thresholds_with_its_key_and_chain_code() {
        // 2-of-3 → 3-of-5 (dealers 1 and 3), and 3-of-5 → 2-of-3 (dealers 2, 4, 5).
        reshare_to(Some(2), 3, &[1, 3], 5, 3);
        reshare_to(Some(3), 5, &[2, 4, 5], 3, 2);
        // The same set and threshold: the refresh cggmp21 0.6 lacks for t-of-n keys.
        reshare_to(Some(2), 3, &[1, 2, 3], 3, 2);
    }

    #[test]
    fn an_n_of_n_ecdsa_key_without_vss_becomes_a_threshold_key() {
        reshare_to(None, 2, &[1, 2], 3, 2);
        reshare_to(None, 3, &[1, 2, 3], 3, 3);
    }

    /// The reshared shares sign: a 2-of-3 key moved to three new holders (2-of-3 again,
    /// with new shares), completed with aux info for the new set, signs through
    /// cggmp21, and k256 accepts the signature under the unchanged public key.
    #[cfg(feature = "bench")]
    #[test]
    fn reshared_ecdsa_shares_sign_under_the_unchanged_key() {
        use crate::engine::cggmp::tests::test_primes;
        use crate::engine::cggmp::{EcdsaKeyShare, simulate};
        use k256::ecdsa::signature::hazmat::PrehashVerifier;
        let secret = F::random(&mut OsRng);
        let old = old_key(secret, Some(2), 3);
        let keys = dealt_by(&old, &[1, 3]);
        let params = |me: u16| ReshareParams {
            session: [5; 32],
            me,
            dealers: vec![(1, 1), (2, 3)],
            holders: vec![1, 2, 3],
            threshold: 2,
            old_public: old[0].public_key_package.clone(),
        };
        let results = run(3, params, &keys);
        let aux = simulate::aux_info(3, (0..3).map(test_primes).collect()).unwrap();
        let shares: Vec<EcdsaKeyShare> = (1..=3u16)
            .map(|m| {
                let ReshareResult::Holder { key_package, .. } = &results[&m] else {
                    panic!("no share");
                };
                let core: DirtyIncompleteKeyShare<Secp256k1> =
                    serde_json::from_slice(key_package.expose()).unwrap();
                let core = core.validate().unwrap();
                cggmp21::KeyShare::from_parts((core, aux[usize::from(m) - 1].clone())).unwrap()
            })
            .collect();
        let digest = [9u8; 32];
        let sig = simulate::sign(&shares, &[0, 2], &digest).unwrap();
        let pk = to_point(&public::<C>(&secret)).unwrap().to_bytes(true);
        let vk = k256::ecdsa::VerifyingKey::from_sec1_bytes(pk.as_bytes()).unwrap();
        let sig = k256::ecdsa::Signature::from_slice(&sig).unwrap();
        vk.verify_prehash(&digest, &sig).unwrap();
    }

    #[test]
    fn an_additive_key_needs_every_holder_to_deal() {
        let old = old_key(n(5), None, 3);
        let p = ReshareParams {
            session: [4; 32],
            me: 1,
            dealers: vec![(1, 1), (2, 2)],
            holders: vec![1, 2],
            threshold: 2,
            old_public: old[0].public_key_package.clone(),
        };
        let e = reshare_step(&p, Some(&old[0]), &ReshareState::Start, &Inbox::default())
            .err()
            .unwrap();
        assert!(e.to_string().contains("all of its holders"), "{e}");
    }
}
