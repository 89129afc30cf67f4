//! FROST signing with preprocessed nonces: FROST's own preprocessing stage (RFC 9591
//! section 5.1 leaves when commitments are made to the application). A signer makes
//! nonces ahead of time and hands their commitments out; a signing request then carries
//! the message and one commitment per signer, and each signer answers with its share in
//! one round trip. Binding factors tie every share to the message and the whole
//! commitment list, which is what makes precommitted nonces safe in FROST.
//!
//! I/O-free like the rest of the engine: the caller keeps the nonces (in memory only)
//! and guarantees each is used at most once by handing it over by value.

use super::{EngineError, KeyMaterial, blame, bug, ident, malformed};
use crate::secret::{Secret, SecretBytes};
use frost_core::keys::{KeyPackage, PublicKeyPackage};
use frost_core::round1::{SigningCommitments, SigningNonces};
use frost_core::round2::SignatureShare;
use frost_core::{Ciphersuite, SigningPackage};
use rand::rngs::OsRng;
use std::collections::BTreeMap;

/// One preprocessed nonce: the secret nonces (serialized, zeroized on drop) and their
/// public commitments.
pub struct Preprocessed {
    /// `SigningNonces`, serialized.
    pub nonces: SecretBytes,
    /// `SigningCommitments`, serialized.
    pub commitment: Vec<u8>,
}

fn package<C: Ciphersuite>(
    commitments: &BTreeMap<u16, Vec<u8>>,
    message: &[u8],
) -> Result<SigningPackage<C>, EngineError> {
    let mut map = BTreeMap::new();
    for (&i, c) in commitments {
        map.insert(
            ident::<C>(i)?,
            SigningCommitments::<C>::deserialize(c)
                .map_err(|_| malformed(i, "signing commitment"))?,
        );
    }
    Ok(SigningPackage::new(map, message))
}

/// A share made ready for many signatures: its packages deserialized once (a
/// `KeyPackage` and a `PublicKeyPackage` take about 0.1 and 0.2 ms to read back, more
/// than a share's arithmetic). A node keeps one per key while it runs.
pub trait Prepared: Send + Sync {
    /// Makes `n` nonces for this share.
    fn preprocess(&self, n: usize) -> Result<Vec<Preprocessed>, EngineError>;
    /// Party `me`'s signature share of `message` with the preprocessed `nonces`, under
    /// the signers' `commitments` (by party index). The nonces are consumed; the
    /// commitment listed for `me` must be theirs, so a coordinator cannot make a signer
    /// sign under a commitment it did not make.
    fn share(
        &self,
        me: u16,
        nonces: SecretBytes,
        commitments: &BTreeMap<u16, Vec<u8>>,
        message: &[u8],
    ) -> Result<Vec<u8>, EngineError>;
    /// The signature from every signer's share; verified before it is returned. A
    /// share that does not verify names its signer.
    fn aggregate(
        &self,
        commitments: &BTreeMap<u16, Vec<u8>>,
        shares: &BTreeMap<u16, Vec<u8>>,
        message: &[u8],
    ) -> Result<Vec<u8>, EngineError>;
}

struct PreparedKey<C: Ciphersuite> {
    kp: KeyPackage<C>,
    public: PublicKeyPackage<C>,
}

/// `key` made ready for signing (see [`Prepared`]).
pub fn prepare<C: Ciphersuite + 'static>(
    key: &KeyMaterial,
) -> Result<Box<dyn Prepared>, EngineError> {
    Ok(Box::new(PreparedKey::<C> {
        kp: KeyPackage::<C>::deserialize(key.key_package.expose()).map_err(bug)?,
        public: PublicKeyPackage::<C>::deserialize(&key.public_key_package).map_err(bug)?,
    }))
}

impl<C: Ciphersuite> Prepared for PreparedKey<C>
where
    KeyPackage<C>: Send + Sync,
    PublicKeyPackage<C>: Send + Sync,
{
    fn preprocess(&self, n: usize) -> Result<Vec<Preprocessed>, EngineError> {
        (0..n)
            .map(|_| {
                let (nonces, commitments) =
                    frost_core::round1::commit(self.kp.signing_share(), &mut OsRng);
                Ok(Preprocessed {
                    nonces: Secret::new(nonces.serialize().map_err(bug)?),
                    commitment: commitments.serialize().map_err(bug)?,
                })
            })
            .collect()
    }

    fn share(
        &self,
        me: u16,
        nonces: SecretBytes,
        commitments: &BTreeMap<u16, Vec<u8>>,
        message: &[u8],
    ) -> Result<Vec<u8>, EngineError> {
        let nonces = SigningNonces::<C>::deserialize(nonces.expose()).map_err(bug)?;
        let mine = nonces.commitments().serialize().map_err(bug)?;
        if commitments.get(&me) != Some(&mine) {
            return Err(EngineError::Bug(
                "the request lists another commitment for this signer than its nonce's".into(),
            ));
        }
        let signers: Vec<u16> = commitments.keys().copied().collect();
        let package = package::<C>(commitments, message)?;
        let share = frost_core::round2::sign(&package, &nonces, &self.kp)
            .map_err(|e| blame(e, &signers))?;
        Ok(share.serialize())
    }

    fn aggregate(
        &self,
        commitments: &BTreeMap<u16, Vec<u8>>,
        shares: &BTreeMap<u16, Vec<u8>>,
        message: &[u8],
    ) -> Result<Vec<u8>, EngineError> {
        let signers: Vec<u16> = commitments.keys().copied().collect();
        let package = package::<C>(commitments, message)?;
        let mut map = BTreeMap::new();
        for (&i, s) in shares {
            map.insert(
                ident::<C>(i)?,
                SignatureShare::<C>::deserialize(s).map_err(|_| malformed(i, "signature share"))?,
            );
        }
        let signature =
            frost_core::aggregate(&package, &map, &self.public).map_err(|e| blame(e, &signers))?;
        self.public
            .verifying_key()
            .verify(message, &signature)
            .map_err(|e| bug(format!("aggregate signature does not verify: {e}")))?;
        signature.serialize().map_err(bug)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type C = frost_ed25519::Ed25519Sha512;

    /// Shares of a key from a trusted dealer (tests only), by party 1..=n.
    fn dealt_keys<C: Ciphersuite>(n: u16, t: u16) -> Vec<KeyMaterial> {
        let (shares, public) = frost_core::keys::generate_with_dealer::<C, _>(
            n,
            t,
            frost_core::keys::IdentifierList::Default,
            &mut OsRng,
        )
        .unwrap();
        (1..=n)
            .map(|i| {
                let kp =
                    KeyPackage::<C>::try_from(shares[&ident::<C>(i).unwrap()].clone()).unwrap();
                KeyMaterial {
                    key_package: Secret::new(kp.serialize().unwrap()),
                    public_key_package: public.serialize().unwrap(),
                }
            })
            .collect()
    }

    #[test]
    fn preprocessed_shares_make_a_valid_signature_and_bad_ones_are_named() {
        let dealt = dealt_keys::<C>(3, 2);
        let keys: Vec<Box<dyn Prepared>> = dealt.iter().map(|k| prepare::<C>(k).unwrap()).collect();
        let message = b"one round trip";
        let pre: Vec<Preprocessed> = [1usize, 3]
            .iter()
            .map(|&i| keys[i - 1].preprocess(1).unwrap().pop().unwrap())
            .collect();
        let commitments: BTreeMap<u16, Vec<u8>> = [
            (1u16, pre[0].commitment.clone()),
            (3, pre[1].commitment.clone()),
        ]
        .into();
        let [p1, p3] = <[Preprocessed; 2]>::try_from(pre).ok().unwrap();
        let s1 = keys[0].share(1, p1.nonces, &commitments, message).unwrap();
        let s3 = keys[2].share(3, p3.nonces, &commitments, message).unwrap();
        let shares: BTreeMap<u16, Vec<u8>> = [(1u16, s1.clone()), (3, s3)].into();
        let sig = keys[0].aggregate(&commitments, &shares, message).unwrap();
        let public = PublicKeyPackage::<C>::deserialize(&dealt[0].public_key_package).unwrap();
        let sig = frost_core::Signature::<C>::deserialize(&sig).unwrap();
        public.verifying_key().verify(message, &sig).unwrap();
        // A share for another message is refused at aggregation, naming its signer.
        let other = keys[2].preprocess(1).unwrap().pop().unwrap();
        let mut c2 = commitments.clone();
        c2.insert(3, other.commitment.clone());
        let wrong = keys[2]
            .share(3, other.nonces, &c2, b"something else")
            .unwrap();
        let bad: BTreeMap<u16, Vec<u8>> = [(1u16, s1), (3, wrong)].into();
        match keys[0].aggregate(&commitments, &bad, message) {
            Err(EngineError::PeerMisbehaved { culprits, .. }) => assert_eq!(culprits, vec![3]),
            other => panic!("expected party 3 blamed, got {:?}", other.map(|_| ())),
        }
        // A signer never signs under a commitment that is not its own.
        let fresh = keys[0].preprocess(1).unwrap().pop().unwrap();
        assert!(
            keys[0]
                .share(1, fresh.nonces, &commitments, message)
                .is_err()
        );
    }
}
