//! ECDSA presignature pools: each node keeps, per key and signer set, CGGMP21
//! presignatures made by presigning sessions it coordinated, so a request it
//! coordinates signs in one round instead of a whole CGGMP21 session.
//!
//! A presignature is the CLI's (`mpc presign`): made by a `Presign::Generate` session,
//! stored encrypted in each signer's vault with an armed single-use ledger entry, and
//! consumed by a `Presign::Consume` session, which claims it durably and destroys it
//! before its partial signature leaves. The pool only chooses which presignature a
//! request uses: each belongs to the node that coordinated its making (its plan's label
//! names that node), so two coordinators never pick the same one, and a node hands out
//! each of its own once (a request that fails still spends it; the ledger refuses a
//! second use anyway). A node that restarts finds its own again by the label.
//!
//! Following the cggmp21 advisory (RUSTSEC-2025-0127), a request with an HD path or a
//! caller-supplied raw hash never uses the pool (the plan's validation refuses it as
//! well); it runs a whole session, as does a request that finds the pool empty. The
//! answer's `mode` says which: `presigned` or `full`.

use super::cluster::card_key;
use super::error::{Error, Result};
use super::node::Node;
use super::policy::Mode;
use crate::identity::Card;
use crate::plan::{Plan, Presign, SignPlan, fresh_nonce, now};
use crate::scheme::Scheme;
use crate::store::keystore::unused_presignatures;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// A pool's key: the key id and the signers' indices.
type PoolKey = (String, Vec<u16>);

/// This node's presignatures, by (key, signers), oldest first.
#[derive(Default)]
pub struct Presigs {
    own: Mutex<HashMap<PoolKey, VecDeque<String>>>,
    /// One filler at a time.
    filling: tokio::sync::Mutex<()>,
    /// Keys whose last presigning failed, and when: tried again a minute later, not at
    /// every tick (a member that declines would otherwise be asked twice a second).
    failed: Mutex<HashMap<String, std::time::Instant>>,
}

use super::lock;

impl Presigs {
    /// Presignatures held in all.
    pub fn level(&self) -> usize {
        lock(&self.own).values().map(VecDeque::len).sum()
    }

    fn count(&self, key_id: &str, signers: &[u16]) -> usize {
        lock(&self.own)
            .get(&(key_id.to_string(), signers.to_vec()))
            .map_or(0, VecDeque::len)
    }

    fn add(&self, key_id: &str, signers: &[u16], session: String) {
        lock(&self.own)
            .entry((key_id.to_string(), signers.to_vec()))
            .or_default()
            .push_back(session);
    }

    /// Takes the oldest presignature of `key_id` for `signers`: it is never offered
    /// again.
    pub fn take(&self, key_id: &str, signers: &[u16]) -> Option<String> {
        lock(&self.own)
            .get_mut(&(key_id.to_string(), signers.to_vec()))
            .and_then(VecDeque::pop_front)
    }

    /// Drops every presignature of `key_id` from the pool (the key was rotated or
    /// deleted; the vault's copies are the ceremony's to destroy).
    pub fn forget(&self, key_id: &str) {
        lock(&self.own).retain(|(k, _), _| k != key_id);
    }
}

/// The label of the presigning plans `me` coordinates for its pool.
fn pool_label(me: &Card) -> String {
    format!(
        "serve presignature pool of {}",
        hex::encode(&card_key(me)[..8])
    )
}

/// Whether a request with this hash mode and path may use a presignature (the cggmp21
/// advisory: no HD path, no caller-supplied raw hash).
pub fn allowed(hash: Option<crate::plan::HashMode>, path: Option<&str>) -> bool {
    path.is_none() && hash != Some(crate::plan::HashMode::Prehash)
}

impl Node {
    /// Finds this node's own unused presignatures in its home (after a restart).
    pub fn load_presignatures(&self) -> Result<usize> {
        let label = pool_label(&self.cluster.me);
        let db = self.db();
        let mut found = 0;
        for p in unused_presignatures(db)? {
            let mine = db
                .sessions_matching(&p.session, false)?
                .first()
                .and_then(|s| Plan::from_json(s.plan.as_bytes()).ok())
                .is_some_and(|plan| plan.label() == label);
            if mine {
                self.presigs.add(&p.key_id, &p.signers, p.session);
                found += 1;
            }
        }
        Ok(found)
    }

    /// Tops up the pool of every ECDSA key this node signs with unasked (policy
    /// `auto`), for the signers it would pick now, one presigning session at a time.
    /// Runs in the background (`mpc serve`), never on a request's path.
    pub async fn fill_presignatures(&self) {
        let (target, low) = (self.config.presign_pool, self.config.presign_low);
        if target == 0 {
            return;
        }
        let _one = self.presigs.filling.lock().await;
        let keys = match super::off_worker(|| self.db().keys()) {
            Ok(k) => k,
            Err(e) => {
                super::log(&format!("cannot list keys to fill presignature pools: {e}"));
                return;
            }
        };
        for key in keys
            .iter()
            .filter(|k| k.status.may_sign() && k.scheme == Scheme::EcdsaSecp256k1)
        {
            if super::off_worker(|| self.own_policy(&key.id, None, None)) != Ok(Mode::Auto) {
                continue;
            }
            let Ok(parties) = key.parties() else { continue };
            let Ok(signers) = self.pick(&parties, key.threshold) else {
                continue;
            };
            if self.presigs.count(&key.id, &signers) >= low.max(1) {
                continue;
            }
            if lock(&self.presigs.failed)
                .get(&key.id)
                .is_some_and(|at| at.elapsed() < std::time::Duration::from_secs(60))
            {
                continue;
            }
            while self.presigs.count(&key.id, &signers) < target && self.accepting() {
                if let Err(e) = self.presign_one(key, &parties, &signers).await {
                    super::log(&format!(
                        "cannot fill the presignature pool of key {} (trying again in a minute): {e}",
                        key.id
                    ));
                    lock(&self.presigs.failed).insert(key.id.clone(), std::time::Instant::now());
                    break;
                }
            }
        }
    }

    /// Makes one presignature of `key` for this node's pool now, among the signers it
    /// would pick (`POST /sessions` with `presign`).
    pub async fn presign_now(
        &self,
        key: &crate::store::db::KeyRecord,
    ) -> Result<serde_json::Value> {
        if key.scheme != Scheme::EcdsaSecp256k1 {
            return Err(Error::WrongKeyState(format!(
                "presignatures are for ecdsa-secp256k1 keys; key {} is {}",
                key.id, key.scheme
            )));
        }
        crate::store::keystore::ensure_signs(key)
            .map_err(|e| Error::WrongKeyState(e.to_string()))?;
        let parties = key.parties()?;
        let signers = self.pick(&parties, key.threshold)?;
        let session = self.presign_one(key, &parties, &signers).await?;
        Ok(serde_json::json!({
            "key_id": key.id,
            "presignature": session,
            "signers": signers
                .iter()
                .filter_map(|&i| parties.get(usize::from(i) - 1).map(|c| c.name.clone()))
                .collect::<Vec<_>>(),
            "pool": self.presigs.level(),
        }))
    }

    /// Coordinates one presigning session of `key` among `signers`; its id.
    async fn presign_one(
        &self,
        key: &crate::store::db::KeyRecord,
        parties: &[Card],
        signers: &[u16],
    ) -> Result<String> {
        let _slot = self.slot()?;
        let budget = self.config.keygen_timeout;
        let plan = Plan::Sign(SignPlan {
            version: 1,
            scheme: Scheme::EcdsaSecp256k1,
            key_id: key.id.clone(),
            group_public_key: key.public_key.clone(),
            threshold: key.threshold,
            parties: parties.to_vec(),
            signers: signers.to_vec(),
            message: String::new(),
            label: pool_label(&self.cluster.me),
            expires_at: now() + budget.as_secs() + 60,
            nonce: fresh_nonce(),
            hash: None,
            path: None,
            presign: Some(Presign::Generate),
        })
        .validated()
        .map_err(Error::internal)?;
        let session = hex::encode(plan.session_id());
        let others: Vec<&Card> = signers
            .iter()
            .filter_map(|&i| parties.get(usize::from(i) - 1))
            .filter(|c| !self.cluster.is_me(c))
            .collect();
        self.coordinate(plan, &others, budget, true).await?;
        self.presigs.add(&key.id, signers, session.clone());
        Ok(session)
    }
}
