//! Verifiable secret redistribution (Desmedt–Jajodia 1997; Wong–Wang–Wing 2002): the
//! arithmetic of a reshare, generic over the group. No I/O, no protocol state.
//!
//! A key's secret `s` is shared among old holders at evaluation points `xᵢ` (sᵢ = f(xᵢ),
//! f of degree t−1, f(0) = s). Any t of them, a set D, can move it to new holders at
//! points `yₘ` with a new threshold t′, without anyone learning `s`:
//! - dealer i ∈ D weighs its share by its Lagrange coefficient at zero over D,
//!   wᵢ = λᵢ·sᵢ (so Σᵢ wᵢ = s), and deals wᵢ with a fresh random polynomial gᵢ of degree
//!   t′−1: Feldman commitments Cᵢₖ = aᵢₖ·G, and the evaluation gᵢ(yₘ) to each new holder;
//! - anyone checks Cᵢ₀ = λᵢ·Yᵢ against dealer i's public share Yᵢ in the old public key
//!   package (so a dealer cannot deal anything but its own weighted share), and
//!   Σᵢ Cᵢ₀ = Y, the group key;
//! - new holder m checks gᵢ(yₘ)·G = Σₖ Cᵢₖ·yₘᵏ for each dealer, and its new share is
//!   s′ₘ = Σᵢ gᵢ(yₘ); the new public shares are Y′ₘ = Σₖ (Σᵢ Cᵢₖ)·yₘᵏ, the group key
//!   Σᵢ Cᵢ₀ = Y unchanged.
//!
//! The group comes from a frost-core `Ciphersuite` only because frost-core's `Group`
//! and `Field` traits are the group abstraction this crate already depends on; FROST
//! keys use their own ciphersuite, and an ECDSA key (secp256k1) uses frost-secp256k1's,
//! whose group is the same curve. Nothing of FROST's protocol is used here.

use frost_core::{Ciphersuite, Element, Field, Group, Scalar};
use rand::{CryptoRng, RngCore};

/// A ciphersuite's scalar field.
type F<C> = <<C as Ciphersuite>::Group as Group>::Field;

/// Why an input to the arithmetic cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RedistributeError {
    /// Bytes that are not a canonical scalar of the group's field.
    #[error("not a scalar of the group")]
    BadScalar,
    /// Bytes that are not an element of the group (or are its identity).
    #[error("not an element of the group")]
    BadElement,
    /// Two evaluation points are equal, or one is zero.
    #[error("evaluation points must be distinct and non-zero")]
    BadPoints,
}

/// A scalar from its canonical encoding.
pub fn scalar<C: Ciphersuite>(bytes: &[u8]) -> Result<Scalar<C>, RedistributeError> {
    let buf = <F<C> as Field>::Serialization::try_from(bytes)
        .map_err(|_| RedistributeError::BadScalar)?;
    <F<C>>::deserialize(&buf).map_err(|_| RedistributeError::BadScalar)
}

/// A scalar's canonical encoding.
pub fn scalar_bytes<C: Ciphersuite>(s: &Scalar<C>) -> Vec<u8> {
    <F<C>>::serialize(s).as_ref().to_vec()
}

/// A group element from its encoding (the identity is refused).
pub fn element<C: Ciphersuite>(bytes: &[u8]) -> Result<Element<C>, RedistributeError> {
    let buf = <C::Group as Group>::Serialization::try_from(bytes)
        .map_err(|_| RedistributeError::BadElement)?;
    <C::Group>::deserialize(&buf).map_err(|_| RedistributeError::BadElement)
}

/// A group element's encoding; `None` for the identity, which has none.
pub fn element_bytes<C: Ciphersuite>(e: &Element<C>) -> Option<Vec<u8>> {
    <C::Group>::serialize(e).ok().map(|s| s.as_ref().to_vec())
}

/// `s·G`.
pub fn public<C: Ciphersuite>(s: &Scalar<C>) -> Element<C> {
    <C::Group>::generator() * *s
}

/// The Lagrange coefficient at zero of `points[i]` over `points`:
/// λᵢ = Πⱼ≠ᵢ xⱼ / (xⱼ − xᵢ).
pub fn lagrange_at_zero<C: Ciphersuite>(
    points: &[Scalar<C>],
    i: usize,
) -> Result<Scalar<C>, RedistributeError> {
    let xi = *points.get(i).ok_or(RedistributeError::BadPoints)?;
    let (mut num, mut den) = (<F<C>>::one(), <F<C>>::one());
    for (j, xj) in points.iter().enumerate() {
        if *xj == <F<C>>::zero() {
            return Err(RedistributeError::BadPoints);
        }
        if j != i {
            num = num * *xj;
            den = den * (*xj - xi);
        }
    }
    let inv = <F<C>>::invert(&den).map_err(|_| RedistributeError::BadPoints)?;
    Ok(num * inv)
}

/// Σₖ cₖ·xᵏ (Horner).
fn evaluate<C: Ciphersuite>(coefficients: &[Scalar<C>], x: &Scalar<C>) -> Scalar<C> {
    coefficients
        .iter()
        .rev()
        .fold(<F<C>>::zero(), |acc, c| acc * *x + *c)
}

/// Σₖ Cₖ·xᵏ: the public value, under `commitments`, of the polynomial at `x` (Horner).
pub fn evaluate_commitments<C: Ciphersuite>(
    commitments: &[Element<C>],
    x: &Scalar<C>,
) -> Element<C> {
    commitments
        .iter()
        .rev()
        .fold(<C::Group>::identity(), |acc, c| acc * *x + *c)
}

/// One dealer's dealing: commitments to a fresh polynomial of degree `threshold − 1`
/// whose constant is `secret`, and its evaluation at each of `at`, in order. The
/// polynomial itself is dropped here; only its evaluations leave.
pub struct Dealing<C: Ciphersuite> {
    /// Cₖ = aₖ·G, k = 0..threshold.
    pub commitments: Vec<Element<C>>,
    /// g(yₘ) for each point of `at`, in order (secret: one for each new holder).
    pub evaluations: Vec<Scalar<C>>,
}

/// Deals `secret` to the points `at` with threshold `threshold` (at least 1).
pub fn deal<C: Ciphersuite, R: RngCore + CryptoRng>(
    rng: &mut R,
    secret: Scalar<C>,
    threshold: u16,
    at: &[Scalar<C>],
) -> Result<Dealing<C>, RedistributeError> {
    distinct_nonzero::<C>(at)?;
    let mut coefficients = Vec::with_capacity(usize::from(threshold.max(1)));
    coefficients.push(secret);
    for _ in 1..threshold.max(1) {
        coefficients.push(<F<C>>::random(rng));
    }
    let commitments = coefficients.iter().map(public::<C>).collect();
    let evaluations = at.iter().map(|y| evaluate::<C>(&coefficients, y)).collect();
    // The coefficients are overwritten before they are dropped (frost-core's scalars
    // do not all implement `Zeroize`).
    for c in coefficients.iter_mut() {
        *c = <F<C>>::zero();
    }
    Ok(Dealing {
        commitments,
        evaluations,
    })
}

fn distinct_nonzero<C: Ciphersuite>(points: &[Scalar<C>]) -> Result<(), RedistributeError> {
    for (i, x) in points.iter().enumerate() {
        if *x == <F<C>>::zero() || points[..i].contains(x) {
            return Err(RedistributeError::BadPoints);
        }
    }
    Ok(())
}

/// Whether `evaluation` is the value at `x` of the polynomial under `commitments`.
pub fn evaluation_matches<C: Ciphersuite>(
    commitments: &[Element<C>],
    x: &Scalar<C>,
    evaluation: &Scalar<C>,
) -> bool {
    public::<C>(evaluation) == evaluate_commitments::<C>(commitments, x)
}

/// The commitments of the summed polynomial: Σᵢ Cᵢₖ for each k. Every dealing must have
/// the same number of commitments.
pub fn sum_commitments<C: Ciphersuite>(dealings: &[Vec<Element<C>>]) -> Vec<Element<C>> {
    let len = dealings.first().map_or(0, Vec::len);
    (0..len)
        .map(|k| {
            dealings
                .iter()
                .fold(<C::Group>::identity(), |acc, d| acc + d[k])
        })
        .collect()
}

/// The sum of scalars (a new holder's share from its evaluations).
pub fn sum<C: Ciphersuite>(scalars: &[Scalar<C>]) -> Scalar<C> {
    scalars.iter().fold(<F<C>>::zero(), |acc, s| acc + *s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use frost_secp256k1::Secp256K1Sha256 as K;
    use rand::rngs::OsRng;

    fn n(i: u64) -> Scalar<K> {
        (0..i).fold(<F<K>>::zero(), |acc, _| acc + <F<K>>::one())
    }

    /// Shares `secret` with threshold `t` at 1..=count.
    fn shares(secret: Scalar<K>, t: u16, count: u64) -> Vec<Scalar<K>> {
        let at: Vec<_> = (1..=count).map(n).collect();
        deal::<K, _>(&mut OsRng, secret, t, &at)
            .unwrap()
            .evaluations
    }

    fn interpolate(points: &[Scalar<K>], values: &[Scalar<K>]) -> Scalar<K> {
        (0..points.len())
            .map(|i| lagrange_at_zero::<K>(points, i).unwrap() * values[i])
            .fold(<F<K>>::zero(), |a, b| a + b)
    }

    #[test]
    fn any_threshold_of_the_new_shares_and_none_fewer_give_back_the_secret() {
        let secret = <F<K>>::random(&mut OsRng);
        let old = shares(secret, 2, 3);
        // Dealers 1 and 3 move the key to five holders with threshold 3.
        let dealers = [n(1), n(3)];
        let new_points: Vec<_> = (1..=5).map(n).collect();
        let dealings: Vec<Dealing<K>> = [0usize, 2]
            .iter()
            .enumerate()
            .map(|(d, &i)| {
                let w = lagrange_at_zero::<K>(&dealers, d).unwrap() * old[i];
                deal::<K, _>(&mut OsRng, w, 3, &new_points).unwrap()
            })
            .collect();
        let constants: Vec<_> = dealings.iter().map(|d| d.commitments[0]).collect();
        assert!(
            constants
                .iter()
                .fold(<K as Ciphersuite>::Group::identity(), |a, b| a + *b)
                == public::<K>(&secret)
        );
        let new: Vec<Scalar<K>> = (0..5)
            .map(|m| {
                for d in &dealings {
                    assert!(evaluation_matches::<K>(
                        &d.commitments,
                        &new_points[m],
                        &d.evaluations[m]
                    ));
                }
                sum::<K>(
                    &dealings
                        .iter()
                        .map(|d| d.evaluations[m])
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        let summed = sum_commitments::<K>(
            &dealings
                .iter()
                .map(|d| d.commitments.clone())
                .collect::<Vec<_>>(),
        );
        for m in 0..5 {
            assert!(public::<K>(&new[m]) == evaluate_commitments::<K>(&summed, &new_points[m]));
        }
        // Holders 2, 4 and 5 recover the secret; 2 and 4 alone do not.
        let pick = [1usize, 3, 4];
        let pts: Vec<_> = pick.iter().map(|&m| new_points[m]).collect();
        let vals: Vec<_> = pick.iter().map(|&m| new[m]).collect();
        assert!(interpolate(&pts, &vals) == secret);
        assert!(interpolate(&pts[..2], &vals[..2]) != secret);
        // An old share does not combine with a new one.
        assert!(interpolate(&[n(1), new_points[1]], &[old[0], new[1]]) != secret);
    }

    #[test]
    fn a_tampered_evaluation_and_bad_points_are_caught() {
        let at: Vec<_> = (1..=3).map(n).collect();
        let d = deal::<K, _>(&mut OsRng, n(7), 2, &at).unwrap();
        assert!(evaluation_matches::<K>(
            &d.commitments,
            &at[1],
            &d.evaluations[1]
        ));
        let tampered = d.evaluations[1] + <F<K>>::one();
        assert!(!evaluation_matches::<K>(&d.commitments, &at[1], &tampered));
        assert!(!evaluation_matches::<K>(
            &d.commitments,
            &at[0],
            &d.evaluations[1]
        ));
        assert_eq!(
            deal::<K, _>(&mut OsRng, n(7), 2, &[n(1), n(1)]).err(),
            Some(RedistributeError::BadPoints)
        );
        assert_eq!(
            lagrange_at_zero::<K>(&[n(0), n(1)], 1).err(),
            Some(RedistributeError::BadPoints)
        );
        let bytes = scalar_bytes::<K>(&n(5));
        assert!(scalar::<K>(&bytes).unwrap() == n(5));
        assert_eq!(
            scalar::<K>(&bytes[1..]).err(),
            Some(RedistributeError::BadScalar)
        );
        let e = element_bytes::<K>(&public::<K>(&n(5))).unwrap();
        assert!(element::<K>(&e).unwrap() == public::<K>(&n(5)));
        assert!(element_bytes::<K>(&<K as Ciphersuite>::Group::identity()).is_none());
    }
}
