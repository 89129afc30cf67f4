//! One serve node: a party home unlocked once, its cluster, and the sessions it runs
//! as coordinator (for an HTTP request) or participant (for a member's proposal).
//!
//! A session is a task on the node's runtime: [`Ceremony::step`] with a [`BusCarrier`],
//! woken by the session's inbox (a `Notify`) as envelopes arrive, until it is done, a
//! member declines, or the deadline passes. A step reads and writes SQLite and may be
//! CPU-heavy (a CGGMP21 round), so it runs in `block_in_place` (the worker's other
//! tasks move to another thread meanwhile), and heavy steps wait for one of the
//! node's core permits (a `tokio::sync::Semaphore`, one per core) first. A session
//! that does not finish is abandoned at once: its secret state (a FROST nonce, a
//! presignature) is destroyed, so it is never left ambiguous and never used later.
//!
//! A member's proposal becomes such a task, a `FastSign` request a job on the
//! blocking pool (its shares are CPU work); the bus thread that hands them over never
//! waits on either. The coordinator's side is the request's own future (or its job's
//! task): no request holds a thread while its session waits for the others.
//!
//! Signing (checks, the fast paths, the retry, the answer) is in `sign`; key
//! generation and rotation in `keys`; proposals from members and the sessions they
//! start are here.

use super::cluster::{BusCarrier, Cluster, Inbox, NodeMsg};
use super::error::{Ambiguous, DeclineReason, Error, Result};
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
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

mod gather;
pub use gather::IN_FLIGHT as ROUND_TRIPS_IN_FLIGHT;
mod keys;
mod preprocessed;
mod presigned;
mod sign;

pub use super::schema::Signed;
pub use keys::{KeygenRequest, ReshareRequest};
pub(in crate::serve) use sign::awaited;
pub use sign::{BatchRequest, MessageEncoding, SignRequest, decode_message};

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
    /// Requests per second one client address may make without a valid token (a burst
    /// of as many); `None`: no limit.
    pub outsider_rate: Option<std::num::NonZeroU32>,
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

/// The least a whole CGGMP21 signing session is given, whatever `--session-timeout`
/// says (it takes seconds of CPU per signer: about 1.7 s on the development machine).
pub const ECDSA_SESSION_MIN: Duration = Duration::from_secs(30);

impl Config {
    /// The longest a request's own work may take: a key generation, or a signature
    /// that waits for approvals and then, after one try, for a second set of signers.
    pub fn request_budget(&self) -> Duration {
        let signing = self.session_timeout.max(ECDSA_SESSION_MIN);
        self.keygen_timeout.max(signing * 2 + self.approval_timeout)
    }

    /// The most a job (`POST /sessions`, a key generation past its wait) may run:
    /// twice the longest a request's own work may take. Its sessions end sooner by
    /// their own deadlines; this ends only work that is stuck.
    pub fn job_budget(&self) -> Duration {
        self.request_budget() * 2
    }

    /// How long a session of `plan` may take, by what it runs, on the coordinator and
    /// (a second longer) on every member: key generation, refresh, reshare and making
    /// a presignature get the key-generation timeout; a whole ECDSA signing at least
    /// [`ECDSA_SESSION_MIN`]; a FROST signature, or one from a presignature, the
    /// session timeout. An operator sets the timeout for what clients wait on (FROST),
    /// and the slow ceremonies are not cut short by it.
    pub fn session_budget(&self, plan: &Plan) -> Duration {
        match plan {
            Plan::Keygen(_) | Plan::Refresh(_) | Plan::Reshare(_) => self.keygen_timeout,
            Plan::Sign(p) => match (&p.presign, plan.scheme()) {
                (Some(Presign::Generate), _) => self.keygen_timeout,
                (Some(Presign::Consume { .. }), _) => self.session_timeout,
                (None, Scheme::EcdsaSecp256k1) => self.session_timeout.max(ECDSA_SESSION_MIN),
                (None, _) => self.session_timeout,
            },
            _ => self.session_timeout,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            session_timeout: Duration::from_secs(5),
            keygen_timeout: Duration::from_secs(120),
            max_sessions: 256,
            rate_limit: std::num::NonZeroU32::new(500),
            outsider_rate: std::num::NonZeroU32::new(10),
            max_requests: 1024,
            approval_timeout: Duration::from_secs(120),
            presign_pool: 0,
            presign_low: 0,
        }
    }
}

/// The node: a shared context (the home and its database, the unlocked identity, the
/// settings, the runtime) and the components that hold its state, each behind methods
/// of its own: membership and the bus ([`Cluster`]), the sessions running
/// ([`Sessions`]), the FROST nonce pools (`nonces::Pools`), the presignature pools
/// (`presig::Presigs`), the audit writer, the approvals waiting, the jobs, the API's
/// gate and the hourly policy counts. What spans them (signing, key generation,
/// answering members) is `impl Node`, in this module and its children.
pub struct Node {
    /// The party home.
    pub home: Home,
    /// The identity, unlocked once.
    pub identity: Arc<Identity>,
    /// Members and bus.
    pub cluster: Arc<Cluster>,
    /// The API's connection to the home's database (tokens, policies, audit).
    pub db: Db,
    /// Settings.
    pub config: Config,
    /// When the node started.
    pub started: Instant,
    /// The API's limits per token and per address, and its audit rows on their way.
    pub gate: super::limits::Gate,
    /// The audit writer (group commit).
    pub audit: super::audit::AuditWriter,
    /// FROST nonce pools and cached shares.
    pub pools: super::nonces::Pools,
    /// Signatures each key's policy allowed in the last hour (`max_per_hour`).
    pub hourly: super::policy::Hourly,
    /// Sessions waiting for an operator's approval.
    pub approvals: super::approval::Approvals,
    /// ECDSA presignatures this node coordinated.
    pub presigs: super::presig::Presigs,
    /// Work started through the API that answers later.
    pub jobs: super::jobs::Jobs,
    /// The sessions running, their limit, and the core permits.
    pub sessions: Sessions,
    /// The runtime the node runs on (its sessions are tasks there).
    pub rt: tokio::runtime::Handle,
    /// One-round requests waiting to be gathered into a round trip, per key.
    lanes: gather::Lanes,
}

/// What a one-round request spends on each signer: FROST nonces (one per message, by
/// id) or an ECDSA presignature (by the presigning session that made it, with the hash
/// mode of the message it signs).
#[derive(Clone, Copy)]
pub(super) enum Spends<'a> {
    /// Preprocessed FROST nonces.
    Nonces(&'a [u64]),
    /// A presignature.
    Presignature(&'a str, crate::plan::HashMode),
}

/// The index of `coordinator` among the `parties` of key `key_id`, or why a request
/// it coordinates is refused.
fn coordinator_index(
    parties: &[Card],
    coordinator: &Card,
    key_id: &str,
) -> std::result::Result<u16, (DeclineReason, String)> {
    parties
        .iter()
        .position(|c| c.ed25519 == coordinator.ed25519)
        .map(|i| i as u16 + 1)
        .ok_or((
            DeclineReason::PlanRefused,
            format!("{} holds no share of key {key_id}", coordinator.name),
        ))
}

/// The log span of a session: its id (the first 16 hex digits), kind and key.
pub(super) fn session_span(plan: &Plan) -> tracing::Span {
    let sid = hex::encode(plan.session_id());
    tracing::info_span!(
        "session",
        id = &sid[..16],
        kind = plan.kind(),
        key = plan.key().map(|(id, _)| id.to_string()),
    )
}

/// The log span of a one-round-trip FROST request: its id (16 hex digits) and key.
pub(super) fn fast_span(id: &str, key_id: &str) -> tracing::Span {
    tracing::info_span!("fast_sign", id = &id[..16.min(id.len())], key = key_id)
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

/// The sessions running on a node, and a wake-up for when none is left.
#[derive(Default)]
struct Running {
    count: AtomicUsize,
    none: tokio::sync::Notify,
}

/// Counts a running session; the count drops with it.
pub(super) struct Slot(Arc<Running>);

impl Drop for Slot {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.none.notify_waiters();
        }
    }
}

/// A node's sessions as a whole: how many run (at most `--max-sessions`), whether new
/// ones are taken (not once shutdown began), and the permits for CPU-heavy ceremony
/// steps, one per core.
pub struct Sessions {
    running: Arc<Running>,
    max: usize,
    stopping: AtomicBool,
    /// Permits for CPU-heavy ceremony steps, one per core.
    pub cores: tokio::sync::Semaphore,
}

impl Sessions {
    fn new(max: usize) -> Sessions {
        Sessions {
            running: Arc::default(),
            max,
            stopping: AtomicBool::new(false),
            cores: tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            ),
        }
    }

    /// Sessions running now.
    pub fn running(&self) -> usize {
        self.running.count.load(Ordering::SeqCst)
    }

    /// Waits until no session runs, or `deadline`; whether none does.
    pub async fn idle_by(&self, deadline: tokio::time::Instant) -> bool {
        let idle = || (self.running() == 0).then_some(());
        super::notified_until(&self.running.none, deadline, idle)
            .await
            .is_some()
    }

    /// Whether new sessions are taken (the node is not shutting down).
    pub fn accepting(&self) -> bool {
        !self.stopping.load(Ordering::SeqCst)
    }

    /// Refuses new sessions from now on (shutdown).
    pub fn stop_accepting(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    /// A place for one more session, counted until dropped: `Busy` at the limit or
    /// once shutdown began.
    pub(super) fn slot(&self) -> Result<Slot> {
        if !self.accepting() {
            return Err(Error::Busy("the node is shutting down".into()));
        }
        if self.running.count.fetch_add(1, Ordering::SeqCst) >= self.max {
            self.running.count.fetch_sub(1, Ordering::SeqCst);
            return Err(Error::Busy(format!(
                "the node runs {} sessions already, its limit",
                self.max
            )));
        }
        Ok(Slot(Arc::clone(&self.running)))
    }
}

impl Node {
    /// A node for `home`, unlocked as `identity`, in `cluster`, on the runtime this is
    /// called on.
    pub fn new(home: Home, identity: Identity, members: Vec<Card>, config: Config) -> Result<Node> {
        let rt = tokio::runtime::Handle::try_current()
            .map_err(|_| Error::internal("a node is made on the runtime it runs on"))?;
        let identity = Arc::new(identity);
        let db = home.db()?;
        let cluster = Arc::new(Cluster::new(identity.card(), members));
        super::members::apply_saved(&db, &cluster)?;
        super::metrics::init();
        let audit = super::audit::AuditWriter::start(db.clone(), Arc::clone(&identity))
            .map_err(|e| Error::internal(format!("cannot start the audit writer: {e}")))?;
        Ok(Node {
            audit,
            pools: super::nonces::Pools::waking(Arc::clone(&cluster.came_up)),
            approvals: super::approval::Approvals::default(),
            hourly: super::policy::Hourly::default(),
            presigs: super::presig::Presigs::default(),
            jobs: super::jobs::Jobs::default(),
            sessions: Sessions::new(config.max_sessions),
            lanes: gather::Lanes::default(),
            rt,
            cluster,
            home,
            identity,
            db,
            gate: super::limits::Gate::new(config.rate_limit, config.outsider_rate),
            config,
            started: Instant::now(),
        })
    }

    /// The node's database: one connection, which its sessions and its audit writer
    /// share (see [`Db`]).
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The node's levels now: sessions, bus, members up, pools.
    pub fn levels(&self) -> super::metrics::Levels {
        let (own, held) = self.pools.levels();
        let c = &self.cluster;
        super::metrics::Levels {
            sessions_running: self.sessions.running(),
            bus_connected: c.bus().map(|b| b.connected()),
            members_up: c.members().iter().filter(|m| c.is_up(m)).count(),
            nonce_pool_own: own,
            nonce_pool_held: held,
            presignature_pool: self.presigs.level(),
            fast_waiting: self.lanes.waiting(),
        }
    }

    /// Sends `msg` to the members `to` over the bus; from async code too: either link
    /// queues a post for its task and never waits for the relay or the server.
    pub(super) fn tell(&self, to: &[&Card], msg: &NodeMsg) -> Result<(), String> {
        self.cluster.send_node(&self.identity, to, msg)
    }

    /// The key `id` (or a unique prefix) in this home.
    pub fn key(&self, id: &str) -> Result<KeyRecord> {
        let id = &super::id_prefix(id, "key")?;
        match lookup(self.db(), id)? {
            Lookup::Found(k) => Ok(*k),
            Lookup::None => Err(Error::KeyNotFound(format!("no key {id} on this node"))),
            Lookup::Ambiguous(n) => Err(Error::Ambiguous {
                what: Ambiguous::Key,
                message: format!("{n} keys start with {id}; give more of the id"),
            }),
        }
    }

    /// Runs this node's part of `plan` with the other `participants` until it is done,
    /// a member declines, or `deadline` (a task; module doc).
    pub(super) async fn run_session(
        &self,
        plan: Valid<Plan>,
        deadline: Instant,
        inbox: &Arc<Inbox>,
    ) -> Result<Outcome> {
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
        let store = Store {
            db: self.db.clone(),
            vault: Arc::new(self.home.clone()),
        };
        // The others stop waiting for this node at once, rather than at their own
        // deadlines, when its part ends without a result.
        let tell_others = |sid: &str, code: DeclineReason, e: &Error| {
            let to: Vec<&Card> = others.iter().map(|(_, c)| c).collect();
            let msg = NodeMsg::Decline {
                session: sid.to_string(),
                code,
                reason: format!("node {} ended the session: {}", me.name, e.public()),
            };
            let _ = self.tell(&to, &msg);
        };
        // A session this node cannot even start (its key is rotating, say) is ended for
        // the others too: a coordinator would otherwise wait out its whole budget.
        let sid = hex::encode(plan.session_id());
        let opened = super::off_worker(|| {
            Ceremony::open(
                store,
                Arc::clone(&self.identity),
                plan,
                vec![Box::new(carrier)],
                |_, _| Ok::<_, ceremony::Error>(true),
            )
        });
        let mut c = match opened {
            Ok(c) => c,
            Err(e) => {
                let e = Error::Ceremony(e);
                tell_others(&sid, DeclineReason::Failed, &e);
                return Err(e.session(&sid));
            }
        };
        // Messages that failed admission (tampered, replayed, foreign, misaddressed):
        // nothing was stored from them; the log and a timeout's answer say why.
        let mut ignored: Vec<String> = Vec::new();
        // CGGMP21 steps are CPU-heavy (Paillier proofs): as many run at once as there
        // are cores, whatever the number of sessions; FROST steps are cheap and free.
        loop {
            let core = match heavy {
                true => Some(
                    self.sessions
                        .cores
                        .acquire()
                        .await
                        .map_err(|_| Error::internal("the core permits are closed"))?,
                ),
                false => None,
            };
            let stepped = super::off_worker(|| c.step());
            drop(core);
            for report in c.take_reports() {
                if let ceremony::Report::Ignored(e) = report {
                    let why = std::iter::once(e.message())
                        .chain(e.causes().iter().cloned())
                        .collect::<Vec<_>>()
                        .join(": ");
                    tracing::warn!(
                        "session {}: a message was ignored: {why}",
                        &c.session_hex()[..16]
                    );
                    if ignored.len() < 8 {
                        ignored.push(why);
                    }
                }
            }
            let missing = match stepped {
                Ok(Progress::Done(o)) => {
                    if matches!(o, Outcome::Keygen { .. }) {
                        // A new key wants nonces (on the coordinator and every member).
                        self.pools.drawn.notify_one();
                    }
                    return Ok(o);
                }
                Ok(Progress::Waiting { missing, .. }) => missing,
                Err(e) => {
                    let e = Error::Ceremony(e);
                    tell_others(c.session_hex(), DeclineReason::Failed, &e);
                    return Err(e);
                }
            };
            let deadline = match inbox.awaiting_until() {
                Some(until) => deadline.max((until + self.config.session_timeout).min(latest)),
                None => deadline,
            };
            let stop = if let Some(d) = inbox.declined() {
                Some(Error::Declined(d))
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
                Some(Error::TimedOut {
                    message: format!(
                        "the session did not finish in time; waiting for {}{}",
                        labels.join(", "),
                        trouble.map(|t| format!(" ({t})")).unwrap_or_default()
                    ),
                    awaited: names,
                    ignored: Some(ignored.clone()),
                })
            } else {
                None
            };
            if let Some(e) = stop {
                let sid = c.session_hex().to_string();
                let code = match e.declined() {
                    Some(d) if d.reason == DeclineReason::Cancelled => DeclineReason::Cancelled,
                    _ => DeclineReason::Abandoned,
                };
                tell_others(&sid, code, &e);
                let store = c.into_store();
                // Nothing secret of an unfinished session outlives the request.
                let _ = super::off_worker(|| ceremony::abandon(&*store.vault, &store.db, &sid));
                return Err(e.session(&sid));
            }
            // Until something arrives, the deadline, or the bus link is made again
            // (a step then sends again what the bus may have lost).
            inbox.wait(deadline).await;
        }
    }

    /// Sends the one-round request `request` (id `id`) to `others` and waits, up to the
    /// session timeout, for each one's answer: (node name, shares), or the decline or
    /// the silence (`missing` says of whom) that ended the wait.
    pub(super) async fn ask_one_round(
        &self,
        id: [u8; 32],
        others: &[&Card],
        request: &NodeMsg,
        missing: &str,
    ) -> Result<Vec<(String, Vec<String>)>> {
        let sid = hex::encode(id);
        let opened = self.open(id);
        let inbox = &opened.inbox;
        self.tell(others, request).map_err(Error::BusDown)?;
        let deadline = Instant::now() + self.config.session_timeout;
        let answers = inbox.wait_shares(others.len(), deadline).await;
        if let Some(d) = inbox.declined() {
            return Err(Error::Declined(d).session(&sid));
        }
        awaited(others, |n| answers.iter().any(|(a, _)| a == n), missing)
            .map_err(|e| e.session(&sid))?;
        Ok(answers)
    }

    /// Opens the inbox of `session` until the guard is dropped.
    pub(super) fn open(&self, session: [u8; 32]) -> Opened {
        Opened {
            inbox: self.cluster.open_inbox(session),
            cluster: Arc::clone(&self.cluster),
            session,
        }
    }

    /// A node message from member `sender` (see [`Cluster::receive`]). Runs on the bus
    /// thread: what takes time becomes a task, or a job on the blocking pool.
    pub fn on_message(self: &Arc<Self>, msg: NodeMsg, sender: Card) {
        match msg {
            NodeMsg::Propose { plan } => self.proposed(plan, sender),
            NodeMsg::Commitments {
                key_id,
                fresh,
                items,
            } => self.commitments(&sender, &key_id, fresh, items),
            // A refill counts as a session while it runs, so shutdown waits for it; a
            // node that is busy or stopping skips it (the coordinator asks again).
            NodeMsg::Want { key_id } => {
                let _ = self.job(tracing::Span::current(), move |node| {
                    node.refill(Some((&key_id, &sender)))
                });
            }
            // Shares are CPU work, and wait for the decision's audit row.
            NodeMsg::FastSign { id, key_id, items } => {
                let (to, span) = (sender.clone(), fast_span(&id, &key_id));
                let sid = id.clone();
                if let Err(e) = self.job(span, move |node| {
                    node.fast_sign_request(&sender, id, key_id, items)
                }) {
                    self.decline(&to, sid, DeclineReason::Busy, e.to_string());
                }
            }
            // The claim and the partial signature wait for the disk.
            NodeMsg::PresignedSign {
                id,
                key_id,
                presignature,
                message,
                hash,
            } => {
                let (to, span) = (sender.clone(), fast_span(&id, &key_id));
                let sid = id.clone();
                let asked = move |node: &Node| {
                    node.presigned_request(&sender, id, &key_id, &presignature, &message, hash)
                };
                if let Err(e) = self.job(span, asked) {
                    self.decline(&to, sid, DeclineReason::Busy, e.to_string());
                }
            }
            other => super::log(&format!(
                "unexpected node message from {}: {other:?}",
                sender.name
            )),
        }
    }

    /// The key `key_id` a member asks this node to sign with in one round: held here,
    /// and allowed to sign now.
    fn key_to_sign(&self, key_id: &str) -> std::result::Result<KeyRecord, (DeclineReason, String)> {
        let key = self
            .db()
            .key(key_id)
            .map_err(|e| (DeclineReason::Storage, e.to_string()))?
            .ok_or((
                DeclineReason::PlanRefused,
                format!("this node holds no share of key {key_id}"),
            ))?;
        if !key.status.may_sign() {
            return Err((
                DeclineReason::WrongKeyState,
                format!("key {key_id} may not sign on this node now"),
            ));
        }
        Ok(key)
    }

    /// Runs `work` on the blocking pool in `span` as one of the node's sessions: it
    /// takes a slot (or fails, busy or stopping), and lets go of the node before the
    /// slot, so a shutdown that waited for the sessions finds the node held by none.
    fn job(
        self: &Arc<Self>,
        span: tracing::Span,
        work: impl FnOnce(&Node) + Send + 'static,
    ) -> Result<()> {
        let slot = self.sessions.slot()?;
        let node = Arc::clone(self);
        self.rt.spawn_blocking(move || {
            let _slot = slot;
            let node = node;
            span.in_scope(|| work(&node));
        });
        Ok(())
    }

    /// A member proposed a session: decide, and run it as a task if this node joins.
    /// What is wrong with the proposal is answered with a `Decline` and logged.
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
        let slot = match self.sessions.slot() {
            Ok(s) => s,
            Err(e) => return self.decline(&proposer, session, DeclineReason::Busy, e.to_string()),
        };
        // Opened here, on the bus thread, before the next payload (the proposer's first
        // envelope, likely) is read.
        let opened = self.open(plan.session_id());
        let node = Arc::clone(self);
        let span = session_span(&plan);
        let task = async move {
            let _slot = slot;
            node.participate(plan, proposer, session, opened).await;
        };
        self.rt.spawn(tracing::Instrument::instrument(task, span));
    }

    /// This node's part of a session `proposer` proposed, from its decision to the
    /// report that its part is over.
    async fn participate(
        &self,
        plan: Valid<Plan>,
        proposer: Card,
        session: String,
        opened: Opened,
    ) {
        // A decision may wait for its audit row to be durable.
        if let Err((code, reason)) = super::off_worker(|| self.decide(&plan, &proposer)) {
            self.decline(&proposer, session, code, reason);
            return;
        }
        // A signing decision, and a dealer's share in a reshare, may wait for an
        // operator; the proposer is told how long this node may wait.
        let awaiting = |max: Duration| {
            let msg = NodeMsg::Awaiting {
                session: session.clone(),
                seconds: max.as_secs(),
            };
            let _ = self.tell(&[&proposer], &msg);
        };
        let decided = match &*plan {
            Plan::Sign(p) if !matches!(p.presign, Some(Presign::Generate)) => {
                self.decide_sign(p, &proposer, Some(&opened.inbox), awaiting)
                    .await
            }
            Plan::Reshare(p) => {
                self.approve_reshare(p, &session, &proposer, &opened.inbox, awaiting)
                    .await
            }
            _ => Ok(()),
        };
        if let Err((code, reason)) = decided {
            self.decline(&proposer, session, code, reason);
            return;
        }
        let budget = self.config.session_budget(&plan);
        // A participant waits a little longer than its coordinator, so the
        // coordinator is the one that gives up and reports.
        let deadline = Instant::now() + budget + Duration::from_secs(1);
        let refreshed = match &*plan {
            Plan::Refresh(p) => Some(p.key_id.clone()),
            Plan::Reshare(p) => Some(p.key_id.clone()),
            _ => None,
        };
        let result = self.run_session(plan, deadline, &opened.inbox).await;
        drop(opened);
        if let Some(key_id) = refreshed {
            self.forget_key(&key_id);
        }
        let (ok, detail) = match result {
            Ok(o) => (true, o.kind().to_string()),
            Err(e) => {
                let e = super::ApiError::from(e);
                (false, format!("{}: {}", e.code, e.message))
            }
        };
        if ok {
            tracing::info!("session {} from {}: done", &session[..16], proposer.name);
        } else {
            tracing::warn!(
                "session {} from {}: {detail}",
                &session[..16],
                proposer.name
            );
        }
        let msg = NodeMsg::Finished {
            session,
            ok,
            detail,
        };
        let _ = self.tell(&[&proposer], &msg);
    }

    /// A reshare this node deals in, for a key whose policy here is `approval`: waits for
    /// this node's operator (`POST /sessions/{id}/join`) before its share is dealt.
    /// Other policies (and new holders) go on at once.
    async fn approve_reshare(
        &self,
        plan: &crate::plan::ResharePlan,
        session: &str,
        proposer: &Card,
        inbox: &Inbox,
        waiting: impl FnOnce(Duration),
    ) -> Result<(), (DeclineReason, String)> {
        let me = plan
            .parties
            .iter()
            .position(|c| c.ed25519 == self.cluster.me.ed25519);
        if !me.is_some_and(|i| plan.deals(i as u16 + 1))
            || !matches!(
                super::off_worker(|| self.own_policy(&plan.key_id, None, None)),
                Ok(policy::Mode::Approval)
            )
        {
            return Ok(());
        }
        let plan_json = Plan::Reshare(plan.clone()).to_json();
        let max = self.config.approval_timeout;
        waiting(max);
        super::log(&format!(
            "reshare {} from {} (key {}) waits up to {} for an operator: POST /api/v1/sessions/{session}/join",
            &session[..16],
            proposer.name,
            plan.key_id,
            humantime::format_duration(max)
        ));
        let asked = super::approval::Asked {
            id: session.to_string(),
            kind: "reshare",
            status: "awaiting_approval",
            key_id: plan.key_id.clone(),
            proposer: proposer.name.clone(),
            message_sha256: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(plan_json)),
            hash: None,
            path: None,
            approve_by: now() + max.as_secs(),
        };
        let verdict = self.approvals.ask(asked, max, inbox.ended()).await;
        let approved_by = match &verdict {
            super::approval::Verdict::Approved(token) => Some(token.clone()),
            _ => None,
        };
        let decision = verdict.refusal("reshare", max).map_or(Ok(()), Err);
        let detail = serde_json::json!({
            "session": session,
            "proposer": proposer.name,
            "joined": decision.is_ok(),
            "approved_by": approved_by,
            "reason": decision.as_ref().err().map(|e| &e.1),
        });
        self.audit
            .write_async("serve.reshare.approval", &plan.key_id, detail)
            .await
            .map_err(|e| (DeclineReason::Storage, e))?;
        decision
    }

    /// Tells `to` that this node will not take part in `session`, and logs why.
    /// Answers a coordinator's one-round request `id`: with shares (or a partial
    /// signature), or a decline.
    fn answer_one_round(
        &self,
        coordinator: &Card,
        id: String,
        answer: std::result::Result<Vec<String>, (DeclineReason, String)>,
    ) {
        match answer {
            Ok(shares) => {
                let _ = self.tell(&[coordinator], &NodeMsg::Shares { id, shares });
            }
            Err((code, reason)) => self.decline(coordinator, id, code, reason),
        }
    }

    fn decline(&self, to: &Card, session: String, code: DeclineReason, reason: String) {
        tracing::warn!(
            "declined {} from {}: {reason}",
            &session[..16.min(session.len())],
            to.name
        );
        let msg = NodeMsg::Decline {
            session,
            code,
            reason,
        };
        let _ = self.tell(&[to], &msg);
    }

    fn decide(&self, plan: &Plan, proposer: &Card) -> Result<(), (DeclineReason, String)> {
        if plan.index_of(proposer).is_none() {
            return Err((
                DeclineReason::PlanRefused,
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
                DeclineReason::PlanRefused,
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
                            DeclineReason::PolicyRefused,
                            format!(
                                "the policy of key {} on this node makes no presignatures (not `auto`)",
                                p.key_id
                            ),
                        ));
                    }
                    Err(why) => return Err((DeclineReason::PolicyRefused, why)),
                }
                let detail = serde_json::json!({"session": hex::encode(plan.session_id()), "proposer": proposer.name, "joined": true, "signers": p.signers});
                self.audit
                    .write("serve.presign", &p.key_id, detail)
                    .map_err(|e| (DeclineReason::Storage, e))
            }
            // A dealer's own policy decides for its share: `never` refuses here,
            // `approval` waits for this node's operator on the session's thread.
            Plan::Reshare(p) => {
                let my_index = plan.index_of(&me).unwrap_or(0);
                let deals = p.deals(my_index);
                if deals {
                    match self.own_policy(&p.key_id, None, None) {
                        Ok(policy::Mode::Never) => {
                            return Err((
                                DeclineReason::PolicyRefused,
                                format!(
                                    "the policy of key {} on this node is `never`: its share is not dealt",
                                    p.key_id
                                ),
                            ));
                        }
                        Ok(_) => {}
                        Err(why) => return Err((DeclineReason::PolicyRefused, why)),
                    }
                }
                let detail = serde_json::json!({"session": hex::encode(plan.session_id()), "proposer": proposer.name, "joined": true, "deals": deals, "holds": p.new_index_of(my_index)});
                self.audit
                    .write("serve.reshare", &p.key_id, detail)
                    .map_err(|e| (DeclineReason::Storage, e))
            }
            Plan::Keygen(_) | Plan::Refresh(_) => {
                let (action, subject) = match plan {
                    Plan::Refresh(p) => ("serve.rotate", p.key_id.as_str()),
                    _ => ("serve.keygen", plan.label()),
                };
                let detail = serde_json::json!({"session": hex::encode(plan.session_id()), "proposer": proposer.name, "joined": true});
                self.audit
                    .write(action, subject, detail)
                    .map_err(|e| (DeclineReason::Storage, e))
            }
            other => Err((
                DeclineReason::Unsupported,
                format!(
                    "this node does not join {} sessions proposed over the bus",
                    other.kind()
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign_plan(scheme: Scheme, presign: Option<Presign>) -> Plan {
        Plan::Sign(SignPlan {
            version: 1,
            scheme,
            key_id: "k".into(),
            group_public_key: String::new(),
            threshold: 2,
            parties: Vec::new(),
            signers: vec![1, 2],
            message: String::new(),
            label: String::new(),
            expires_at: 0,
            nonce: String::new(),
            hash: None,
            path: None,
            presign,
        })
    }

    #[test]
    fn a_session_gets_the_time_of_what_it_runs() {
        let c = Config::default();
        let (s, k) = (c.session_timeout, c.keygen_timeout);
        assert_eq!(c.session_budget(&sign_plan(Scheme::EddsaEd25519, None)), s);
        assert_eq!(
            c.session_budget(&sign_plan(Scheme::EcdsaSecp256k1, None)),
            ECDSA_SESSION_MIN
        );
        let consume = Presign::Consume {
            session: "ab".into(),
        };
        assert_eq!(
            c.session_budget(&sign_plan(Scheme::EcdsaSecp256k1, Some(consume))),
            s
        );
        // Making a presignature is a CGGMP21 protocol of its own, not a signature a
        // client waits on.
        let generate = sign_plan(Scheme::EcdsaSecp256k1, Some(Presign::Generate));
        assert_eq!(c.session_budget(&generate), k);
        // A longer session timeout holds for ECDSA too.
        let long = Config {
            session_timeout: Duration::from_secs(90),
            ..Config::default()
        };
        assert_eq!(
            long.session_budget(&sign_plan(Scheme::EcdsaSecp256k1, None)),
            Duration::from_secs(90)
        );
        // A request may wait for approvals and then two whole ECDSA sessions.
        assert!(c.request_budget() >= ECDSA_SESSION_MIN * 2 + c.approval_timeout);
    }
}
