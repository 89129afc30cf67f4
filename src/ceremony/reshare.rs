//! Resharing (`mpc reshare`): some of a key's holders move it to a new party set and
//! threshold; the public key stays (`engine::frost::reshare` has the protocol,
//! `engine::redistribute` the arithmetic and its references, `engine::cggmp::reshare`
//! the ECDSA key format).
//!
//! An ECDSA reshare also needs aux info (Paillier keys) for the new party set: the plan
//! either reuses the set's earlier aux info, or the new holders generate it first in
//! the same session (`Protocol::Aux` messages, as in an ECDSA keygen), and only then
//! take part in the reshare proper. At the switch a new holder's share is the complete
//! cggmp21 key share (new core share and that aux info, accepted by cggmp21's own
//! consistency check); presignatures of the old share are destroyed everywhere.
//!
//! As in a refresh, nothing switches until every new holder has confirmed the same new
//! public key package: a new share lives only in the party's encrypted session journal
//! until then, and an old holder's key refuses to sign meanwhile (`rotating`). At the
//! switch a new holder writes its new share (replacing an old one in one rename) and
//! its home's record of the key now names the new parties, threshold and its index; a
//! dealer that holds no new share destroys its old one and its record becomes
//! `reshared` (kept, with its audit and addresses). If the session aborts, every old
//! share stays as it was and the key is active again.
//!
//! Old holders that do not take part keep their old shares, which no longer combine
//! with the new ones; but the key's threshold of old shares still combine with each
//! other, so every old holder must destroy its old share and its backups (README).

use super::ecdsa::EcdsaState;
use super::error::{Advice, Error, Result};
use super::frost::Generic;
use super::journal::JournalState;
use super::{Ceremony, Outcome, load_share};
use crate::engine::cggmp::{self, EcdsaKeyShare};
use crate::engine::frost::reshare::{ReshareParams, ReshareResult, ReshareState};
use crate::engine::{self, KeyMaterial, Step};
use crate::identity::Card;
use crate::plan::{AuxMode, Plan, ResharePlan, party_set_id};
use crate::pubkey;
use crate::scheme::Scheme;
use crate::secret::Secret;
use crate::store::Home;
use crate::store::db::{Db, KeyRecord, KeyStatus, change_key_status};
use crate::store::keystore;
use crate::store::vault::{Item, Vault};

/// An ECDSA share as stored: a complete cggmp21 key share (JSON).
fn ecdsa_share(share: &KeyMaterial) -> Result<EcdsaKeyShare> {
    serde_json::from_slice(share.key_package.expose())
        .map_err(|e| Error::bug("the ECDSA key share is damaged").cause(e))
}

/// A key's public side as a reshare plan carries it, from a share of it: the FROST
/// public key package, or an ECDSA key's cggmp21 key info (which holds its chain code).
pub fn public_side(scheme: Scheme, share: &KeyMaterial) -> Result<Vec<u8>> {
    if scheme.is_frost() {
        return Ok(share.public_key_package.clone());
    }
    cggmp::reshare::public_side(&ecdsa_share(share)?)
        .map_err(|e| Error::bug("cannot read the key's public side").cause(e))
}

/// A dealer's share as the reshare engine takes it (for ECDSA, the core share and key
/// info without the aux info; see `engine::cggmp::reshare`).
fn dealing_material(scheme: Scheme, share: KeyMaterial) -> Result<KeyMaterial> {
    if scheme.is_frost() {
        return Ok(share);
    }
    cggmp::reshare::material(&ecdsa_share(&share)?)
        .map_err(|e| Error::bug("cannot read the ECDSA key share").cause(e))
}

/// How a plan's ECDSA party set gets aux info when its maker does not say: reuse what
/// this home holds for exactly that set, else generate it in the session. `None` for
/// the FROST schemes, which have no aux info.
pub fn default_aux(home: &Home, scheme: Scheme, parties: &[Card]) -> Option<AuxMode> {
    (!scheme.is_frost()).then(|| match home.aux_path(&party_set_id(parties)).exists() {
        true => AuxMode::Reuse,
        false => AuxMode::Generate,
    })
}

/// Checks a reshare plan against this home before taking part: a dealer holds an
/// active share of exactly the plan's key; a new holder's home, if it knows the key,
/// knows the same key, active or reshared away from it earlier.
pub(super) fn check_plan(vault: &dyn Vault, db: &Db, p: &ResharePlan, me: u16) -> Result<()> {
    let record = db.key(&p.key_id)?;
    if let Some(k) = &record {
        let parties: Vec<Card> = k.parties()?;
        if k.public_key != p.group_public_key || k.scheme != p.scheme {
            return Err(Error::rejected(format!(
                "the plan's public key or scheme does not match key {} in this home",
                p.key_id
            )));
        }
        if p.deals(me) && (parties != p.key_parties || k.threshold != p.threshold) {
            return Err(Error::rejected(format!(
                "the plan's parties or threshold of key {} ({}-of-{}) do not match this home's ({}-of-{})",
                p.key_id,
                p.threshold,
                p.key_parties.len(),
                k.threshold,
                parties.len()
            )));
        }
        // A former holder whose share a reshare moved away (`reshared`) may be given a
        // new one; it deals nothing.
        let returning = k.status == KeyStatus::Reshared && !p.deals(me);
        if k.status != KeyStatus::Active && !returning {
            return Err(Error::rejected(format!(
                "key {} is {}; a reshare needs it active",
                p.key_id,
                k.status.as_str()
            ))
            .advise(match k.status {
                KeyStatus::Rotating => Advice::FinishRefresh,
                _ => Advice::SeeKey,
            }));
        }
    }
    if p.aux == Some(AuxMode::Reuse)
        && p.new_index_of(me).is_some()
        && !vault.contains(Item::Aux(&party_set_id(&p.new_parties())))
    {
        return Err(Error::rejected(
            "this plan reuses aux info, but this home has none for the new parties",
        )
        .advise(Advice::GenerateAux));
    }
    let Some(old) = p.dealt_by(me) else {
        return Ok(());
    };
    if record.is_none() {
        return Err(Error::rejected(format!(
            "the plan has you deal key {} as its party {old}, but the key is not in this home",
            p.key_id
        )));
    }
    if !vault.contains(Item::Share(&p.key_id)) {
        return Err(Error::rejected(format!(
            "this home has no share of key {} ({})",
            p.key_id,
            vault.locate(Item::Share(&p.key_id))
        ))
        .advise(Advice::RestoreOrRepair));
    }
    Ok(())
}

impl Ceremony {
    fn reshare_params(&self, p: &ResharePlan) -> Result<ReshareParams> {
        let mut dealers = p
            .dealers
            .iter()
            .map(|&o| {
                p.participant_of(o)
                    .map(|i| (i, o))
                    .ok_or_else(|| Error::bug("a dealer outside the plan"))
            })
            .collect::<Result<Vec<_>>>()?;
        dealers.sort_unstable();
        Ok(ReshareParams {
            session: self.session,
            me: self.me,
            dealers,
            holders: p.holders.clone(),
            threshold: p.new_threshold,
            old_public: hex::decode(&p.public_key_package)
                .map_err(|e| Error::bug("plan public key package").cause(e))?,
        })
    }

    /// One step of the reshare engine. `ecdsa` is an ECDSA reshare's aux-info state
    /// (finished, for a new holder that generated it: see `reshare_aux`).
    pub(super) fn reshare_step(
        &mut self,
        state: &ReshareState,
        ecdsa: Option<&EcdsaState>,
        inbox: &engine::Inbox,
    ) -> Result<Generic> {
        let Plan::Reshare(p) = &self.plan else {
            return Err(Error::bug("journal does not match the plan kind"));
        };
        let p = p.clone();
        let params = self.reshare_params(&p)?;
        // Only dealing (the first step) uses the old share: at a rerun after the switch
        // it may already be replaced or destroyed.
        let key = match p.deals(self.me) && matches!(state, ReshareState::Start) {
            true => Some(dealing_material(
                p.scheme,
                load_share(&*self.vault, &self.identity, &p.key_id)?,
            )?),
            false => None,
        };
        // A dealer checks the plan's public key package against its own share's: a
        // package with other public shares would get honest dealers blamed.
        if let Some(k) = &key
            && k.public_key_package != params.old_public
        {
            return Err(Error::rejected(format!(
                "the plan's public key package is not the one this home's share of key {} belongs to",
                p.key_id
            ))
            .advise(Advice::CompareFingerprint));
        }
        let step = engine::reshare_step(p.scheme, &params, key.as_ref(), state, inbox)
            .map_err(|e| self.blame(e))?;
        let group =
            hex::decode(&p.group_public_key).map_err(|e| Error::bug("plan key").cause(e))?;
        let outcome = |new_index: Option<u16>, transcript: [u8; 32]| Outcome::Reshare {
            key_id: p.key_id.clone(),
            scheme: p.scheme.id().into(),
            public_key: hex::encode(pubkey::standard_form(p.scheme, &group)),
            threshold: p.new_threshold,
            parties: p.new_parties().into_iter().map(|c| c.name).collect(),
            new_index,
            transcript: hex::encode(transcript),
        };
        match step {
            Step::Advanced { state, outgoing } => Ok(Generic::Advanced {
                state: JournalState::Reshare(state),
                outgoing,
            }),
            Step::Waiting { round, missing } => Ok(Generic::Waiting { round, missing }),
            Step::Done(ReshareResult::Holder {
                key_package,
                public_key_package,
                transcript,
            }) => {
                let index = p
                    .new_index_of(self.me)
                    .ok_or_else(|| Error::bug("a new share for a party that holds none"))?;
                // The switch: the new share replaces any old one in one rename; then
                // this home's record describes the new holding.
                match ecdsa {
                    None => self.write_share_at(
                        p.scheme,
                        &p.key_id,
                        index,
                        key_package.expose(),
                        &public_key_package,
                    )?,
                    Some(st) => {
                        // A complete cggmp21 key share: the new core share with the new
                        // party set's aux info.
                        let aux = self.reshare_aux_info(st)?;
                        let share = cggmp::reshare::complete(key_package.expose(), aux)
                            .map_err(|e| self.blame(e))?;
                        let json = Secret::new(
                            serde_json::to_vec(&share)
                                .map_err(|e| Error::bug("encode").cause(e))?,
                        );
                        self.write_share_at(p.scheme, &p.key_id, index, json.expose(), &group)?;
                    }
                }
                crate::fault::point("share-written");
                // Presignatures of the old share cannot be used with the new one.
                keystore::destroy_presignatures(&*self.vault, &self.db, &p.key_id)?;
                let parties = serde_json::to_string(&p.new_parties())
                    .map_err(|e| Error::bug("encode").cause(e))?;
                let detail = serde_json::json!({
                    "session": self.sid,
                    "threshold": p.new_threshold,
                    "index": index,
                });
                match self.db.key(&p.key_id)? {
                    Some(_) => self.db.reshare_switch(
                        &p.key_id,
                        p.new_threshold,
                        &parties,
                        index,
                        detail,
                    )?,
                    None => {
                        let now = crate::clock::now();
                        self.db.insert_key(&KeyRecord {
                            id: p.key_id.clone(),
                            scheme: p.scheme,
                            public_key: p.group_public_key.clone(),
                            threshold: p.new_threshold,
                            n: p.holders.len() as u16,
                            my_index: index,
                            parties_json: parties,
                            label: p.label.clone(),
                            status: KeyStatus::Active,
                            session_id: self.sid.clone(),
                            transcript: hex::encode(transcript),
                            created_at: now,
                            updated_at: now,
                            delete_after: None,
                        })?;
                    }
                }
                Ok(Generic::Done(outcome(Some(index), transcript)))
            }
            Step::Done(ReshareResult::Left { transcript }) => {
                // Every new holder has confirmed: this dealer's old share goes, with
                // any presignatures made with it.
                self.vault.remove(Item::Share(&p.key_id))?;
                crate::fault::point("share-removed");
                keystore::destroy_presignatures(&*self.vault, &self.db, &p.key_id)?;
                if let Some(k) = self.db.key(&p.key_id)?
                    && k.status != KeyStatus::Reshared
                {
                    self.db.audited(
                        "reshare.left",
                        &p.key_id,
                        serde_json::json!({ "session": self.sid, "from": k.status.as_str() }),
                        |c| change_key_status(c, &p.key_id, k.status, KeyStatus::Reshared, None),
                    )?;
                }
                Ok(Generic::Done(outcome(None, transcript)))
            }
        }
    }
}
