//! Signing from FROST nonce pools (the answer's mode `preprocessed`): a signer's side
//! (keeping its pools full, taking a coordinator's commitments, answering `FastSign`
//! with shares) and a coordinator's (one round trip). The pools themselves are
//! `serve::nonces`, whose module doc tells the protocol.

use super::{Node, Spends, coordinator_index};
use crate::engine::frost::preprocessed::Preprocessed;
use crate::identity::Card;
use crate::scheme::Scheme;
use crate::serve;
use crate::serve::cluster::{FastItem, NodeMsg, card_key};
use crate::serve::error::{DeclineReason, Error, Result};
use crate::serve::nonces::{FastSigned, LOW, Loaded, MAX_BATCH, TARGET, Taken};
use crate::store::db::KeyRecord;
use base64::Engine as _;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

impl Node {
    /// The decrypted share of `key`, loaded once (again when the record changes).
    pub(in crate::serve) fn loaded(&self, key: &KeyRecord) -> Result<Arc<Loaded>> {
        if let Some(l) = self.pools.loaded(&key.id, key.updated_at) {
            return Ok(l);
        }
        let scheme = key.scheme;
        let material = crate::ceremony::load_share(&self.home, &self.identity, &key.id)
            .map_err(Error::Ceremony)?;
        let prepared = crate::engine::prepare(scheme, &material).map_err(Error::internal)?;
        let l = Arc::new(Loaded {
            scheme,
            prepared,
            me: key.my_index,
            parties: key.parties()?,
            threshold: key.threshold,
            updated_at: key.updated_at,
        });
        self.pools.keep_loaded(&key.id, Arc::clone(&l));
        Ok(l)
    }

    /// Tops up every pool this node keeps, sending the new commitments to their
    /// coordinators. Runs in the background; `fresh_for` empties the pools of one
    /// coordinator first (it asked).
    pub fn refill(&self, fresh_for: Option<(&str, &Card)>) {
        let _one = self.pools.refilling();
        let keys = match self.db().keys() {
            Ok(k) => k,
            Err(e) => {
                serve::log(&format!("cannot list keys to refill nonce pools: {e}"));
                return;
            }
        };
        for key in keys.iter().filter(|k| k.status.may_sign()) {
            if key.scheme == Scheme::EcdsaSecp256k1 {
                continue;
            }
            let Ok(parties) = key.parties() else { continue };
            for c in &parties {
                if self.cluster.member(&card_key(c)).is_none() || !self.cluster.is_up(c) {
                    continue;
                }
                let fresh = fresh_for.is_some_and(|(k, f)| k == key.id && f.ed25519 == c.ed25519);
                if let Err(e) = self.refill_one(key, c, fresh) {
                    serve::log(&format!(
                        "cannot refill the nonces of key {} for {}: {}",
                        key.id,
                        c.name,
                        e.public()
                    ));
                }
            }
        }
    }

    fn refill_one(&self, key: &KeyRecord, coordinator: &Card, fresh: bool) -> Result<()> {
        let ck = card_key(coordinator);
        let have = self.pools.own_after(&key.id, &ck, fresh);
        if have >= LOW && !fresh {
            return Ok(());
        }
        // Nonces only for keys this node signs with unasked: with `approval` each
        // signature is a session an operator joins, and with `never` there is none.
        if self.own_policy(&key.id, None, None) != Ok(serve::policy::Mode::Auto) {
            self.pools.drop_own(&key.id, &ck);
            return Ok(());
        }
        let loaded = self.loaded(key)?;
        let made = loaded
            .prepared
            .preprocess(TARGET - have)
            .map_err(Error::internal)?;
        let items = self.pools.keep_own(&key.id, &ck, made);
        if self.cluster.is_me(coordinator) {
            self.pools.hold(&key.id, loaded.me, fresh, items);
            return Ok(());
        }
        let msg = NodeMsg::Commitments {
            key_id: key.id.clone(),
            fresh,
            items: items
                .into_iter()
                .map(|(id, c)| (id, hex::encode(c)))
                .collect(),
        };
        self.tell(&[coordinator], &msg).map_err(Error::BusDown)
    }

    /// Commitments from `sender`, for this node to coordinate with.
    pub fn commitments(&self, sender: &Card, key_id: &str, fresh: bool, items: Vec<(u64, String)>) {
        let Ok(Some(key)) = self.db().key(key_id) else {
            return;
        };
        let Ok(parties) = key.parties() else { return };
        let Some(index) = parties.iter().position(|c| c.ed25519 == sender.ed25519) else {
            serve::log(&format!(
                "{} sent commitments for key {key_id}, of which it holds no share",
                sender.name
            ));
            return;
        };
        let decoded: Option<Vec<(u64, Vec<u8>)>> = items
            .into_iter()
            .map(|(id, c)| hex::decode(c).ok().map(|c| (id, c)))
            .collect();
        let Some(decoded) = decoded else {
            serve::log(&format!("{} sent malformed commitments", sender.name));
            return;
        };
        // A coordinator holds a bounded number per signer.
        self.pools.hold(key_id, index as u16 + 1, fresh, decoded);
    }

    /// Whether this node holds `m` commitments of signer `index` for `key_id`, waiting a
    /// moment for a refill under way (a full session costs far more than the wait).
    async fn wait_held(&self, key_id: &str, index: u16, m: usize) -> bool {
        self.pools
            .wait_held(key_id, index, m, Duration::from_millis(250))
            .await
    }

    /// Asks signer `index` of `key` for fresh commitments (at most once a second).
    fn want(&self, key: &Loaded, key_id: &str, index: u16) {
        if !self.pools.want_again(key_id, index) {
            return;
        }
        if let Some(c) = key.parties.get(usize::from(index) - 1) {
            let want = NodeMsg::Want {
                key_id: key_id.into(),
            };
            let _ = self.tell(&[c], &want);
        }
    }

    /// Signs `messages` with the preprocessed nonces, if this node holds enough of its
    /// own and of `t - 1` up members' commitments. `None`: take the full path (always
    /// for ECDSA).
    pub(in crate::serve) async fn sign_fast(
        &self,
        key: &KeyRecord,
        messages: &[Vec<u8>],
        without: &[String],
    ) -> Option<Result<FastSigned>> {
        // ECDSA has no preprocessing: its share is not even loaded here.
        if key.scheme == Scheme::EcdsaSecp256k1 {
            return None;
        }
        let loaded = match serve::off_worker(|| self.loaded(key)) {
            Ok(l) => l,
            Err(e) => return Some(Err(e)),
        };
        let m = messages.len();
        // Signers: this node, then up members holding enough commitments, key order.
        let mut signers = vec![loaded.me];
        for (i, c) in loaded.parties.iter().enumerate() {
            let index = i as u16 + 1;
            if signers.len() == usize::from(loaded.threshold) {
                break;
            }
            if index == loaded.me
                || without.contains(&c.name)
                || self.cluster.member(&card_key(c)).is_none()
                || !self.cluster.is_up(c)
            {
                continue;
            }
            if self.wait_held(&key.id, index, m).await {
                signers.push(index);
            } else {
                self.want(&loaded, &key.id, index);
            }
        }
        if signers.len() < usize::from(loaded.threshold)
            || !self.wait_held(&key.id, loaded.me, m).await
        {
            return None;
        }
        signers.sort_unstable();
        // Take every commitment needed at once: used or not, none is offered again.
        let taken = self.pools.take_held(&key.id, &signers, m)?;
        let mine: Vec<u64> = taken[&loaded.me].iter().map(|(id, _)| *id).collect();
        let own_nonces = self
            .pools
            .take_own(&key.id, &card_key(&self.cluster.me), &mine)?;
        let mut id = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut id);
        let span = super::fast_span(&hex::encode(id), &key.id);
        let round_trip =
            self.fast_round_trip(id, key, &loaded, messages, &signers, taken, own_nonces);
        Some(tracing::Instrument::instrument(round_trip, span).await)
    }

    #[allow(clippy::too_many_arguments)]
    async fn fast_round_trip(
        &self,
        id: [u8; 32],
        key: &KeyRecord,
        loaded: &Loaded,
        messages: &[Vec<u8>],
        signers: &[u16],
        taken: Taken,
        own_nonces: Vec<Preprocessed>,
    ) -> Result<FastSigned> {
        let b64 = &base64::engine::general_purpose::STANDARD;
        let commitments: Vec<BTreeMap<u16, Vec<u8>>> = (0..messages.len())
            .map(|k| {
                taken
                    .iter()
                    .map(|(&s, list)| (s, list[k].1.clone()))
                    .collect()
            })
            .collect();
        let items: Vec<FastItem> = messages
            .iter()
            .enumerate()
            .map(|(k, msg)| FastItem {
                message: b64.encode(msg),
                commitments: taken
                    .iter()
                    .map(|(&s, list)| (s, list[k].0, hex::encode(&list[k].1)))
                    .collect(),
            })
            .collect();
        let sid = hex::encode(id);
        let mine: Vec<u64> = taken[&loaded.me].iter().map(|(i, _)| *i).collect();
        // The decision's rows are committed while the shares travel; the signature
        // leaves only once they are durable (below).
        let me = self.cluster.me.clone();
        let decided = serve::off_worker(|| {
            self.decide_one_round(key, messages, &me, &sid, Spends::Nonces(&mine))
        })
        .map_err(|(code, why)| self.refused_here(code, why))?;
        // The nonces are spent whatever happens next. Each list is read once, for this
        // node's share and the aggregate.
        let (own_shares, packages) = serve::off_worker(|| {
            let mut own_shares = Vec::with_capacity(messages.len());
            let mut packages = Vec::with_capacity(messages.len());
            for ((own, c), msg) in own_nonces.into_iter().zip(&commitments).zip(messages) {
                let internal = |e: crate::engine::EngineError| Error::internal(e);
                let package = loaded
                    .prepared
                    .package(loaded.me, &own, c, msg)
                    .map_err(internal)?;
                own_shares.push(
                    loaded
                        .prepared
                        .share(own.nonces, &package)
                        .map_err(internal)?,
                );
                packages.push(package);
            }
            Ok::<_, Error>((own_shares, packages))
        })?;
        let others: Vec<&Card> = signers
            .iter()
            .filter(|&&s| s != loaded.me)
            .filter_map(|&s| loaded.parties.get(usize::from(s) - 1))
            .collect();
        let request = NodeMsg::FastSign {
            id: sid.clone(),
            key_id: key.id.clone(),
            items,
        };
        let asked = self.ask_one_round(id, &others, &request, "no signature share in time from");
        let answers = match asked.await {
            Ok(a) => a,
            Err(e) => {
                if let Some(d) = e.declined()
                    && d.reason == DeclineReason::NonceUnknown
                    && let Some(i) = loaded.parties.iter().position(|c| c.name == d.node)
                {
                    self.want(loaded, &key.id, i as u16 + 1);
                }
                return Err(e);
            }
        };
        // Aggregating (and verifying) is CPU work.
        let signatures = serve::off_worker(|| {
            let mut signatures = Vec::with_capacity(messages.len());
            for (k, package) in packages.iter().enumerate() {
                let mut shares = BTreeMap::new();
                shares.insert(loaded.me, own_shares[k].clone());
                for (name, list) in &answers {
                    let index = loaded
                        .parties
                        .iter()
                        .position(|c| &c.name == name)
                        .map(|i| i as u16 + 1);
                    let share = list.get(k).and_then(|h| hex::decode(h).ok());
                    match (index, share) {
                        (Some(i), Some(s)) => {
                            shares.insert(i, s);
                        }
                        _ => {
                            return Err(Error::PeerMisbehaved {
                                message: format!("node {name} sent a malformed answer"),
                                culprits: vec![name.clone()],
                            }
                            .session(&sid));
                        }
                    }
                }
                let sig = loaded
                    .prepared
                    .aggregate(package, &shares)
                    .map_err(|e| match e {
                        crate::engine::EngineError::PeerMisbehaved { culprits, reason } => {
                            let names: Vec<String> = culprits
                                .iter()
                                .filter_map(|&i| {
                                    loaded
                                        .parties
                                        .get(usize::from(i) - 1)
                                        .map(|c| c.name.clone())
                                })
                                .collect();
                            Error::PeerMisbehaved {
                                message: format!("{}: {reason}", names.join(", ")),
                                culprits: names,
                            }
                            .session(&sid)
                        }
                        other => Error::internal(other),
                    })?;
                signatures.push(sig);
            }
            Ok::<_, Error>(signatures)
        })?;
        decided
            .done()
            .await
            .map_err(|e| Error::internal(format!("the audit row was not written: {e}")))?;
        Ok(FastSigned {
            signatures,
            signers: signers.to_vec(),
            id: sid,
        })
    }

    /// A coordinator's `FastSign`: answer with shares, or decline.
    pub fn fast_sign_request(
        &self,
        coordinator: &Card,
        id: String,
        key_id: String,
        items: Vec<FastItem>,
    ) {
        let answer = self.fast_shares(coordinator, &id, &key_id, items);
        self.answer_one_round(coordinator, id, answer);
    }

    fn fast_shares(
        &self,
        coordinator: &Card,
        id: &str,
        key_id: &str,
        items: Vec<FastItem>,
    ) -> Result<Vec<String>, (DeclineReason, String)> {
        if items.is_empty() || items.len() > MAX_BATCH {
            return Err((
                DeclineReason::PlanRefused,
                format!("a request signs 1 to {MAX_BATCH} messages"),
            ));
        }
        let key = self.key_to_sign(key_id)?;
        let loaded = self
            .loaded(&key)
            .map_err(|e| (DeclineReason::Storage, e.public()))?;
        let coord_index = coordinator_index(&loaded.parties, coordinator, key_id)?;
        let b64 = &base64::engine::general_purpose::STANDARD;
        let mut messages = Vec::with_capacity(items.len());
        let mut lists = Vec::with_capacity(items.len());
        let mut ids = Vec::with_capacity(items.len());
        for it in &items {
            let signers: Vec<u16> = it.commitments.iter().map(|c| c.0).collect();
            let ascending = signers.windows(2).all(|w| w[0] < w[1]);
            if !ascending
                || signers.len() != usize::from(loaded.threshold)
                || !signers.contains(&loaded.me)
                || !signers.contains(&coord_index)
                || signers
                    .iter()
                    .any(|&s| s == 0 || usize::from(s) > loaded.parties.len())
            {
                return Err((
                    DeclineReason::PlanRefused,
                    "the request's signers are not t distinct parties of the key including this node and its coordinator".into(),
                ));
            }
            let msg = b64.decode(&it.message).map_err(|_| {
                (
                    DeclineReason::PlanRefused,
                    "a message is not base64".to_string(),
                )
            })?;
            let mut list = BTreeMap::new();
            let mut mine = 0;
            for (s, id, c) in &it.commitments {
                if *s == loaded.me {
                    mine = *id;
                }
                list.insert(
                    *s,
                    hex::decode(c).map_err(|_| {
                        (
                            DeclineReason::PlanRefused,
                            "a commitment is not hex".to_string(),
                        )
                    })?,
                );
            }
            ids.push(mine);
            messages.push(msg);
            lists.push(list);
        }
        // The nonces leave the pool before anything is computed: all of them or none.
        let nonces = self
            .pools
            .take_own(&key.id, &card_key(coordinator), &ids)
            .ok_or((
                DeclineReason::NonceUnknown,
                "the request names a nonce this node does not hold (used already, or from before a restart)".to_string(),
            ))?;
        // Each list must carry this node's own commitment for the nonce it names (the
        // nonces are spent either way).
        if nonces
            .iter()
            .zip(&lists)
            .any(|(p, list)| list.get(&loaded.me) != Some(&p.commitment))
        {
            return Err((
                DeclineReason::PlanRefused,
                "the request lists another commitment for this node than its nonce's".into(),
            ));
        }
        // The share leaves only once the decision is durable.
        self.decide_one_round(&key, &messages, coordinator, id, Spends::Nonces(&ids))?
            .wait()
            .map_err(|e| (DeclineReason::Storage, e))?;
        let mut shares = Vec::with_capacity(messages.len());
        for ((own, list), msg) in nonces.into_iter().zip(&lists).zip(&messages) {
            let refused =
                |e: crate::engine::EngineError| (DeclineReason::PlanRefused, e.to_string());
            let package = loaded
                .prepared
                .package(loaded.me, &own, list, msg)
                .map_err(refused)?;
            let share = loaded
                .prepared
                .share(own.nonces, &package)
                .map_err(refused)?;
            shares.push(hex::encode(share));
        }
        Ok(shares)
    }
}
