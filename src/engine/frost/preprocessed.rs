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
use frost_core::keys::{KeyPackage, PublicKeyPackage};
use frost_core::round1::{SigningCommitments, SigningNonces};
use frost_core::round2::SignatureShare;
use frost_core::{Ciphersuite, SigningPackage};
use rand::rngs::OsRng;
use std::any::Any;
use std::collections::BTreeMap;

/// One signer's secret nonces, kept in process memory only and zeroized when dropped
/// (frost-core's `SigningNonces`). Opaque: only the share it came from can use it.
pub struct Nonces(Box<dyn Any + Send + Sync>);

/// One preprocessed nonce: the secret nonces and their public commitment.
pub struct Preprocessed {
    /// The nonces.
    pub nonces: Nonces,
    /// `SigningCommitments`, serialized.
    pub commitment: Vec<u8>,
}

/// One signature's commitment list and message, read once for both the signer's share
/// and the coordinator's aggregate. Reading a commitment checks its two points (a
/// scalar multiplication each, for the subgroup check), so a node that reads each list
/// once does a fraction of the work of reading it per step.
pub struct Package {
    inner: Box<dyn Any + Send + Sync>,
    signers: Vec<u16>,
}

/// A share made ready for many signatures: its packages deserialized once (a
/// `KeyPackage` and a `PublicKeyPackage` take about 0.1 and 0.2 ms to read back, more
/// than a share's arithmetic). A node keeps one per key while it runs.
pub trait Prepared: Send + Sync {
    /// Makes `n` nonces for this share.
    fn preprocess(&self, n: usize) -> Result<Vec<Preprocessed>, EngineError>;
    /// The package of `message` under the signers' `commitments` (by party index),
    /// for signer `me` whose nonces are `own`. The commitment listed for `me` must be
    /// `own`'s, so a coordinator cannot make a signer sign under a commitment it did not
    /// make; it is taken from the nonces rather than read again.
    fn package(
        &self,
        me: u16,
        own: &Preprocessed,
        commitments: &BTreeMap<u16, Vec<u8>>,
        message: &[u8],
    ) -> Result<Package, EngineError>;
    /// This signer's signature share in `package`, with the nonces the package was made
    /// for. The nonces are consumed.
    fn share(&self, nonces: Nonces, package: &Package) -> Result<Vec<u8>, EngineError>;
    /// The signature from every signer's share; verified under the group key before it
    /// is returned (by frost-core's `aggregate`). A share that does not verify names
    /// its signer.
    fn aggregate(
        &self,
        package: &Package,
        shares: &BTreeMap<u16, Vec<u8>>,
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

fn mismatch() -> EngineError {
    bug("the nonces or package belong to another scheme's share")
}

impl<C: Ciphersuite + 'static> Prepared for PreparedKey<C>
where
    KeyPackage<C>: Send + Sync,
    PublicKeyPackage<C>: Send + Sync,
    SigningNonces<C>: Send + Sync,
    SigningPackage<C>: Send + Sync,
{
    fn preprocess(&self, n: usize) -> Result<Vec<Preprocessed>, EngineError> {
        (0..n)
            .map(|_| {
                let (nonces, commitments) =
                    frost_core::round1::commit(self.kp.signing_share(), &mut OsRng);
                Ok(Preprocessed {
                    nonces: Nonces(Box::new(nonces)),
                    commitment: commitments.serialize().map_err(bug)?,
                })
            })
            .collect()
    }

    fn package(
        &self,
        me: u16,
        own: &Preprocessed,
        commitments: &BTreeMap<u16, Vec<u8>>,
        message: &[u8],
    ) -> Result<Package, EngineError> {
        let nonces = own
            .nonces
            .0
            .downcast_ref::<SigningNonces<C>>()
            .ok_or_else(mismatch)?;
        if commitments.get(&me) != Some(&own.commitment) {
            return Err(EngineError::Bug(format!(
                "the request lists another commitment for signer {me} than its nonce's"
            )));
        }
        let mut map = BTreeMap::new();
        for (&i, c) in commitments {
            let commitment = if i == me {
                *nonces.commitments()
            } else {
                SigningCommitments::<C>::deserialize(c)
                    .map_err(|_| malformed(i, "signing commitment"))?
            };
            map.insert(ident::<C>(i)?, commitment);
        }
        Ok(Package {
            inner: Box::new(SigningPackage::new(map, message)),
            signers: commitments.keys().copied().collect(),
        })
    }

    fn share(&self, nonces: Nonces, package: &Package) -> Result<Vec<u8>, EngineError> {
        let nonces = nonces
            .0
            .downcast::<SigningNonces<C>>()
            .map_err(|_| mismatch())?;
        let pkg = package
            .inner
            .downcast_ref::<SigningPackage<C>>()
            .ok_or_else(mismatch)?;
        // `sign` also checks that the package lists these nonces' commitment.
        let share = frost_core::round2::sign(pkg, &nonces, &self.kp)
            .map_err(|e| blame(e, &package.signers))?;
        Ok(share.serialize())
    }

    fn aggregate(
        &self,
        package: &Package,
        shares: &BTreeMap<u16, Vec<u8>>,
    ) -> Result<Vec<u8>, EngineError> {
        let pkg = package
            .inner
            .downcast_ref::<SigningPackage<C>>()
            .ok_or_else(mismatch)?;
        let mut map = BTreeMap::new();
        for (&i, s) in shares {
            map.insert(
                ident::<C>(i)?,
                SignatureShare::<C>::deserialize(s).map_err(|_| malformed(i, "signature share"))?,
            );
        }
        // `aggregate` verifies the signature under the group key and returns it only if
        // it verifies (otherwise it names the signers whose shares do not), so a second
        // verification here would only double the work.
        let signature = frost_core::aggregate(pkg, &map, &self.public)
            .map_err(|e| blame(e, &package.signers))?;
        signature.serialize().map_err(bug)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

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
        let mut pre: Vec<Preprocessed> = [1usize, 3]
            .iter()
            .map(|&i| keys[i - 1].preprocess(1).unwrap().pop().unwrap())
            .collect();
        let commitments: BTreeMap<u16, Vec<u8>> = [
            (1u16, pre[0].commitment.clone()),
            (3, pre[1].commitment.clone()),
        ]
        .into();
        let p3 = pre.pop().unwrap();
        let p1 = pre.pop().unwrap();
        // Each signer reads the list once; the coordinator (1) aggregates with its own.
        let pkg1 = keys[0].package(1, &p1, &commitments, message).unwrap();
        let pkg3 = keys[2].package(3, &p3, &commitments, message).unwrap();
        let s1 = keys[0].share(p1.nonces, &pkg1).unwrap();
        let s3 = keys[2].share(p3.nonces, &pkg3).unwrap();
        let shares: BTreeMap<u16, Vec<u8>> = [(1u16, s1.clone()), (3, s3)].into();
        let sig = keys[0].aggregate(&pkg1, &shares).unwrap();
        let public = PublicKeyPackage::<C>::deserialize(&dealt[0].public_key_package).unwrap();
        let sig = frost_core::Signature::<C>::deserialize(&sig).unwrap();
        public.verifying_key().verify(message, &sig).unwrap();
        // A share for another message is refused at aggregation, naming its signer.
        let other = keys[2].preprocess(1).unwrap().pop().unwrap();
        let mut c2 = commitments.clone();
        c2.insert(3, other.commitment.clone());
        let pkg_other = keys[2].package(3, &other, &c2, b"something else").unwrap();
        let wrong = keys[2].share(other.nonces, &pkg_other).unwrap();
        let bad: BTreeMap<u16, Vec<u8>> = [(1u16, s1), (3, wrong)].into();
        match keys[0].aggregate(&pkg1, &bad) {
            Err(EngineError::PeerMisbehaved { culprits, .. }) => assert_eq!(culprits, vec![3]),
            other => panic!("expected party 3 blamed, got {:?}", other.map(|_| ())),
        }
        // A signer never signs under a commitment that is not its own: the list must
        // carry its nonces' commitment.
        let fresh = keys[0].preprocess(1).unwrap().pop().unwrap();
        assert!(matches!(
            keys[0].package(1, &fresh, &commitments, message),
            Err(EngineError::Bug(_))
        ));
        // Nor with nonces other than the package's.
        let pkg_fresh = {
            let mut c = commitments.clone();
            c.insert(1, fresh.commitment.clone());
            keys[0].package(1, &fresh, &c, message).unwrap()
        };
        let stray = keys[0].preprocess(1).unwrap().pop().unwrap();
        assert!(keys[0].share(stray.nonces, &pkg_fresh).is_err());
        // A malformed commitment of another signer is named.
        let mut c3 = commitments.clone();
        c3.insert(3, vec![0u8; 7]);
        let again = keys[0].preprocess(1).unwrap().pop().unwrap();
        c3.insert(1, again.commitment.clone());
        assert!(matches!(
            keys[0].package(1, &again, &c3, message),
            Err(EngineError::PeerMisbehaved { culprits, .. }) if culprits == vec![3]
        ));
    }
}
