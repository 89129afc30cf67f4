//! Share maintenance ceremonies: refresh (FROST keys, n-of-n ECDSA keys) and repair (FROST).
//!
//! **Refresh** (`mpc refresh`): all n parties run frost-core's refresh DKG (a sharing of
//! zero added to every share) and get new shares of the same group key. The new share
//! lives only in the party's encrypted session journal until every party has confirmed,
//! in a third round, the same new public key package; then the share file is replaced
//! (atomically) and the old share is gone. A party that has staged its new share but not
//! seen every confirmation keeps signing refused (status `rotating`), since its old share
//! and a refreshed party's new share do not combine. If the session aborts, the new share
//! is dropped with the journal and the key goes back to `active` on the old share: no
//! party switches unless every party confirmed, so without a party that equivocates
//! (shows different confirmations to different parties) nobody has switched either.
//!
//! **Repair** (`mpc repair`): at least t helpers give a party that lost its share (but
//! still has, or restored, its identity) a new share of the same key, by frost-core's
//! repairable threshold scheme; nobody learns anyone's share. The repaired party checks
//! the result against its verifying share in the key's public key package (sent by every
//! helper, identical) and confirms its verifying share to the helpers. The share is the
//! same point on the same polynomial, so the other parties' shares and backups stay valid.
//!
//! ECDSA keys follow the same refresh flow (`ceremony::ecdsa`), with cggmp21's key
//! refresh in place of frost-core's, for n-of-n keys only: cggmp21 0.6 does not refresh
//! threshold (VSS) shares, so mpc makes n-of-n ECDSA keys without VSS. cggmp21 has no
//! share repair.

use super::error::{Advice, Error, Result};
use super::{Ceremony, Generic, JournalState, Outcome, load_share};
use crate::engine::{
    self, RefreshResult, RefreshState, RepairParams, RepairResult, RepairState, Step,
};
use crate::identity::Card;
use crate::plan::Plan;
use crate::pubkey;
use crate::store::db::{Db, KeyRecord, KeyStatus, change_key_status};
use crate::store::vault::{Item, Vault};
use serde::{Deserialize, Serialize};

/// Key details the helpers hand to the repaired party (public). Only what every party
/// of the key holds alike: the repaired party requires all helpers to send the same, so
/// a local detail (when a party's own keygen step finished) must not be in it.
#[derive(Serialize, Deserialize, PartialEq)]
struct KeyInfo {
    label: String,
    session_id: String,
    transcript: String,
}

/// A refresh or reshare under `plan` ended (switched, aborted or abandoned): a
/// `rotating` key is active again; a suspended one stays suspended.
pub(super) fn end_rotation(db: &Db, plan: &Plan) -> Result<()> {
    if let Some(k) = rotating_key(db, plan)?
        && k.status == KeyStatus::Rotating
    {
        db.set_key_status(&k.id, KeyStatus::Rotating, KeyStatus::Active, None)?;
    }
    Ok(())
}

/// The record of the key a refresh or reshare under `plan` changes in this home: for
/// a refresh checked against the plan; a reshare's new holder may have none.
fn rotating_key(db: &Db, plan: &Plan) -> Result<Option<KeyRecord>> {
    match plan {
        Plan::Refresh(_) => plan_key(db, plan),
        Plan::Reshare(p) => Ok(db.key(&p.key_id)?),
        _ => Ok(None),
    }
}

/// The key record a refresh or repair plan names, checked against the plan.
fn plan_key(db: &Db, plan: &Plan) -> Result<Option<KeyRecord>> {
    let Some((key_id, group_key)) = plan.key() else {
        return Ok(None);
    };
    let Some(key) = db.key(key_id)? else {
        return Ok(None);
    };
    let parties: Vec<Card> = key.parties()?;
    if key.public_key != group_key
        || key.scheme != plan.scheme()
        || parties != plan.parties()
        || key.threshold != plan.threshold()
    {
        return Err(Error::rejected(format!(
            "the plan's public key, scheme, parties or threshold do not match key {key_id} in this home"
        )));
    }
    Ok(Some(key))
}

/// Checks a refresh or repair plan against this home before (and, for a refresh,
/// while) taking part.
pub(super) fn check_plan(vault: &dyn Vault, db: &Db, plan: &Plan, me: u16) -> Result<()> {
    let (key_id, lost) = match plan {
        Plan::Refresh(p) => (&p.key_id, None),
        Plan::Repair(p) => (&p.key_id, Some(p.lost)),
        _ => return Ok(()),
    };
    let key = plan_key(db, plan)?;
    let has_share = vault.contains(Item::Share(key_id));
    if lost == Some(me) {
        return match key {
            Some(k) if k.status == KeyStatus::Deleted => Err(Error::rejected(format!(
                "key {key_id} was deleted in this home; a deleted share is not repaired"
            ))),
            _ if has_share => Err(Error::rejected(format!(
                "this home still holds a share of key {key_id}; there is nothing to repair"
            ))
            .advise(Advice::ShareNotLost)),
            _ => Ok(()),
        };
    }
    let key =
        key.ok_or_else(|| Error::rejected(format!("the plan's key {key_id} is not in this home")))?;
    let allowed: &[KeyStatus] = match plan {
        Plan::Refresh(_) => &[KeyStatus::Active, KeyStatus::Suspended, KeyStatus::Rotating],
        _ => &[KeyStatus::Active, KeyStatus::Suspended],
    };
    if !allowed.contains(&key.status) {
        return Err(Error::rejected(format!(
            "key {key_id} is {}; a {} needs it active or suspended",
            key.status.as_str(),
            plan.kind()
        ))
        .advise(match key.status {
            KeyStatus::Rotating => Advice::FinishRefresh,
            _ => Advice::SeeKey,
        }));
    }
    if !has_share {
        return Err(Error::rejected(format!(
            "this home has no share of key {key_id} ({})",
            vault.locate(Item::Share(key_id))
        ))
        .advise(Advice::RestoreOrRepair));
    }
    Ok(())
}

impl Ceremony {
    pub(super) fn refresh_step(
        &mut self,
        state: &RefreshState,
        inbox: &engine::Inbox,
    ) -> Result<Generic> {
        let Plan::Refresh(p) = &self.plan else {
            return Err(Error::bug("journal does not match the plan kind"));
        };
        let params = self.keygen_params();
        let key = load_share(&*self.vault, &self.identity, &p.key_id)?;
        let step = match self.settle(engine::refresh_step(&params, &key, state, inbox))? {
            Ok(step) => step,
            Err(dispute) => return Ok(dispute),
        };
        match step {
            Step::Advanced { state, outgoing } => Ok(Generic::Advanced {
                state: JournalState::Refresh(state),
                outgoing,
            }),
            Step::Waiting { round, missing } => Ok(Generic::Waiting { round, missing }),
            Step::Done(RefreshResult {
                key_package,
                public_key_package,
                transcript,
            }) => {
                let p = p.clone();
                let group = hex::decode(&p.group_public_key)
                    .map_err(|e| Error::bug("plan key").cause(e))?;
                // The switch: the new share replaces the old one in one rename.
                self.write_share(
                    p.scheme,
                    &p.key_id,
                    key_package.expose(),
                    &public_key_package,
                )?;
                self.end_rotation()?;
                Ok(Generic::Done(Outcome::Refresh {
                    key_id: p.key_id.clone(),
                    scheme: p.scheme.id().into(),
                    public_key: hex::encode(pubkey::standard_form(p.scheme, &group)),
                    transcript: hex::encode(transcript),
                }))
            }
        }
    }

    /// A refresh's or reshare's new share is staged and confirmed (or, for a dealer
    /// that leaves, every dealing checked): until every party has confirmed, this
    /// party's key refuses to sign (an active key becomes `rotating`, audited as
    /// `refresh.staged` or `reshare.staged`; a suspended one stays suspended).
    pub(super) fn staged(&mut self) -> Result<()> {
        if let Some(k) = rotating_key(&self.db, &self.plan)?
            && k.status == KeyStatus::Active
        {
            self.db.audited(
                &format!("{}.staged", self.plan.kind()),
                &k.id,
                serde_json::json!({ "session": self.sid, "status": "rotating" }),
                |c| change_key_status(c, &k.id, KeyStatus::Active, KeyStatus::Rotating, None),
            )?;
        }
        Ok(())
    }

    /// The refresh or reshare ended, switched to the new share or aborted on the old
    /// one: a `rotating` key is active again (a suspended one stays suspended).
    pub(super) fn end_rotation(&mut self) -> Result<()> {
        end_rotation(&self.db, &self.plan)
    }

    pub(super) fn repair_step(
        &mut self,
        state: &RepairState,
        inbox: &engine::Inbox,
    ) -> Result<Generic> {
        let Plan::Repair(p) = &self.plan else {
            return Err(Error::bug("journal does not match the plan kind"));
        };
        let p = p.clone();
        let helping = p.lost != self.me;
        let (key, info) = if helping {
            let record =
                plan_key(&self.db, &self.plan)?.ok_or_else(|| Error::bug("the key vanished"))?;
            let info = KeyInfo {
                label: record.label,
                session_id: record.session_id,
                transcript: record.transcript,
            };
            (
                Some(load_share(&*self.vault, &self.identity, &p.key_id)?),
                serde_json::to_vec(&info).map_err(|e| Error::bug("encode").cause(e))?,
            )
        } else {
            (None, Vec::new())
        };
        let group_key =
            hex::decode(&p.group_public_key).map_err(|e| Error::bug("plan key").cause(e))?;
        let params = RepairParams {
            scheme: p.scheme,
            session: self.session,
            me: self.me,
            helpers: p.helpers.clone(),
            lost: p.lost,
            group_key: group_key.clone(),
            info,
        };
        let step =
            engine::repair_step(&params, key.as_ref(), state, inbox).map_err(|e| self.blame(e))?;
        let outcome = |transcript: [u8; 32]| Outcome::Repair {
            key_id: p.key_id.clone(),
            scheme: p.scheme.id().into(),
            public_key: hex::encode(pubkey::standard_form(p.scheme, &group_key)),
            repaired: p.lost,
            transcript: hex::encode(transcript),
        };
        match step {
            Step::Advanced { state, outgoing } => Ok(Generic::Advanced {
                state: JournalState::Repair(state),
                outgoing,
            }),
            Step::Waiting { round, missing } => Ok(Generic::Waiting { round, missing }),
            Step::Done(RepairResult::Helped { transcript }) => {
                Ok(Generic::Done(outcome(transcript)))
            }
            Step::Done(RepairResult::Repaired {
                key_package,
                public_key_package,
                info,
                transcript,
            }) => {
                let info: KeyInfo = serde_json::from_slice(&info).map_err(|_| {
                    Error::rejected("the helpers' key details do not decode").cause(
                        "every helper sent the same details, so all of them run a different mpc",
                    )
                })?;
                self.write_share(
                    p.scheme,
                    &p.key_id,
                    key_package.expose(),
                    &public_key_package,
                )?;
                if plan_key(&self.db, &self.plan)?.is_none() {
                    let now = crate::clock::now();
                    self.db.insert_key(&KeyRecord {
                        id: p.key_id.clone(),
                        scheme: p.scheme,
                        public_key: p.group_public_key.clone(),
                        threshold: p.threshold,
                        n: p.parties.len() as u16,
                        my_index: self.me,
                        parties_json: serde_json::to_string(&p.parties)
                            .map_err(|e| Error::bug("encode").cause(e))?,
                        label: info.label,
                        status: KeyStatus::Active,
                        session_id: info.session_id,
                        transcript: info.transcript,
                        // This home's record begins now; the keygen time is local.
                        created_at: now,
                        updated_at: now,
                        delete_after: None,
                    })?;
                }
                Ok(Generic::Done(outcome(transcript)))
            }
        }
    }
}
