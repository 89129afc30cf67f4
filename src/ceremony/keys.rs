//! A ceremony's use of the key store: storing a new key, reading and writing this
//! party's share, and checking that a plan's key is here and may sign.

use super::error::{Error, Result};
use super::{Ceremony, Outcome, shares};
use crate::engine::KeyMaterial;
use crate::identity::{Card, Identity};
use crate::plan::{KeygenPlan, Plan};
use crate::pubkey;
use crate::secret::Secret;
use crate::store::db::{Db, KeyRecord, KeyStatus};
use crate::store::keystore::{self, ShareFile};
use crate::store::vault::Vault;

impl Ceremony {
    /// Stores a new key: the share file (sealed, atomic) first, then the metadata.
    /// Idempotent, so a crash between the two is repaired by the next step.
    pub(super) fn store_key(
        &mut self,
        p: &KeygenPlan,
        key_package: &[u8],
        public_key_package: &[u8],
        group_key: &[u8],
        transcript: [u8; 32],
    ) -> Result<Outcome> {
        let key_id = pubkey::key_id(p.scheme, group_key);
        self.write_share(p.scheme, &key_id, key_package, public_key_package)?;
        crate::fault::point("share-written");
        if self.db.key(&key_id)?.is_none() {
            let now = crate::clock::now();
            self.db.insert_key(&KeyRecord {
                id: key_id.clone(),
                scheme: p.scheme,
                public_key: hex::encode(group_key),
                threshold: p.threshold,
                n: p.parties.len() as u16,
                my_index: self.me,
                parties_json: serde_json::to_string(&p.parties)
                    .map_err(|e| Error::bug("encode").cause(e))?,
                label: p.label.clone(),
                status: KeyStatus::Active,
                session_id: self.sid.clone(),
                transcript: hex::encode(transcript),
                created_at: now,
                updated_at: now,
                delete_after: None,
            })?;
        }
        Ok(Outcome::Keygen {
            key_id,
            scheme: p.scheme.id().into(),
            public_key: hex::encode(pubkey::standard_form(p.scheme, group_key)),
            transcript: hex::encode(transcript),
        })
    }

    /// Writes this party's share file for `key_id` (sealed, atomically replacing any
    /// previous share).
    pub(super) fn write_share(
        &self,
        scheme: crate::scheme::Scheme,
        key_id: &str,
        key_package: &[u8],
        public_key_package: &[u8],
    ) -> Result<()> {
        self.write_share_at(scheme, key_id, self.me, key_package, public_key_package)
    }

    /// As [`Ceremony::write_share`], for this party's `index` in the key (a reshare's
    /// new holder is numbered in the new key, not in the session).
    pub(super) fn write_share_at(
        &self,
        scheme: crate::scheme::Scheme,
        key_id: &str,
        index: u16,
        key_package: &[u8],
        public_key_package: &[u8],
    ) -> Result<()> {
        let share = ShareFile {
            version: 1,
            scheme: scheme.id().into(),
            key_id: key_id.into(),
            index,
            key_package: hex::encode(key_package),
            public_key_package: hex::encode(public_key_package),
        };
        keystore::write_share(&*self.vault, &self.identity, &share)?;
        Ok(())
    }

    /// Refuses unless `key_id` may sign now. Checked before every signature share or
    /// presignature is computed, not only when the session opened: a key suspended while
    /// its session waits must not sign.
    pub(super) fn ensure_key_signs(&self, key_id: &str) -> Result<()> {
        let key = self
            .db
            .key(key_id)?
            .ok_or_else(|| Error::rejected(format!("key {key_id} is no longer in this home")))?;
        Ok(keystore::ensure_signs(&key)?)
    }
}

/// Checks a refresh or repair plan against this party's store (its vault and open
/// database `db`), as taking part will.
pub fn check_plan_here(vault: &dyn Vault, db: &Db, plan: &Plan, me: u16) -> Result<()> {
    shares::check_plan(vault, db, plan, me)
}

/// Loads and decrypts this party's share of `key_id`.
pub fn load_share(vault: &dyn Vault, identity: &Identity, key_id: &str) -> Result<KeyMaterial> {
    let share = keystore::read_share(vault, identity, key_id)?;
    let kp = Secret::new(
        hex::decode(&share.key_package)
            .map_err(|e| Error::bug("share file is damaged").cause(e))?,
    );
    Ok(KeyMaterial {
        key_package: kp,
        public_key_package: hex::decode(&share.public_key_package)
            .map_err(|e| Error::bug("share file is damaged").cause(e))?,
    })
}

pub(super) fn check_sign_plan(db: &Db, p: &crate::plan::SignPlan, me: u16) -> Result<()> {
    let key = db.key(&p.key_id)?.ok_or_else(|| {
        Error::rejected(format!("the plan's key {} is not in this home", p.key_id))
    })?;
    if key.public_key != p.group_public_key || key.scheme != p.scheme {
        return Err(Error::rejected(format!(
            "the plan's public key or scheme does not match key {} in this home",
            p.key_id
        )));
    }
    let parties: Vec<Card> = key.parties()?;
    if parties != p.parties || key.threshold != p.threshold {
        return Err(Error::rejected(
            "the plan's parties or threshold do not match the key's",
        ));
    }
    keystore::ensure_signs(&key)?;
    if !p.signers.contains(&me) {
        return Err(Error::rejected(format!(
            "you (party {me}) are not one of this plan's signers {:?}",
            p.signers
        )));
    }
    Ok(())
}
