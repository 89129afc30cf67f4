//! ECDSA presignature pools filled (the pools are `serve::presig`, whose module doc
//! tells how a presignature is made, kept and used once).

use super::Node;
use crate::identity::Card;
use crate::plan::{Plan, SignPlan, now};
use crate::scheme::Scheme;
use crate::serve;
use crate::serve::error::{Error, Result};
use crate::serve::policy::Mode;
use crate::serve::presig::pool_label;
use crate::store::keystore::unused_presignatures;

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
        let _one = self.presigs.filling().await;
        let keys = match serve::off_worker(|| self.db().keys()) {
            Ok(k) => k,
            Err(e) => {
                serve::log(&format!("cannot list keys to fill presignature pools: {e}"));
                return;
            }
        };
        for key in keys
            .iter()
            .filter(|k| k.status.may_sign() && k.scheme == Scheme::EcdsaSecp256k1)
        {
            if serve::off_worker(|| self.own_policy(&key.id, None, None)) != Ok(Mode::Auto) {
                continue;
            }
            let Ok(parties) = key.parties() else { continue };
            let Ok(signers) = self.pick(&parties, key.threshold) else {
                continue;
            };
            if self.presigs.count(&key.id, &signers) >= low.max(1) {
                continue;
            }
            if self.presigs.failed_lately(&key.id) {
                continue;
            }
            while self.presigs.count(&key.id, &signers) < target && self.sessions.accepting() {
                if let Err(e) = self.presign_one(key, &parties, &signers).await {
                    serve::log(&format!(
                        "cannot fill the presignature pool of key {} (trying again in a minute): {e}",
                        key.id
                    ));
                    self.presigs.failed(&key.id);
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
        let _slot = self.sessions.slot()?;
        let budget = self.config.keygen_timeout;
        let plan = Plan::Sign(SignPlan::presigning(
            key,
            parties.to_vec(),
            signers.to_vec(),
            pool_label(&self.cluster.me),
            now() + budget.as_secs() + 60,
        ))
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
