//! ECDSA presignature pools filled, and signing from them in one round trip (the pools
//! are `serve::presig`, whose module doc tells how a presignature is made, kept and
//! used once).

use super::{Node, Signed, Spends, coordinator_index};
use crate::identity::Card;
use crate::plan::{HashMode, Plan, Presign, SignPlan, now};
use crate::scheme::Scheme;
use crate::serve;
use crate::serve::cluster::NodeMsg;
use crate::serve::error::{DeclineReason, Error, Result};
use crate::serve::policy::Mode;
use crate::serve::presig::pool_label;
use crate::store::db::KeyRecord;
use crate::store::keystore::unused_presignatures;
use crate::store::vault::{Item, Vault as _};
use base64::Engine as _;

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

/// Signing from a presignature in one round trip: the coordinator claims and spends its
/// own presignature, asks the other signers of that presignature for their partial
/// signatures (`PresignedSign`), and combines and checks them. A signer checks the
/// request against the presignature it names (made for this key, among these signers,
/// for this coordinator's pool), hashes the message itself, writes its decision's audit
/// row, claims the presignature durably for this request and message, destroys its
/// file, and only then answers. No ceremony session runs on any node.
impl Node {
    /// Signs `message`, hashed by `hash`, with `key` from the presignature made in
    /// session `presignature` among `signers` (one round trip).
    pub(in crate::serve) async fn sign_presigned(
        &self,
        key: &KeyRecord,
        parties: &[Card],
        message: &[u8],
        hash: HashMode,
        signers: &[u16],
        presignature: String,
    ) -> Result<Signed> {
        let digest = crate::plan::digest_of(hash, message).map_err(Error::BadRequest)?;
        let mut id = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut id);
        let span = super::fast_span(&hex::encode(id), &key.id);
        let round_trip = async {
            let sid = hex::encode(id);
            let me = self.cluster.me.clone();
            let messages = [message.to_vec()];
            let spends = Spends::Presignature(&presignature, hash);
            // The decision's row is committed while the partial signatures travel; the
            // signature leaves only once it is durable (below). This node's own
            // presignature is spent before anything is asked of the others.
            let (decided, own) = serve::off_worker(|| {
                let decided = self
                    .decide_one_round(key, &messages, &me, &sid, spends)
                    .map_err(|(code, why)| self.refused_here(code, why))?;
                let own = self.spend_presignature(&presignature, &id, &digest)?;
                Ok::<_, Error>((decided, own))
            })?;
            let others: Vec<&Card> = signers
                .iter()
                .filter(|&&s| s != key.my_index)
                .filter_map(|&s| parties.get(usize::from(s) - 1))
                .collect();
            let request = NodeMsg::PresignedSign {
                id: sid.clone(),
                key_id: key.id.clone(),
                presignature: presignature.clone(),
                message: base64::engine::general_purpose::STANDARD.encode(message),
                hash,
            };
            let asked =
                self.ask_one_round(id, &others, &request, "no partial signature in time from");
            let answers = asked.await?;
            let (signature, recovery_id) =
                serve::off_worker(|| combine(key, parties, signers, own, &answers, &digest))
                    .map_err(|e| e.session(&sid))?;
            decided
                .done()
                .await
                .map_err(|e| Error::internal(format!("the audit row was not written: {e}")))?;
            let mut signed = self.signed(
                key,
                parties,
                Scheme::EcdsaSecp256k1,
                &signature,
                Some(recovery_id),
                None,
                sid,
                signers,
                "presigned",
            )?;
            signed.presignature = Some(presignature.clone());
            Ok(signed)
        };
        tracing::Instrument::instrument(round_trip, span).await
    }

    /// This node's partial signature of `digest` for request `id` from its
    /// presignature of `session`, which is claimed durably first and destroyed before
    /// this returns (blocking: the disk).
    fn spend_presignature(
        &self,
        session: &str,
        id: &[u8; 32],
        digest: &[u8; 32],
    ) -> Result<Vec<u8>> {
        let partial = crate::ceremony::presigned_partial(
            self.db(),
            &self.home,
            &self.identity,
            session,
            id,
            digest,
        )
        .map_err(Error::Ceremony)?;
        self.home.remove(Item::Presignature(session))?;
        Ok(partial)
    }

    /// A coordinator's `PresignedSign`: answer with this node's partial signature, or
    /// decline.
    pub fn presigned_request(
        &self,
        coordinator: &Card,
        id: String,
        key_id: &str,
        presignature: &str,
        message: &str,
        hash: HashMode,
    ) {
        let answer = self
            .presigned_share(coordinator, &id, key_id, presignature, message, hash)
            .map(|partial| vec![hex::encode(partial)]);
        self.answer_one_round(coordinator, id, answer);
    }

    fn presigned_share(
        &self,
        coordinator: &Card,
        id: &str,
        key_id: &str,
        presignature: &str,
        message: &str,
        hash: HashMode,
    ) -> Result<Vec<u8>, (DeclineReason, String)> {
        let refused = |why: &str| (DeclineReason::PlanRefused, why.to_string());
        let use_id: [u8; 32] = hex::decode(id)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| refused("the request id is not 32 bytes of hex"))?;
        if !serve::presig::allowed(Some(hash), None) {
            return Err(refused(
                "a presignature never signs a caller-supplied raw hash (cggmp21 advisory RUSTSEC-2025-0127)",
            ));
        }
        let key = self.key_to_sign(key_id)?;
        if key.scheme != Scheme::EcdsaSecp256k1 {
            return Err(refused(&format!("key {key_id} is not an ECDSA key")));
        }
        let parties = key
            .parties()
            .map_err(|e| (DeclineReason::Storage, e.to_string()))?;
        let coordinator_index = coordinator_index(&parties, coordinator, key_id)?;
        // The presignature must be one this node made for this key, among signers that
        // include the coordinator, for the coordinator's own pool.
        let short = &presignature[..16.min(presignature.len())];
        let made = self
            .db()
            .session(presignature)
            .map_err(|e| (DeclineReason::Storage, e.to_string()))?
            .and_then(|s| Plan::from_json(s.plan.as_bytes()).ok());
        match made.as_deref() {
            None => {
                return Err((
                    DeclineReason::NonceUnknown,
                    format!("this node holds no presignature {short}"),
                ));
            }
            Some(Plan::Sign(p))
                if p.presign == Some(Presign::Generate)
                    && p.key_id == key.id
                    && p.signers.contains(&coordinator_index)
                    && p.signers.contains(&key.my_index)
                    && p.label == pool_label(coordinator) => {}
            Some(_) => {
                return Err(refused(&format!(
                    "presignature {short} is not one of {}'s pool for key {key_id} with this node",
                    coordinator.name
                )));
            }
        }
        let message = base64::engine::general_purpose::STANDARD
            .decode(message)
            .map_err(|_| refused("the message is not base64"))?;
        // This node hashes the message itself.
        let digest = crate::plan::digest_of(hash, &message).map_err(|e| refused(&e))?;
        // The partial signature leaves only once the decision is durable.
        let spends = Spends::Presignature(presignature, hash);
        self.decide_one_round(&key, &[message], coordinator, id, spends)?
            .wait()
            .map_err(|e| (DeclineReason::Storage, e))?;
        self.spend_presignature(presignature, &use_id, &digest)
            .map_err(|e| match e {
                Error::Ceremony(c) if c.kind() == crate::ceremony::ErrorKind::Rejected => {
                    (DeclineReason::NonceUnknown, c.to_string())
                }
                other => (DeclineReason::Storage, other.public()),
            })
    }
}

/// Combines this node's partial signature `own` and the others' `answers` (node name,
/// [partial hex]) into a signature of `digest` under `key`, checked: its recovery id
/// is found by recovering the key from it, which only a valid signature gives. A
/// partial signature cannot be checked alone, so a bad one is named only where there is
/// a single other signer.
fn combine(
    key: &KeyRecord,
    parties: &[Card],
    signers: &[u16],
    own: Vec<u8>,
    answers: &[(String, Vec<String>)],
    digest: &[u8; 32],
) -> Result<([u8; 64], u8)> {
    let position = |index: u16| signers.iter().position(|&s| s == index).map(|p| p as u16);
    let mut partials = vec![(position(key.my_index).unwrap_or_default(), own)];
    for (name, list) in answers {
        let at = parties
            .iter()
            .position(|c| &c.name == name)
            .and_then(|i| position(i as u16 + 1));
        let partial = match list.as_slice() {
            [one] => hex::decode(one).ok(),
            _ => None,
        };
        let (Some(at), Some(partial)) = (at, partial) else {
            return Err(Error::PeerMisbehaved {
                message: format!("node {name} sent a malformed answer"),
                culprits: vec![name.clone()],
            });
        };
        partials.push((at, partial));
    }
    partials.sort_by_key(|(at, _)| *at);
    let name_of = |at: u16| {
        signers
            .get(usize::from(at))
            .and_then(|&s| parties.get(usize::from(s) - 1))
            .map_or_else(|| format!("signer {at}"), |c| c.name.clone())
    };
    let signature = crate::engine::cggmp::combine(&partials).map_err(|e| match e {
        crate::engine::EngineError::PeerMisbehaved { culprits, reason } => {
            let names: Vec<String> = culprits.iter().map(|&at| name_of(at)).collect();
            Error::PeerMisbehaved {
                message: format!("{}: {reason}", names.join(", ")),
                culprits: names,
            }
        }
        other => Error::internal(other),
    })?;
    let public_key = hex::decode(&key.public_key).map_err(Error::internal)?;
    match crate::pubkey::recovery_id(&public_key, digest, &signature).map_err(Error::internal)? {
        Some(v) => Ok((signature, v)),
        // This node's own part is sound; with one other signer, that signer's is not.
        None => {
            let culprits: Vec<String> = match answers {
                [(name, _)] => vec![name.clone()],
                _ => Vec::new(),
            };
            Err(Error::PeerMisbehaved {
                message: format!(
                    "the partial signatures do not combine into a valid signature: {} cheated or used another presignature",
                    match culprits.as_slice() {
                        [one] => one.clone(),
                        _ => "a signer".into(),
                    }
                ),
                culprits,
            })
        }
    }
}
