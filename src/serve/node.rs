//! One serve node: a party home unlocked once, its cluster, and the sessions it runs
//! as coordinator (for an HTTP request) or participant (for a member's proposal).
//!
//! A session runs on a blocking thread: [`Ceremony::step`] with a [`BusCarrier`],
//! woken by the session's inbox as envelopes arrive, until it is done, a member
//! declines, or the deadline passes. A session that does not finish is abandoned at
//! once: its secret state (a FROST nonce, a presignature) is destroyed, so it is never
//! left ambiguous and never used later.

use super::ApiError;
use super::cluster::{BusCarrier, Cluster, Inbox, NodeMsg};
use super::policy::{self, SIGN_ACTION};
use crate::ceremony::{self, Ceremony, Outcome, Progress};
use crate::identity::{Card, Identity};
use crate::plan::{
    AuxMode, HashMode, KeygenPlan, Plan, Presign, RefreshPlan, SignPlan, Valid, fresh_nonce, now,
};
use crate::scheme::Scheme;
use crate::store::db::{Db, KeyRecord};
use crate::store::keystore::{Lookup, lookup};
use crate::store::{Home, Store};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A node's settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// How long a signing session may take before the request fails.
    pub session_timeout: Duration,
    /// How long a key generation may take.
    pub keygen_timeout: Duration,
    /// Sessions running at once on this node.
    pub max_sessions: usize,
    /// Requests per second one token may make (a burst of as many); `None`: no limit.
    pub rate_limit: Option<std::num::NonZeroU32>,
    /// HTTP requests in flight at once; more are answered 503 at once.
    pub max_requests: usize,
    /// How long a session waits for an operator's approval where a key's policy asks
    /// for one.
    pub approval_timeout: Duration,
    /// ECDSA presignatures this node keeps per key and signer set (0: none).
    pub presign_pool: usize,
    /// The pool is topped up when it holds fewer than this.
    pub presign_low: usize,
}

impl Config {
    /// The longest a request's own work may take: a key generation, or a signature
    /// that waits for approvals and then, after one try, for a second set of signers.
    pub fn request_budget(&self) -> Duration {
        self.keygen_timeout
            .max(self.session_timeout * 2 + self.approval_timeout)
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            session_timeout: Duration::from_secs(5),
            keygen_timeout: Duration::from_secs(120),
            max_sessions: 256,
            rate_limit: std::num::NonZeroU32::new(500),
            max_requests: 1024,
            approval_timeout: Duration::from_secs(120),
            presign_pool: 0,
            presign_low: 0,
        }
    }
}

/// The node.
pub struct Node {
    /// The party home.
    pub home: Home,
    /// The identity, unlocked once.
    pub identity: Arc<Identity>,
    /// Members and bus.
    pub cluster: Arc<Cluster>,
    /// The API's connection to the home's database (tokens, policies, audit).
    pub db: Mutex<Db>,
    /// Settings.
    pub config: Config,
    /// When the node started.
    pub started: Instant,
    /// Requests per token.
    pub limiter: Option<governor::DefaultKeyedRateLimiter<String>>,
    /// The audit writer (group commit).
    pub audit: super::audit::AuditWriter,
    /// FROST nonce pools and cached shares.
    pub pools: super::fast::Pools,
    /// Sessions waiting for an operator's approval.
    pub approvals: super::approval::Approvals,
    /// ECDSA presignatures this node coordinated.
    pub presigs: super::presig::Presigs,
    /// Work started through the API that answers later.
    pub jobs: super::jobs::Jobs,
    /// Permits for CPU-heavy ceremony steps, one per core.
    pub cores: Permits,
    /// Request ids whose audit row is being written (see `api::refused_by_layer`).
    pub auditing: Mutex<std::collections::HashSet<String>>,
    running: AtomicUsize,
    stopping: AtomicBool,
}

/// A session's (or a request's) open inbox; closed when dropped.
pub(super) struct Opened {
    cluster: Arc<Cluster>,
    pub(super) session: [u8; 32],
    pub(super) inbox: Arc<Inbox>,
}

impl Drop for Opened {
    fn drop(&mut self) {
        self.cluster.close_inbox(&self.session);
    }
}

/// Counts a running session; the count drops with it.
pub(super) struct Slot<'a>(&'a AtomicUsize);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Node {
    /// A node for `home`, unlocked as `identity`, in `cluster`.
    pub fn new(
        home: Home,
        identity: Identity,
        members: Vec<Card>,
        config: Config,
    ) -> Result<Node, ApiError> {
        let identity = Arc::new(identity);
        let db = home.db().map_err(ApiError::store)?;
        let cluster = Arc::new(Cluster::new(identity.card(), members));
        super::members::apply_saved(&db, &cluster).map_err(ApiError::store)?;
        super::metrics::init();
        let audit = super::audit::AuditWriter::start(&home, Arc::clone(&identity))
            .map_err(ApiError::store)?;
        Ok(Node {
            audit,
            pools: super::fast::Pools::default(),
            approvals: super::approval::Approvals::default(),
            presigs: super::presig::Presigs::default(),
            jobs: super::jobs::Jobs::default(),
            auditing: Mutex::default(),
            cores: Permits::new(std::thread::available_parallelism().map_or(2, |n| n.get())),
            cluster,
            home,
            identity,
            db: Mutex::new(db),
            limiter: config
                .rate_limit
                .map(|n| governor::RateLimiter::keyed(governor::Quota::per_second(n))),
            config,
            started: Instant::now(),
            running: AtomicUsize::new(0),
            stopping: AtomicBool::new(false),
        })
    }

    /// The API's database connection.
    pub fn db(&self) -> std::sync::MutexGuard<'_, Db> {
        self.db.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sessions running now.
    pub fn running(&self) -> usize {
        self.running.load(Ordering::SeqCst)
    }

    /// Whether the node still takes new sessions (it is not shutting down).
    pub fn accepting(&self) -> bool {
        !self.stopping.load(Ordering::SeqCst)
    }

    /// Refuses new sessions from now on (shutdown).
    pub fn stop_accepting(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    pub(super) fn slot(&self) -> Result<Slot<'_>, String> {
        if self.stopping.load(Ordering::SeqCst) {
            return Err("the node is shutting down".into());
        }
        if self.running.fetch_add(1, Ordering::SeqCst) >= self.config.max_sessions {
            self.running.fetch_sub(1, Ordering::SeqCst);
            return Err(format!(
                "the node runs {} sessions already, its limit",
                self.config.max_sessions
            ));
        }
        Ok(Slot(&self.running))
    }

    /// The key `id` (or a unique prefix) in this home.
    pub fn key(&self, id: &str) -> Result<KeyRecord, ApiError> {
        match lookup(&self.db(), id).map_err(ApiError::store)? {
            Lookup::Found(k) => Ok(*k),
            Lookup::None => Err(ApiError::new(
                404,
                "key_not_found",
                format!("no key {id} on this node"),
            )),
            Lookup::Ambiguous(n) => Err(ApiError::new(
                400,
                "ambiguous_key",
                format!("{n} keys start with {id}; give more of the id"),
            )),
        }
    }

    /// Runs this node's part of `plan` with the other `participants` until it is done,
    /// a member declines, or `deadline`.
    fn run_session(
        &self,
        plan: Valid<Plan>,
        deadline: Instant,
        inbox: &Arc<Inbox>,
    ) -> Result<Outcome, ApiError> {
        let me = self.cluster.me.clone();
        // Signing from a presignature is a few scalar operations: not heavy.
        let heavy = plan.scheme() == Scheme::EcdsaSecp256k1
            && !matches!(&*plan, Plan::Sign(p) if matches!(p.presign, Some(Presign::Consume { .. })));
        let others: Vec<(u16, Card)> = plan
            .participants()
            .into_iter()
            .filter_map(|i| plan.party(i).map(|c| (i, c.clone())))
            .filter(|(_, c)| c.ed25519 != me.ed25519)
            .collect();
        let carrier = BusCarrier::new(Arc::clone(&self.cluster), Arc::clone(inbox), others.clone());
        // A member waiting for its operator's approval moves the deadline, up to this
        // node's own approval timeout.
        let latest = deadline + self.config.approval_timeout;
        let store = Store::home(&self.home).map_err(ApiError::store)?;
        let mut c = Ceremony::open(
            store,
            Arc::clone(&self.identity),
            plan,
            vec![Box::new(carrier)],
            |_, _| Ok::<_, ceremony::Error>(true),
        )
        .map_err(ApiError::ceremony)?;
        // The others stop waiting for this node at once, rather than at their own
        // deadlines, when its part ends without a result.
        let tell_others = |sid: &str, code: &str, e: &ApiError| {
            let to: Vec<&Card> = others.iter().map(|(_, c)| c).collect();
            let _ = self.cluster.send_node(
                &self.identity,
                &to,
                &NodeMsg::Decline {
                    session: sid.to_string(),
                    code: code.into(),
                    reason: format!("node {} ended the session: {}", me.name, e.message),
                },
            );
        };
        // CGGMP21 steps are CPU-heavy (Paillier proofs): as many run at once as there
        // are cores, whatever the number of sessions; FROST steps are cheap and free.
        loop {
            let stepped = {
                let _core = heavy.then(|| self.cores.take());
                c.step()
            };
            let missing = match stepped {
                Ok(Progress::Done(o)) => return Ok(o),
                Ok(Progress::Waiting { missing, .. }) => missing,
                Err(e) => {
                    let e = ApiError::ceremony(e);
                    tell_others(c.session_hex(), "failed", &e);
                    return Err(e);
                }
            };
            let deadline = match inbox.awaiting_until() {
                Some(until) => deadline.max((until + self.config.session_timeout).min(latest)),
                None => deadline,
            };
            let stop = if let Some(d) = inbox.declined() {
                Some(d.error())
            } else if Instant::now() >= deadline {
                let labels: Vec<String> = missing.iter().map(|&i| c.party_label(i)).collect();
                // Node names, as everywhere in the API (and as a retry leaves them out).
                let names: Vec<String> = missing
                    .iter()
                    .map(|&i| {
                        others
                            .iter()
                            .find(|(j, _)| *j == i)
                            .map_or_else(|| c.party_label(i), |(_, card)| card.name.clone())
                    })
                    .collect();
                let trouble = c.trouble();
                Some(
                    ApiError::new(
                        504,
                        "timed_out",
                        format!(
                            "the session did not finish in time; waiting for {}{}",
                            labels.join(", "),
                            trouble.map(|t| format!(" ({t})")).unwrap_or_default()
                        ),
                    )
                    .details(serde_json::json!({"awaited": names})),
                )
            } else {
                None
            };
            if let Some(e) = stop {
                let sid = c.session_hex().to_string();
                let code = if e.code == "cancelled" {
                    "cancelled"
                } else {
                    "abandoned"
                };
                tell_others(&sid, code, &e);
                let mut store = c.into_store();
                // Nothing secret of an unfinished session outlives the request.
                let _ = ceremony::abandon(&*store.vault, &mut store.db, &sid);
                return Err(e.session(&sid));
            }
            inbox.wait(
                deadline
                    .saturating_duration_since(Instant::now())
                    .min(Duration::from_millis(250)),
            );
        }
    }

    /// Opens the inbox of `session` until the guard is dropped.
    pub(super) fn open(&self, session: [u8; 32]) -> Opened {
        Opened {
            inbox: self.cluster.open_inbox(session),
            cluster: Arc::clone(&self.cluster),
            session,
        }
    }

    /// Whether `key` may sign with these options here (its state, the hash mode's
    /// scheme, this node's own policy: this node is a signer of every session it
    /// coordinates, so its policy is checked first); its scheme, hash mode and policy
    /// mode (`Approval`: an operator of this node must approve each session).
    fn signing_key(
        &self,
        key: &KeyRecord,
        hash: Option<HashMode>,
        path: Option<&str>,
    ) -> Result<(Scheme, Option<HashMode>, policy::Mode), ApiError> {
        crate::store::keystore::ensure_signs(key)
            .map_err(|e| ApiError::new(409, "wrong_key_state", e.to_string()))?;
        let scheme: Scheme = key.scheme.parse().map_err(ApiError::internal)?;
        let bad = |m: &str| Err(ApiError::new(400, "bad_request", m.to_string()));
        let hash = match (scheme, hash) {
            (Scheme::EcdsaSecp256k1, h) => Some(h.unwrap_or(HashMode::Sha256)),
            (_, Some(_)) => return bad("`hash` applies only to ecdsa-secp256k1"),
            (_, None) => None,
        };
        if path.is_some() && scheme != Scheme::EcdsaSecp256k1 {
            return bad("`path` applies only to ecdsa-secp256k1");
        }
        let mode = self
            .own_policy(&key.id, hash, path)
            .map_err(|why| self.refused_here("policy_refused", why))?;
        Ok((scheme, hash, mode))
    }

    /// What this node's own policy for `key_id` says of signing with `hash` at `path`:
    /// the mode it allows it in, or why not.
    pub(super) fn own_policy(
        &self,
        key_id: &str,
        hash: Option<HashMode>,
        path: Option<&str>,
    ) -> Result<policy::Mode, String> {
        let db = self.db();
        let p = policy::get(&db, key_id).map_err(|e| e.to_string())?;
        policy::check(&db, &p, key_id, hash, path)
    }

    /// Writes a signing decision's audit rows (`serve.sign` when it joins,
    /// `serve.decline` when not), durably, and returns the decision.
    pub(super) fn audit_decision(
        &self,
        decision: Result<(), String>,
        rows: Vec<(String, serde_json::Value)>,
    ) -> Result<(), String> {
        self.audit.write_all(decision_action(&decision), rows)?;
        decision
    }

    /// As [`Node::audit_decision`], without waiting for the rows to be durable: the
    /// caller waits on what it gets back before anything the decision allows leaves
    /// the node.
    pub(super) fn audit_decision_pending(
        &self,
        decision: Result<(), String>,
        rows: Vec<(String, serde_json::Value)>,
    ) -> Result<super::audit::Pending, String> {
        let pending = self.audit.submit_all(decision_action(&decision), rows);
        decision.map(|()| pending)
    }

    /// Coordinates a signature of `message` with `key` (`POST /sign`).
    pub fn sign(
        &self,
        key: &KeyRecord,
        message: Vec<u8>,
        hash: Option<HashMode>,
        path: Option<String>,
        request_id: &str,
    ) -> Result<Signed, ApiError> {
        let mut signed = self.sign_messages(key, vec![message], hash, path, request_id)?;
        signed
            .pop()
            .ok_or_else(|| ApiError::internal("no signature was made"))
    }

    /// Coordinates signatures of several messages with `key` (`POST /sign/batch`).
    pub fn sign_batch(
        &self,
        key: &KeyRecord,
        messages: Vec<Vec<u8>>,
        hash: Option<HashMode>,
        request_id: &str,
    ) -> Result<Vec<Signed>, ApiError> {
        if messages.is_empty() || messages.len() > super::fast::MAX_BATCH {
            return Err(ApiError::new(
                400,
                "bad_request",
                format!("a batch has 1 to {} messages", super::fast::MAX_BATCH),
            ));
        }
        self.sign_messages(key, messages, hash, None, request_id)
    }

    /// Signs `messages` (see [`Node::sign_attempt`]); where signers did not answer or
    /// declined, once more without them.
    fn sign_messages(
        &self,
        key: &KeyRecord,
        messages: Vec<Vec<u8>>,
        hash: Option<HashMode>,
        path: Option<String>,
        request_id: &str,
    ) -> Result<Vec<Signed>, ApiError> {
        let _slot = self.slot().map_err(|e| ApiError::new(503, "busy", e))?;
        let (scheme, hash, mode) = self.signing_key(key, hash, path.as_deref())?;
        let parties = key.parties().map_err(ApiError::store)?;
        let attempt = Attempt {
            key,
            parties: &parties,
            scheme,
            mode,
            hash,
            path: &path,
            request_id,
        };
        let first = self.sign_attempt(&attempt, &messages, &[]);
        // The signers that did not answer or declined are named: where another t of
        // the key's nodes are up, they sign instead (once).
        let Err(e) = first else { return first };
        let retry = matches!(
            e.code,
            "timed_out" | "busy" | "policy_refused" | "node_refused" | "node_failed"
        );
        let mut without: Vec<String> = match (&e.details["awaited"], &e.details["node"]) {
            (serde_json::Value::Array(a), _) => a
                .iter()
                .filter_map(|n| n.as_str().map(str::to_string))
                .collect(),
            (_, serde_json::Value::String(n)) => vec![n.clone()],
            _ => Vec::new(),
        };
        without.retain(|n| *n != self.cluster.me.name);
        if !retry || without.is_empty() {
            return Err(e);
        }
        super::log(&format!(
            "request {request_id}: signing again without {} ({})",
            without.join(", "),
            e.code
        ));
        match self.sign_attempt(&attempt, &messages, &without) {
            Ok(mut signed) => {
                for s in &mut signed {
                    s.retried_without = Some(without.clone());
                }
                Ok(signed)
            }
            // No other t-subset: the first failure says what went wrong.
            Err(again) if again.code == "not_enough_nodes" => Err(e),
            Err(again) => Err(again),
        }
    }

    /// One try at signing `messages`, leaving out the members named in `without`: FROST
    /// from the nonce pools, all in one round trip, where they hold enough; else a
    /// session per message (ECDSA: from a presignature where it can).
    fn sign_attempt(
        &self,
        a: &Attempt<'_>,
        messages: &[Vec<u8>],
        without: &[String],
    ) -> Result<Vec<Signed>, ApiError> {
        let Attempt {
            key,
            parties,
            scheme,
            mode,
            hash,
            path,
            request_id,
        } = *a;
        // With approval here, each message gets a session an operator can see and join.
        let fast = match mode {
            policy::Mode::Approval => None,
            _ => self.sign_fast(key, messages, without),
        };
        match fast {
            Some(Ok(f)) => {
                return f
                    .signatures
                    .iter()
                    .map(|s| {
                        self.signed(
                            key,
                            parties,
                            scheme,
                            s,
                            None,
                            None,
                            f.id.clone(),
                            &f.signers,
                            "preprocessed",
                        )
                    })
                    .collect();
            }
            // A signer lost its nonces (it restarted): a whole session still signs.
            Some(Err(e)) if e.code == "node_refused" => {}
            Some(Err(e)) => return Err(e),
            None => {}
        }
        messages
            .iter()
            .map(|m| {
                let p = path.clone();
                self.sign_full(key, parties, scheme, m, hash, p, request_id, without)
            })
            .collect()
    }

    /// A signing session among this node and `t - 1` up members: for ECDSA from a
    /// presignature of the pool where the advisory allows (one round), else whole.
    #[allow(clippy::too_many_arguments)]
    fn sign_full(
        &self,
        key: &KeyRecord,
        parties: &[Card],
        scheme: Scheme,
        message: &[u8],
        hash: Option<HashMode>,
        path: Option<String>,
        request_id: &str,
        without: &[String],
    ) -> Result<Signed, ApiError> {
        let signers = self.pick_without(parties, key.threshold, without)?;
        if scheme == Scheme::EcdsaSecp256k1
            && super::presig::allowed(hash, path.as_deref())
            && let Some(session) = self.presigs.take(&key.id, &signers)
        {
            let presign = Some(Presign::Consume { session });
            let who = signers.as_slice();
            match self.sign_session(
                key, parties, scheme, message, hash, None, who, presign, request_id,
            ) {
                Ok(s) => return Ok(s),
                // A signer that cannot use it (it lost it to a rotation, say): a whole
                // session still signs. Refusals and timeouts are final.
                Err(e)
                    if matches!(
                        e.code,
                        "node_refused" | "bad_request" | "spent" | "session_ended"
                    ) =>
                {
                    super::log(&format!(
                        "a presignature of key {} could not be used ({e}); signing with a whole session",
                        key.id
                    ));
                }
                Err(e) => return Err(e),
            }
        }
        let who = signers.as_slice();
        self.sign_session(
            key, parties, scheme, message, hash, path, who, None, request_id,
        )
    }

    /// One signing session of `message` among `signers`, with a presignature role.
    #[allow(clippy::too_many_arguments)]
    fn sign_session(
        &self,
        key: &KeyRecord,
        parties: &[Card],
        scheme: Scheme,
        message: &[u8],
        hash: Option<HashMode>,
        path: Option<String>,
        signers: &[u16],
        presign: Option<Presign>,
        request_id: &str,
    ) -> Result<Signed, ApiError> {
        let (mode, presignature) = match &presign {
            Some(Presign::Consume { session }) => ("presigned", Some(session.clone())),
            _ => ("full", None),
        };
        use base64::Engine as _;
        let plan = Plan::Sign(SignPlan {
            version: 1,
            scheme,
            key_id: key.id.clone(),
            group_public_key: key.public_key.clone(),
            threshold: key.threshold,
            parties: parties.to_vec(),
            signers: signers.to_vec(),
            message: base64::engine::general_purpose::STANDARD.encode(message),
            label: format!("api request {request_id}"),
            expires_at: now()
                + (self.config.session_timeout + self.config.approval_timeout).as_secs()
                + 60,
            nonce: fresh_nonce(),
            hash,
            path,
            presign,
        })
        .validated()
        .map_err(|e| ApiError::new(400, "bad_request", e.to_string()))?;
        let Plan::Sign(sp) = &*plan else {
            unreachable!("a sign plan")
        };
        let me = self.cluster.me.clone();
        self.decide_sign(sp, &me, None, |_| {})
            .map_err(|(code, why)| self.refused_here(code, why))?;
        let others: Vec<&Card> = signers
            .iter()
            .filter_map(|&i| parties.get(usize::from(i) - 1))
            .filter(|c| !self.cluster.is_me(c))
            .collect();
        let session = hex::encode(plan.session_id());
        let outcome = self.coordinate(plan, &others, self.config.session_timeout, false)?;
        let Outcome::Sign {
            signature,
            recovery_id,
            derived_public_key,
            ..
        } = outcome
        else {
            return Err(ApiError::internal(
                "the signing session ended with another kind of result",
            ));
        };
        let raw = hex::decode(&signature).map_err(ApiError::internal)?;
        let mut signed = self.signed(
            key,
            parties,
            scheme,
            &raw,
            recovery_id,
            derived_public_key,
            session,
            signers,
            mode,
        )?;
        signed.presignature = presignature;
        Ok(signed)
    }

    /// The answer for a signature.
    #[allow(clippy::too_many_arguments)]
    fn signed(
        &self,
        key: &KeyRecord,
        parties: &[Card],
        scheme: Scheme,
        raw: &[u8],
        recovery_id: Option<u8>,
        derived_public_key: Option<String>,
        session: String,
        signers: &[u16],
        mode: &str,
    ) -> Result<Signed, ApiError> {
        use base64::Engine as _;
        let forms = match (<[u8; 64]>::try_from(raw), recovery_id) {
            (Ok(rs), Some(v)) => {
                Some(crate::pubkey::ecdsa_forms(&rs, v).map_err(ApiError::internal)?)
            }
            _ => None,
        };
        super::metrics::signed(scheme.id(), mode, 1);
        Ok(Signed {
            key_id: key.id.clone(),
            scheme: scheme.id().to_string(),
            signature: hex::encode(raw),
            signature_base64: base64::engine::general_purpose::STANDARD.encode(raw),
            der: forms.as_ref().map(|f| hex::encode(&f.der)),
            recoverable: forms.as_ref().map(|f| hex::encode(&f.recoverable)),
            eth: forms.as_ref().map(|f| hex::encode(&f.eth)),
            recovery_id,
            derived_public_key,
            session,
            signers: signers
                .iter()
                .filter_map(|&i| parties.get(usize::from(i) - 1).map(|c| c.name.clone()))
                .collect(),
            mode: mode.into(),
            presignature: None,
            retried_without: None,
        })
    }

    /// This node's refusal (`code` as in a member's `Decline`) as the request's failure.
    pub(super) fn refused_here(&self, code: &str, why: String) -> ApiError {
        super::cluster::Declined {
            node: self.cluster.me.name.clone(),
            code: code.into(),
            reason: why,
        }
        .error()
    }

    /// This node's decision on contributing to a signing plan proposed by `proposer`,
    /// audited; `Err` has a `Decline` code and says why not. Where the key's policy
    /// asks for approval, the session waits for this node's operator (`waiting` is
    /// told for how long first), so this may take up to the approval timeout.
    fn decide_sign(
        &self,
        plan: &SignPlan,
        proposer: &Card,
        inbox: Option<&Inbox>,
        waiting: impl FnOnce(Duration),
    ) -> Result<(), (&'static str, String)> {
        let own = || self.own_policy(&plan.key_id, plan.hash, plan.path.as_deref());
        let whole = Plan::Sign(plan.clone());
        let session = hex::encode(whole.session_id());
        let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
            whole.message().unwrap_or_default(),
        ));
        let mut approved_by = None;
        let decision = match own() {
            Ok(policy::Mode::Approval) => {
                let max = self.config.approval_timeout;
                waiting(max);
                super::log(&format!(
                    "session {} from {} (key {}) waits up to {} for an operator: POST /api/v1/sessions/{session}/join",
                    &session[..16],
                    proposer.name,
                    plan.key_id,
                    humantime::format_duration(max)
                ));
                let asked = super::approval::Asked {
                    id: session.clone(),
                    kind: "sign",
                    status: "awaiting_approval",
                    key_id: plan.key_id.clone(),
                    proposer: proposer.name.clone(),
                    message_sha256: digest.clone(),
                    hash: plan.hash.map(|h| serde_json::json!(h)),
                    path: plan.path.clone(),
                    approve_by: now() + max.as_secs(),
                };
                let ended = || inbox.is_some_and(|i| i.declined().is_some());
                match self.approvals.ask(asked, max, ended) {
                    // The policy may have changed while the session waited.
                    super::approval::Verdict::Approved(token) => {
                        approved_by = Some(token);
                        own().map(|_| ()).map_err(|why| ("policy_refused", why))
                    }
                    super::approval::Verdict::Cancelled(token) => Err((
                        "cancelled",
                        format!("an operator (token {token}) refused the session"),
                    )),
                    super::approval::Verdict::Ended => Err((
                        "abandoned",
                        "the session ended elsewhere while it waited for approval".into(),
                    )),
                    super::approval::Verdict::Waiting => Err((
                        "not_approved",
                        format!(
                            "no operator approved the session within {}",
                            humantime::format_duration(max)
                        ),
                    )),
                }
            }
            Ok(_) => Ok(()),
            Err(why) => Err(("policy_refused", why)),
        };
        let detail = serde_json::json!({
            "session": session,
            "proposer": proposer.name,
            "joined": decision.is_ok(),
            "reason": decision.as_ref().err().map(|e| &e.1),
            "approved_by": approved_by,
            "message_sha256": digest,
            "path": "full",
        });
        let code = decision.as_ref().err().map_or("storage", |e| e.0);
        self.audit_decision(
            decision.map_err(|e| e.1),
            vec![(plan.key_id.clone(), detail)],
        )
        .map_err(|why| (code, why))
    }

    /// The signers for a new session of a key with `parties` and threshold `t`: this
    /// node first, then members that are up, in key order.
    pub(super) fn pick(&self, parties: &[Card], t: u16) -> Result<Vec<u16>, ApiError> {
        self.pick_without(parties, t, &[])
    }

    /// As [`Node::pick`], leaving out the members named in `without`.
    fn pick_without(
        &self,
        parties: &[Card],
        t: u16,
        without: &[String],
    ) -> Result<Vec<u16>, ApiError> {
        let mut chosen = Vec::new();
        let mut down = Vec::new();
        let mut why = Vec::new();
        for (i, c) in parties.iter().enumerate() {
            let index = i as u16 + 1;
            if self.cluster.is_me(c) {
                chosen.insert(0, index);
                continue;
            }
            let reason = if self.cluster.member(&super::cluster::card_key(c)).is_none() {
                " (not a cluster member)"
            } else if without.contains(&c.name) {
                " (did not sign just now)"
            } else if self.cluster.is_up(c) {
                chosen.push(index);
                continue;
            } else {
                ""
            };
            down.push(c.name.clone());
            why.push(format!("{}{reason}", c.name));
        }
        if chosen.len() < usize::from(t) {
            return Err(ApiError::new(
                503,
                "not_enough_nodes",
                format!(
                    "{} of the {t} signers needed are up; not reachable: {}",
                    chosen.len(),
                    why.join(", ")
                ),
            )
            .details(serde_json::json!({"unreachable": down})));
        }
        chosen.truncate(usize::from(t));
        chosen.sort_unstable();
        Ok(chosen)
    }

    /// Coordinates a key generation among cluster members (`POST /keys`).
    pub fn keygen(&self, req: &KeygenRequest) -> Result<Outcome, ApiError> {
        let _slot = self.slot().map_err(|e| ApiError::new(503, "busy", e))?;
        let members: Vec<Card> = match &req.nodes {
            None => self.cluster.members(),
            Some(names) => names
                .iter()
                .map(|n| {
                    self.cluster.member_named(n).ok_or_else(|| {
                        ApiError::new(400, "bad_request", format!("`{n}` is not a cluster member"))
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        if !members.iter().any(|c| self.cluster.is_me(c)) {
            return Err(ApiError::new(
                400,
                "bad_request",
                "the coordinating node must be one of the key's nodes",
            ));
        }
        self.all_up(&members, "a key generation")?;
        let aux = (req.scheme == Scheme::EcdsaSecp256k1).then(|| {
            if self
                .home
                .aux_path(&crate::plan::party_set_id(&members))
                .exists()
            {
                AuxMode::Reuse
            } else {
                AuxMode::Generate
            }
        });
        let plan = Plan::Keygen(KeygenPlan {
            version: 1,
            scheme: req.scheme,
            threshold: req.threshold,
            parties: members.clone(),
            label: req.label.clone().unwrap_or_default(),
            expires_at: now() + self.config.keygen_timeout.as_secs() + 60,
            nonce: fresh_nonce(),
            aux,
        })
        .validated()
        .map_err(|e| ApiError::new(400, "bad_request", e.to_string()))?;
        let others: Vec<&Card> = members.iter().filter(|c| !self.cluster.is_me(c)).collect();
        self.coordinate(plan, &others, self.config.keygen_timeout, true)
    }

    /// Drops what this node keeps in memory for `key_id` (its share was refreshed): the
    /// loaded share, nonces and commitments, and its presignatures (made with the old
    /// shares).
    fn forget_key(&self, key_id: &str) {
        self.pools.forget(key_id);
        self.presigs.forget(key_id);
    }

    /// `Ok` when every one of `nodes` is up (this node is), else 503 naming the others.
    fn all_up(&self, nodes: &[Card], what: &str) -> Result<(), ApiError> {
        let down: Vec<String> = nodes
            .iter()
            .filter(|c| !self.cluster.is_up(c))
            .map(|c| c.name.clone())
            .collect();
        if down.is_empty() {
            return Ok(());
        }
        Err(ApiError::new(
            503,
            "not_enough_nodes",
            format!(
                "{what} needs every node; not reachable: {}",
                down.join(", ")
            ),
        )
        .details(serde_json::json!({"unreachable": down})))
    }

    /// Coordinates a refresh of `key` among all its nodes (`POST /keys/{id}/rotate`):
    /// new shares of the same public key, the old ones destroyed once every node has
    /// confirmed (`ceremony::shares`).
    pub fn rotate(&self, key: &KeyRecord, request_id: &str) -> Result<Outcome, ApiError> {
        let _slot = self.slot().map_err(|e| ApiError::new(503, "busy", e))?;
        let scheme: Scheme = key.scheme.parse().map_err(ApiError::internal)?;
        if scheme == Scheme::EcdsaSecp256k1 && key.threshold != key.n {
            return Err(ApiError::new(
                409,
                "cannot_rotate",
                format!(
                    "key {} is a {}-of-{} ECDSA key: cggmp21 0.6 refreshes only n-of-n ECDSA shares (make a new key and move to it instead)",
                    key.id, key.threshold, key.n
                ),
            ));
        }
        let parties = key.parties().map_err(ApiError::store)?;
        self.all_up(&parties, "a rotation")?;
        let plan = Plan::Refresh(RefreshPlan {
            version: 1,
            scheme,
            key_id: key.id.clone(),
            group_public_key: key.public_key.clone(),
            threshold: key.threshold,
            parties: parties.clone(),
            label: format!("api request {request_id}"),
            expires_at: now() + self.config.keygen_timeout.as_secs() + 60,
            nonce: fresh_nonce(),
        })
        .validated()
        .map_err(|e| ApiError::new(400, "bad_request", e.to_string()))?;
        let others: Vec<&Card> = parties.iter().filter(|c| !self.cluster.is_me(c)).collect();
        let outcome = self.coordinate(plan, &others, self.config.keygen_timeout, true);
        // Whatever happened, the share held in memory may be stale now.
        self.forget_key(&key.id);
        outcome
    }

    /// Proposes `plan` to `others` and runs this node's part within `budget`. With
    /// `confirm`, also waits (within the budget) until every other node reports its
    /// part over, so a key is reported made only once every node holds its share.
    pub(super) fn coordinate(
        &self,
        plan: Valid<Plan>,
        others: &[&Card],
        budget: Duration,
        confirm: bool,
    ) -> Result<Outcome, ApiError> {
        let deadline = Instant::now() + budget;
        // The inbox opens before the proposal leaves, so no early answer is missed.
        let opened = self.open(plan.session_id());
        let sid = hex::encode(opened.session);
        self.cluster
            .send_node(
                &self.identity,
                others,
                &NodeMsg::Propose {
                    plan: plan.to_json(),
                },
            )
            .map_err(|e| ApiError::new(503, "bus_unavailable", e))?;
        let outcome = self.run_session(plan, deadline, &opened.inbox)?;
        if confirm {
            let reports = opened.inbox.wait_finished(others.len(), deadline);
            if let Some(bad) = reports.iter().find(|f| !f.ok) {
                return Err(ApiError::new(
                    502,
                    "node_failed",
                    format!("node {} failed its part: {}", bad.node, bad.detail),
                )
                .details(serde_json::json!({"node": bad.node}))
                .session(&sid));
            }
            awaited(
                others,
                |n| reports.iter().any(|f| f.node == n),
                "not confirmed in time by",
            )
            .map_err(|e| e.session(&sid))?;
        }
        Ok(outcome)
    }

    /// A node message from member `sender` (see [`Cluster::receive`]). Runs on the bus
    /// thread: what takes time goes to a thread of its own.
    pub fn on_message(self: &Arc<Self>, msg: NodeMsg, sender: Card) {
        match msg {
            NodeMsg::Propose { plan } => self.proposed(plan, sender),
            NodeMsg::Commitments {
                key_id,
                fresh,
                items,
            } => self.commitments(&sender, &key_id, fresh, items),
            NodeMsg::Want { key_id } => {
                let node = Arc::clone(self);
                std::thread::spawn(move || node.refill(Some((&key_id, &sender))));
            }
            NodeMsg::FastSign { id, key_id, items } => {
                let coordinator = sender.clone();
                let (session, to) = (id.clone(), sender);
                let spawned = self.spawn_counted("mpc-share", move |node| {
                    node.fast_sign_request(&coordinator, id, key_id, items)
                });
                if let Err(reason) = spawned {
                    self.decline(&to, session, "busy", reason);
                }
            }
            other => super::log(&format!(
                "unexpected node message from {}: {other:?}",
                sender.name
            )),
        }
    }

    /// A member proposed a session: decide, and run it on its own thread if this node
    /// joins. What is wrong with the proposal is answered with a `Decline` and logged.
    fn proposed(self: &Arc<Self>, plan_json: String, proposer: Card) {
        let plan = match Plan::from_json(plan_json.as_bytes()) {
            Ok(p) => p,
            Err(e) => {
                super::log(&format!(
                    "a proposal from {} was refused: {e}",
                    proposer.name
                ));
                return;
            }
        };
        let session = hex::encode(plan.session_id());
        if let Err((code, reason)) = self.decide(&plan, &proposer) {
            self.decline(&proposer, session, code, reason);
            return;
        }
        // Opened here, on the bus thread, before the next payload (the proposer's first
        // envelope, likely) is read.
        let opened = self.open(plan.session_id());
        let (to, sid) = (proposer.clone(), session.clone());
        let spawned = self.spawn_counted("mpc-session", move |node| {
            // A signing decision may wait for an operator, so it is made here, off the
            // bus thread.
            if let Plan::Sign(p) = &*plan
                && !matches!(p.presign, Some(Presign::Generate))
            {
                let decided = node.decide_sign(p, &proposer, Some(&opened.inbox), |max| {
                    let _ = node.cluster.send_node(
                        &node.identity,
                        &[&proposer],
                        &NodeMsg::Awaiting {
                            session: session.clone(),
                            seconds: max.as_secs(),
                        },
                    );
                });
                if let Err((code, reason)) = decided {
                    node.decline(&proposer, session, code, reason);
                    return;
                }
            }
            let budget = match &*plan {
                Plan::Keygen(_) => node.config.keygen_timeout,
                _ => node.config.session_timeout,
            };
            // A participant waits a little longer than its coordinator, so the
            // coordinator is the one that gives up and reports.
            let deadline = Instant::now() + budget + Duration::from_secs(1);
            let refreshed = match &*plan {
                Plan::Refresh(p) => Some(p.key_id.clone()),
                _ => None,
            };
            let result = node.run_session(plan, deadline, &opened.inbox);
            drop(opened);
            if let Some(key_id) = refreshed {
                node.forget_key(&key_id);
            }
            let (ok, detail) = match &result {
                Ok(o) => (true, o.kind().to_string()),
                Err(e) => (false, format!("{}: {}", e.code, e.message)),
            };
            super::log(&format!(
                "session {} from {}: {}",
                &session[..16],
                proposer.name,
                if ok { "done" } else { &detail }
            ));
            let _ = node.cluster.send_node(
                &node.identity,
                &[&proposer],
                &NodeMsg::Finished {
                    session,
                    ok,
                    detail,
                },
            );
        });
        if let Err(reason) = spawned {
            self.decline(&to, sid, "busy", reason);
        }
    }

    /// Tells `to` that this node will not take part in `session`, and logs why.
    fn decline(&self, to: &Card, session: String, code: &str, reason: String) {
        super::log(&format!(
            "declined {} from {}: {reason}",
            &session[..16.min(session.len())],
            to.name
        ));
        let _ = self.cluster.send_node(
            &self.identity,
            &[to],
            &NodeMsg::Decline {
                session,
                code: code.into(),
                reason,
            },
        );
    }

    /// Runs `f` on a thread of its own, counted as a running session for as long as it
    /// runs; refused (with the reason) at the limit, or when no thread can be had.
    fn spawn_counted(
        self: &Arc<Self>,
        name: &str,
        f: impl FnOnce(&Node) + Send + 'static,
    ) -> Result<(), String> {
        let slot = self.slot()?;
        std::mem::forget(slot);
        let node = Arc::clone(self);
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let _slot = Slot(&node.running);
                f(&node);
            })
            .map(|_| ())
            .map_err(|e| {
                self.running.fetch_sub(1, Ordering::SeqCst);
                format!("cannot start a thread: {e}")
            })
    }

    fn decide(&self, plan: &Plan, proposer: &Card) -> Result<(), (&'static str, String)> {
        if plan.index_of(proposer).is_none() {
            return Err((
                "plan_refused",
                format!("{} proposed a session it is not a party of", proposer.name),
            ));
        }
        let me = self.cluster.me.clone();
        if !plan
            .participants()
            .iter()
            .any(|&i| plan.party(i).is_some_and(|c| c.ed25519 == me.ed25519))
        {
            return Err((
                "plan_refused",
                "this node is not a participant of the plan".into(),
            ));
        }
        match plan {
            // Decided on the session's thread (`decide_sign`).
            Plan::Sign(p) if !matches!(p.presign, Some(Presign::Generate)) => Ok(()),
            // A presignature signs nothing yet; it is made for keys this node signs
            // with unasked.
            Plan::Sign(p) => {
                match self.own_policy(&p.key_id, None, None) {
                    Ok(policy::Mode::Auto) => {}
                    Ok(_) => {
                        return Err((
                            "policy_refused",
                            format!(
                                "the policy of key {} on this node makes no presignatures (not `auto`)",
                                p.key_id
                            ),
                        ));
                    }
                    Err(why) => return Err(("policy_refused", why)),
                }
                let detail = serde_json::json!({"session": hex::encode(plan.session_id()), "proposer": proposer.name, "joined": true, "signers": p.signers});
                self.audit
                    .write("serve.presign", &p.key_id, detail)
                    .map_err(|e| ("storage", e))
            }
            Plan::Keygen(_) | Plan::Refresh(_) => {
                let (action, subject) = match plan {
                    Plan::Refresh(p) => ("serve.rotate", p.key_id.as_str()),
                    _ => ("serve.keygen", plan.label()),
                };
                let detail = serde_json::json!({"session": hex::encode(plan.session_id()), "proposer": proposer.name, "joined": true});
                self.audit
                    .write(action, subject, detail)
                    .map_err(|e| ("storage", e))
            }
            other => Err((
                "unsupported",
                format!(
                    "this node does not join {} sessions proposed over the bus",
                    other.kind()
                ),
            )),
        }
    }
}

/// A counting semaphore: `take` waits for a permit, which is given back when dropped.
pub struct Permits {
    free: Mutex<usize>,
    given_back: std::sync::Condvar,
}

/// A permit of [`Permits`].
pub struct Permit<'a>(&'a Permits);

impl Permits {
    /// `n` permits.
    pub fn new(n: usize) -> Permits {
        Permits {
            free: Mutex::new(n.max(1)),
            given_back: std::sync::Condvar::new(),
        }
    }

    /// Waits for a permit.
    pub fn take(&self) -> Permit<'_> {
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        while *free == 0 {
            free = self
                .given_back
                .wait(free)
                .unwrap_or_else(|p| p.into_inner());
        }
        *free -= 1;
        Permit(self)
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        *self.0.free.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        self.0.given_back.notify_one();
    }
}

/// The audit action of a signing decision: joined, or declined.
fn decision_action(decision: &Result<(), String>) -> &'static str {
    if decision.is_ok() {
        SIGN_ACTION
    } else {
        "serve.decline"
    }
}

/// What a signing request is, for each try at it.
#[derive(Clone, Copy)]
struct Attempt<'a> {
    key: &'a KeyRecord,
    parties: &'a [Card],
    scheme: Scheme,
    mode: policy::Mode,
    hash: Option<HashMode>,
    path: &'a Option<String>,
    request_id: &'a str,
}

/// A 504 naming the `others` that did not answer (`answered` says who did), or `Ok`.
pub(super) fn awaited(
    others: &[&Card],
    answered: impl Fn(&str) -> bool,
    what: &str,
) -> Result<(), ApiError> {
    let silent: Vec<String> = others
        .iter()
        .filter(|c| !answered(&c.name))
        .map(|c| c.name.clone())
        .collect();
    if silent.is_empty() {
        return Ok(());
    }
    Err(
        ApiError::new(504, "timed_out", format!("{what} {}", silent.join(", ")))
            .details(serde_json::json!({"awaited": silent})),
    )
}

/// How `message` is written in a request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MessageEncoding {
    /// The text itself, as UTF-8 bytes.
    #[default]
    Utf8,
    /// Hex.
    Hex,
    /// Standard base64.
    Base64,
}

/// Decodes a request's message.
pub fn decode_message(message: &str, encoding: MessageEncoding) -> Result<Vec<u8>, ApiError> {
    use base64::Engine as _;
    let bytes = match encoding {
        MessageEncoding::Utf8 => Ok(message.as_bytes().to_vec()),
        MessageEncoding::Hex => {
            hex::decode(message.trim()).map_err(|e| format!("`message` is not valid hex: {e}"))
        }
        MessageEncoding::Base64 => base64::engine::general_purpose::STANDARD
            .decode(message.trim())
            .map_err(|e| format!("`message` is not valid base64: {e}")),
    }
    .map_err(|e| ApiError::new(400, "bad_request", e))?;
    if bytes.len() > crate::plan::MAX_MESSAGE_LEN {
        return Err(ApiError::new(
            413,
            "too_large",
            "the message is larger than 1 MiB",
        ));
    }
    Ok(bytes)
}

/// `POST /sign`.
#[derive(Clone, Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignRequest {
    /// The key id (or a unique prefix).
    pub key_id: String,
    /// The message.
    pub message: String,
    /// How `message` is written.
    #[serde(default)]
    pub encoding: MessageEncoding,
    /// ecdsa-secp256k1: how the message is hashed (default sha256).
    #[serde(default)]
    pub hash: Option<HashMode>,
    /// ecdsa-secp256k1: a non-hardened BIP32 path to sign with the child key.
    #[serde(default)]
    pub path: Option<String>,
}

/// `POST /sign/batch`.
#[derive(Clone, Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// The key id (or a unique prefix).
    pub key_id: String,
    /// The messages.
    pub messages: Vec<String>,
    /// How the messages are written.
    #[serde(default)]
    pub encoding: MessageEncoding,
    /// ecdsa-secp256k1: how the messages are hashed (default sha256).
    #[serde(default)]
    pub hash: Option<HashMode>,
}

/// A signature made by the cluster.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Signed {
    /// The key.
    pub key_id: String,
    /// The scheme.
    pub scheme: String,
    /// The signature, hex (ECDSA: compact r||s, low-s).
    pub signature: String,
    /// The same, base64.
    pub signature_base64: String,
    /// ECDSA: DER, hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub der: Option<String>,
    /// ECDSA: r||s||v, v the recovery id (0/1), hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recoverable: Option<String>,
    /// ECDSA: r||s||v with v = 27 + recovery id (Ethereum), hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eth: Option<String>,
    /// ECDSA: the recovery id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_id: Option<u8>,
    /// ECDSA with a path: the child public key, hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub derived_public_key: Option<String>,
    /// The signing session, hex.
    pub session: String,
    /// The nodes that signed.
    pub signers: Vec<String>,
    /// How it was made: `preprocessed` (FROST, one round trip with pooled nonces),
    /// `presigned` (ECDSA, one round from a presignature) or `full` (a whole signing
    /// session).
    pub mode: String,
    /// `presigned`: the presigning session whose presignature it spent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presignature: Option<String>,
    /// The signers first asked that did not answer or declined, when others signed
    /// instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retried_without: Option<Vec<String>>,
}

/// `POST /keys`.
#[derive(Clone, Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeygenRequest {
    /// The scheme.
    pub scheme: Scheme,
    /// Signers required.
    pub threshold: u16,
    /// A label.
    #[serde(default)]
    pub label: Option<String>,
    /// The nodes that hold shares, by name (default: every member).
    #[serde(default)]
    pub nodes: Option<Vec<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permits_bound_how_many_hold_one_at_once() {
        let permits = Arc::new(Permits::new(2));
        let holding = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..6)
            .map(|_| {
                let (p, h, m) = (
                    Arc::clone(&permits),
                    Arc::clone(&holding),
                    Arc::clone(&most),
                );
                std::thread::spawn(move || {
                    let _permit = p.take();
                    let now = h.fetch_add(1, Ordering::SeqCst) + 1;
                    m.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    h.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }
}
