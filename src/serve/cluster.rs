//! What serve nodes say to each other over the bus, and the carrier that moves a
//! session's envelopes over it.
//!
//! A bus payload is either an envelope (tag 0; signed by its sender, checked by
//! admission like any message file) or a node message (tag 1): JSON signed by the
//! sending node's identity key, accepted only from a cluster member. Node messages
//! propose a session (the plan), decline one (the node's policy said no), or beat
//! (presence, for `GET /nodes` and for picking signers).

use super::bus::Bus;
use super::error::{Ambiguous, DeclineReason, Declined};
use crate::envelope::Envelope;
use crate::identity::{Card, Identity};
use crate::transport::{Carrier, CarrierError, Incoming};
use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TAG_ENVELOPE: u8 = 0;
const TAG_NODE: u8 = 1;
/// How long envelopes of a session this node has not opened (yet) are kept.
const PENDING_FOR: Duration = Duration::from_secs(30);
/// At most this many such sessions, and envelopes per session.
const PENDING_MAX: usize = 256;
/// How often a node beats.
pub const BEAT: Duration = Duration::from_secs(1);
/// A member not heard from for this long is taken to be down.
pub const SILENT_AFTER: Duration = Duration::from_secs(4);

/// A node message.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NodeMsg {
    /// Join the session of this plan (JSON).
    Propose {
        /// The plan.
        plan: String,
    },
    /// This node will not take part in the session.
    Decline {
        /// Session id, hex.
        session: String,
        /// Why, typed (on the wire a stable word: `policy_refused`, `plan_refused`,
        /// `busy`, ...).
        code: DeclineReason,
        /// Why, for people.
        reason: String,
    },
    /// This node waits for its operator's approval of the session, for at most
    /// `seconds` more.
    Awaiting {
        /// Session id, hex.
        session: String,
        /// The most it waits, in seconds.
        seconds: u64,
    },
    /// This node's part of a session it joined is over.
    Finished {
        /// Session id, hex.
        session: String,
        /// Whether it finished with a result (else it failed).
        ok: bool,
        /// The failure's code, or the result's kind.
        detail: String,
    },
    /// Preprocessed FROST commitments of the sender's nonces for `key_id`, kept for the
    /// recipient alone (each coordinator gets its own nonces, so two coordinators never
    /// pick the same one).
    Commitments {
        /// The key.
        key_id: String,
        /// Drop every commitment of this sender for this key held before.
        fresh: bool,
        /// (nonce id, commitment hex).
        items: Vec<(u64, String)>,
    },
    /// The sender (a coordinator) ran short of, or lost, the recipient's commitments for
    /// `key_id`: drop the nonces kept for it and send fresh ones.
    Want {
        /// The key.
        key_id: String,
    },
    /// Sign these messages with preprocessed nonces (one round trip).
    FastSign {
        /// The request id, hex (32 bytes); answers name it.
        id: String,
        /// The key.
        key_id: String,
        /// The messages (base64) and, per message, every signer's (nonce id, commitment
        /// hex) by party index.
        items: Vec<FastItem>,
    },
    /// Sign `message` (base64) with `key_id` from the presignature made in presigning
    /// session `presignature`, hashed by `hash` (one round trip; ECDSA).
    PresignedSign {
        /// The request id, hex (32 bytes); answers name it.
        id: String,
        /// The key.
        key_id: String,
        /// The presigning session that made the presignature, hex.
        presignature: String,
        /// The message, base64.
        message: String,
        /// How the message is hashed (never `prehash`: the cggmp21 advisory).
        hash: crate::plan::HashMode,
    },
    /// The answer to `FastSign` (one share, hex, per message, in order) or to
    /// `PresignedSign` (the partial signature, hex).
    Shares {
        /// The request id.
        id: String,
        /// The shares.
        shares: Vec<String>,
    },
    /// Presence.
    Beat {
        /// Unix seconds when sent.
        at: u64,
        /// The node's `mpc` version.
        version: String,
        /// How many keys it holds a share of.
        keys: usize,
    },
}

/// One message of a `FastSign` request.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct FastItem {
    /// The message, base64.
    pub message: String,
    /// (party index, nonce id, commitment hex) of every signer, ascending. (A list,
    /// not a map: integer map keys do not survive the tagged enum in JSON.)
    pub commitments: Vec<(u16, u64, String)>,
}

fn node_signed_message(sender: &[u8; 32], recipient: &[u8; 32], json: &[u8]) -> Vec<u8> {
    let mut m = b"mpc node message v2\0".to_vec();
    m.extend_from_slice(sender);
    m.extend_from_slice(recipient);
    m.extend_from_slice(json);
    m
}

/// A node message as a bus payload for the member with key `to`, signed by `identity`
/// over the message, its sender and its recipient: a hostile bus cannot hand one
/// member's message to another.
pub fn encode_node(identity: &Identity, to: &[u8; 32], msg: &NodeMsg) -> Vec<u8> {
    let key = identity.card().verifying_key().expect("own key").to_bytes();
    let json = serde_json::to_vec(msg).expect("node messages serialize");
    let sig = identity.sign(&node_signed_message(&key, to, &json));
    let mut out = Vec::with_capacity(1 + 64 + json.len());
    out.push(TAG_NODE);
    out.extend_from_slice(&sig);
    out.extend_from_slice(&json);
    out
}

/// What a bus payload is.
#[derive(Debug)]
pub enum Payload {
    /// An envelope of this session (not yet admitted).
    Envelope([u8; 32], Vec<u8>),
    /// A node message whose signature verified with the sender's key.
    Node(NodeMsg),
}

/// Reads a payload from the member with key `from` to the member with key `me`. An
/// envelope is only routed here (admission checks it); a node message must verify with
/// `from` as sent to `me`.
pub fn decode(from: &[u8; 32], me: &[u8; 32], payload: &[u8]) -> Result<Payload, String> {
    decode_with(VerifyingKey::from_bytes(from).ok(), from, me, payload)
}

/// As [`decode`], with the sender's key `from` decoded already (`None`: it is not an
/// Ed25519 key).
fn decode_with(
    verifying: Option<VerifyingKey>,
    from: &[u8; 32],
    me: &[u8; 32],
    payload: &[u8],
) -> Result<Payload, String> {
    match payload.split_first() {
        Some((&TAG_ENVELOPE, bytes)) => {
            let (env, _) = Envelope::decode_for_inspection(bytes)
                .map_err(|e| format!("not an envelope: {e}"))?;
            Ok(Payload::Envelope(env.header.session, bytes.to_vec()))
        }
        Some((&TAG_NODE, rest)) if rest.len() > 64 => {
            let (sig, json) = rest.split_at(64);
            let vk = verifying.ok_or("not an Ed25519 key")?;
            let sig = Signature::from_slice(sig).map_err(|_| "a malformed signature")?;
            vk.verify_strict(&node_signed_message(from, me, json), &sig)
                .map_err(|_| {
                    "the node message's signature does not verify (altered, or sent to another member)"
                })?;
            serde_json::from_slice(json)
                .map(Payload::Node)
                .map_err(|e| format!("a malformed node message: {e}"))
        }
        _ => Err("an unknown payload".into()),
    }
}

/// An envelope as a bus payload.
pub fn encode_envelope(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + bytes.len());
    out.push(TAG_ENVELOPE);
    out.extend_from_slice(bytes);
    out
}

/// A member's report that its part of a session is over.
#[derive(Clone, Debug)]
pub struct Finished {
    /// The member's name.
    pub node: String,
    /// Whether it finished with a result.
    pub ok: bool,
    /// The failure's code, or the result's kind.
    pub detail: String,
}

#[derive(Default)]
struct InboxState {
    envelopes: Vec<Vec<u8>>,
    declined: Vec<Declined>,
    finished: Vec<Finished>,
    /// `FastSign` answers: (member name, shares hex).
    shares: Vec<(String, Vec<String>)>,
    /// The latest a member said it waits for its operator's approval.
    awaiting: Option<Instant>,
}

/// What has arrived for one session, with a wake-up for the task running it.
#[derive(Default)]
pub struct Inbox {
    state: Mutex<InboxState>,
    ready: tokio::sync::Notify,
}

impl Inbox {
    fn lock(&self) -> std::sync::MutexGuard<'_, InboxState> {
        lock(&self.state)
    }

    /// Adds what arrived (`add` changes the state) and wakes whoever waits on it.
    fn add(&self, add: impl FnOnce(&mut InboxState)) {
        add(&mut self.lock());
        self.ready.notify_waiters();
    }

    fn push(&self, bytes: Vec<u8>) {
        self.add(|s| s.envelopes.push(bytes));
    }

    /// Wakes whoever waits on the inbox, though nothing arrived (the bus link was made
    /// again: a session sends again what the bus may have lost).
    fn nudge(&self) {
        self.ready.notify_waiters();
    }

    /// Waits until `done` says the state holds what is wanted (its value), or
    /// `deadline` passes (`None`; see [`super::notified_until`]).
    async fn until<T>(
        &self,
        deadline: Instant,
        done: impl Fn(&InboxState) -> Option<T>,
    ) -> Option<T> {
        let deadline = tokio::time::Instant::from_std(deadline);
        super::notified_until(&self.ready, deadline, || done(&self.lock())).await
    }

    /// Waits until an envelope or a decline is there, something else changes, or
    /// `deadline` passes (returns at once if an envelope or a decline is there).
    pub async fn wait(&self, deadline: Instant) {
        let deadline = tokio::time::Instant::from_std(deadline);
        let notified = self.ready.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        {
            let s = self.lock();
            if !s.envelopes.is_empty() || !s.declined.is_empty() {
                return;
            }
        }
        let _ = tokio::time::timeout_at(deadline, notified).await;
    }

    /// Waits until `n` members reported their part over, or `deadline`; returns the
    /// reports.
    pub async fn wait_finished(&self, n: usize, deadline: Instant) -> Vec<Finished> {
        self.until(deadline, |s| (s.finished.len() >= n).then_some(()))
            .await;
        self.lock().finished.clone()
    }

    /// Waits until `n` members answered a `FastSign`, one declined, or `deadline`;
    /// returns the answers so far.
    pub async fn wait_shares(&self, n: usize, deadline: Instant) -> Vec<(String, Vec<String>)> {
        self.until(deadline, |s| {
            (s.shares.len() >= n || !s.declined.is_empty()).then_some(())
        })
        .await;
        self.lock().shares.clone()
    }

    /// Resolves once a member declined (or this node ended the session); never
    /// otherwise.
    pub async fn ended(&self) {
        let far = Instant::now() + Duration::from_secs(365 * 86_400);
        while self
            .until(far, |s| (!s.declined.is_empty()).then_some(()))
            .await
            .is_none()
        {}
    }

    /// The first member that declined, if one did.
    pub fn declined(&self) -> Option<Declined> {
        self.lock().declined.first().cloned()
    }

    /// Until when a member waits for its operator's approval (`None`: none does).
    pub fn awaiting_until(&self) -> Option<Instant> {
        self.lock().awaiting
    }

    fn take(&self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.lock().envelopes)
    }
}

/// Envelopes of sessions not opened here (yet), with when the first arrived.
type Early = HashMap<[u8; 32], (Instant, Vec<Vec<u8>>)>;

/// What a node knows of a member.
#[derive(Clone, Debug)]
pub struct Presence {
    /// When its last beat arrived.
    pub seen: Instant,
    /// Unix seconds of its last beat.
    pub at: u64,
    /// Its version.
    pub version: String,
    /// Keys it holds.
    pub keys: usize,
}

/// The cluster as one node sees it: members, the bus, open sessions' inboxes.
pub struct Cluster {
    /// This node's card.
    pub me: Card,
    /// Every member (this node included), in the cluster file's order, then as added
    /// (`POST /nodes`).
    members: std::sync::RwLock<Vec<Member>>,
    bus: Mutex<Option<Arc<Bus>>>,
    inboxes: Mutex<HashMap<[u8; 32], Arc<Inbox>>>,
    pending: Mutex<Early>,
    presence: Mutex<HashMap<[u8; 32], Presence>>,
    /// Per sender: when its dropped payloads were last logged, and how many since.
    quiet: Mutex<HashMap<[u8; 32], (Instant, u64)>>,
    /// The bus link generation sessions were last woken for.
    generation_seen: Mutex<u64>,
    /// Told when a member comes up (its first beat, or its first after a silence).
    pub came_up: Arc<tokio::sync::Notify>,
}

use super::lock;

/// A member: its card, and its key decoded once (every node message from it is checked
/// against that key).
struct Member {
    card: Card,
    key: [u8; 32],
    verifying: Option<VerifyingKey>,
}

impl Member {
    fn new(card: Card) -> Member {
        let key = card_key(&card);
        Member {
            verifying: VerifyingKey::from_bytes(&key).ok(),
            key,
            card,
        }
    }
}

impl Cluster {
    /// The cluster of `members` (which should include `me`).
    pub fn new(me: Card, mut members: Vec<Card>) -> Cluster {
        if !members.iter().any(|c| c.ed25519 == me.ed25519) {
            members.insert(0, me.clone());
        }
        Cluster {
            me,
            members: std::sync::RwLock::new(members.into_iter().map(Member::new).collect()),
            bus: Mutex::new(None),
            inboxes: Mutex::new(HashMap::new()),
            pending: Mutex::new(HashMap::new()),
            presence: Mutex::new(HashMap::new()),
            quiet: Mutex::new(HashMap::new()),
            generation_seen: Mutex::new(0),
            came_up: Arc::default(),
        }
    }

    /// Attaches the bus link.
    pub fn attach(&self, bus: Arc<Bus>) {
        *lock(&self.bus) = Some(bus);
    }

    /// The bus link, if there is one.
    pub fn bus(&self) -> Option<Arc<Bus>> {
        lock(&self.bus).clone()
    }

    /// The members now (this node included).
    pub fn members(&self) -> Vec<Card> {
        self.members
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|m| m.card.clone())
            .collect()
    }

    /// The member with key `key`.
    pub fn member(&self, key: &[u8; 32]) -> Option<Card> {
        self.member_key(key).map(|(card, _)| card)
    }

    /// The member with key `key`, and that key decoded (`None` for a card whose key is
    /// not a valid Ed25519 point: nothing from it verifies).
    fn member_key(&self, key: &[u8; 32]) -> Option<(Card, Option<VerifyingKey>)> {
        self.members
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|m| m.key == *key)
            .map(|m| (m.card.clone(), m.verifying))
    }

    /// The member named `name`.
    pub fn member_named(&self, name: &str) -> Option<Card> {
        self.members
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|m| m.card.name == name)
            .map(|m| m.card.clone())
    }

    /// Adds `card` as a member; `Err` when its key or name is a member's already.
    pub fn add_member(&self, card: Card) -> Result<(), String> {
        let mut m = self.members.write().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = m
            .iter()
            .map(|m| &m.card)
            .find(|c| c.ed25519 == card.ed25519 || c.name == card.name)
        {
            return Err(format!("{} is a member already", c.name));
        }
        m.push(Member::new(card));
        Ok(())
    }

    /// Removes the member named `name` (never this node); its card, or `None`.
    pub fn remove_member(&self, name: &str) -> Option<Card> {
        let mut m = self.members.write().unwrap_or_else(|p| p.into_inner());
        let i = m
            .iter()
            .position(|m| m.card.name == name && !self.is_me(&m.card))?;
        Some(m.remove(i).card)
    }

    /// Whether `card` is this node.
    pub fn is_me(&self, card: &Card) -> bool {
        card.ed25519 == self.me.ed25519
    }

    /// What this node last heard from `card`.
    pub fn presence(&self, card: &Card) -> Option<Presence> {
        lock(&self.presence).get(&card_key(card)).cloned()
    }

    /// Whether `card` is up: this node while its bus is connected, another member while
    /// its beats arrive.
    pub fn is_up(&self, card: &Card) -> bool {
        let linked = self.bus().is_some_and(|b| b.connected());
        if self.is_me(card) {
            return linked;
        }
        linked
            && self
                .presence(card)
                .is_some_and(|p| p.seen.elapsed() < SILENT_AFTER)
    }

    /// Opens the inbox of `session` (with whatever arrived for it already).
    pub fn open_inbox(&self, session: [u8; 32]) -> Arc<Inbox> {
        // Lock order: inboxes, then pending (as in `receive`), so an envelope is
        // either seen in the inbox or moved into it from pending, never left behind.
        let mut inboxes = lock(&self.inboxes);
        let inbox = Arc::clone(inboxes.entry(session).or_default());
        if let Some((_, early)) = lock(&self.pending).remove(&session) {
            for e in early {
                inbox.push(e);
            }
        }
        drop(inboxes);
        inbox
    }

    /// Hands a member's answer to the open inbox of the session (or request) with hex
    /// id `session`; an answer for none is dropped.
    fn answer(&self, session: &str, add: impl FnOnce(&mut InboxState)) {
        if let Some(s) = crate::transport::wire::hex_array::<32>(session)
            && let Some(i) = lock(&self.inboxes).get(&s)
        {
            i.add(add);
        }
    }

    /// Cancels the session whose id starts with `prefix` and that runs on this node (its
    /// inbox is open): the task running it abandons it and tells the others. Returns
    /// the session's id, or `None` when none runs; refuses an ambiguous prefix.
    pub fn cancel(&self, prefix: &str, reason: String) -> super::error::Result<Option<String>> {
        let prefix = prefix.to_ascii_lowercase();
        let inboxes = lock(&self.inboxes);
        let found: Vec<(String, &Arc<Inbox>)> = inboxes
            .iter()
            .map(|(k, i)| (hex::encode(k), i))
            .filter(|(k, _)| k.starts_with(&prefix))
            .collect();
        match found.as_slice() {
            [] => Ok(None),
            [(id, inbox)] => {
                inbox.add(|s| {
                    s.declined.push(Declined {
                        node: self.me.name.clone(),
                        reason: DeclineReason::Cancelled,
                        message: reason,
                    })
                });
                Ok(Some(id.clone()))
            }
            more => Err(super::Error::Ambiguous {
                what: Ambiguous::Session,
                message: format!("{} running sessions start with {prefix}", more.len()),
            }),
        }
    }

    /// Wakes every open session if the bus link was made again since this was last
    /// asked (each sends again what the bus may have lost); called once a beat.
    pub fn wake_if_relinked(&self) {
        let Some(generation) = self.bus().map(|b| b.generation()) else {
            return;
        };
        let mut seen = lock(&self.generation_seen);
        if *seen == generation {
            return;
        }
        *seen = generation;
        drop(seen);
        for inbox in lock(&self.inboxes).values() {
            inbox.nudge();
        }
    }

    /// Ends every session running on this node (it is shutting down): each gets this
    /// node's own decline (`busy`, so its request answers 503), and the task
    /// running it abandons it and tells the others. How many there were.
    pub fn end_all(&self, reason: &str) -> usize {
        let inboxes = lock(&self.inboxes);
        for inbox in inboxes.values() {
            inbox.add(|s| {
                s.declined.push(Declined {
                    node: self.me.name.clone(),
                    reason: DeclineReason::Busy,
                    message: reason.to_string(),
                })
            });
        }
        inboxes.len()
    }

    /// Closes the inbox of `session`.
    pub fn close_inbox(&self, session: &[u8; 32]) {
        lock(&self.inboxes).remove(session);
    }

    /// Sends a node message to the members with these cards.
    pub fn send_node(
        &self,
        identity: &Identity,
        to: &[&Card],
        msg: &NodeMsg,
    ) -> Result<(), String> {
        let bus = self
            .bus()
            .ok_or("this node has no bus (start it with --relay)")?;
        // One payload per recipient: each is signed over its recipient.
        for key in to.iter().map(|c| card_key(c)) {
            bus.post_checked(
                &[key],
                &encode_node(identity, &key, msg),
                matches!(msg, NodeMsg::Beat { .. }),
            )?;
        }
        Ok(())
    }

    /// Handles one pushed payload: routes envelopes and answers to their sessions'
    /// inboxes and records beats; returns a message for the node to act on (a proposal,
    /// commitments, a request) with its sender. Payloads from non-members and bad node
    /// messages are dropped, and returned as `Err` for [`Cluster::note_ignored`].
    pub fn receive(
        &self,
        from: [u8; 32],
        payload: &[u8],
    ) -> Result<Option<(NodeMsg, Card)>, Ignored> {
        let Some((sender, verifying)) = self.member_key(&from) else {
            return Err(Ignored {
                from,
                reason: "not_a_member",
                detail: format!(
                    "payloads from {}, which is not a cluster member, are dropped",
                    hex::encode(&from[..8])
                ),
            });
        };
        let decoded =
            decode_with(verifying, &from, &card_key(&self.me), payload).map_err(|e| Ignored {
                from,
                reason: "malformed",
                detail: format!("a node message from {} was dropped: {e}", sender.name),
            })?;
        match decoded {
            Payload::Envelope(session, bytes) => {
                let inboxes = lock(&self.inboxes);
                match inboxes.get(&session) {
                    Some(i) => i.push(bytes),
                    None => {
                        let mut p = lock(&self.pending);
                        p.retain(|_, (at, _)| at.elapsed() < PENDING_FOR);
                        if p.len() < PENDING_MAX || p.contains_key(&session) {
                            let (_, list) = p
                                .entry(session)
                                .or_insert_with(|| (Instant::now(), Vec::new()));
                            if list.len() < PENDING_MAX {
                                list.push(bytes);
                            }
                        }
                    }
                }
                Ok(None)
            }
            Payload::Node(NodeMsg::Shares { id, shares }) => {
                self.answer(&id, |s| s.shares.push((sender.name.clone(), shares)));
                Ok(None)
            }
            Payload::Node(
                m @ (NodeMsg::Propose { .. }
                | NodeMsg::Commitments { .. }
                | NodeMsg::Want { .. }
                | NodeMsg::FastSign { .. }
                | NodeMsg::PresignedSign { .. }),
            ) => Ok(Some((m, sender))),
            Payload::Node(NodeMsg::Decline {
                session,
                code,
                reason,
            }) => {
                self.answer(&session, |s| {
                    s.declined.push(Declined {
                        node: sender.name.clone(),
                        reason: code,
                        message: reason,
                    })
                });
                Ok(None)
            }
            Payload::Node(NodeMsg::Awaiting { session, seconds }) => {
                // Bounded by the coordinator's own approval timeout (`Node::run_session`).
                let until = Instant::now() + Duration::from_secs(seconds.min(86_400));
                self.answer(&session, |s| {
                    s.awaiting = Some(s.awaiting.map_or(until, |a| a.max(until)))
                });
                Ok(None)
            }
            Payload::Node(NodeMsg::Finished {
                session,
                ok,
                detail,
            }) => {
                self.answer(&session, |s| {
                    s.finished.push(Finished {
                        node: sender.name.clone(),
                        ok,
                        detail,
                    })
                });
                Ok(None)
            }
            Payload::Node(NodeMsg::Beat { at, version, keys }) => {
                // A replayed old beat says nothing about now.
                if at + 30 >= crate::clock::now() {
                    let before = lock(&self.presence).insert(
                        from,
                        Presence {
                            seen: Instant::now(),
                            at,
                            version,
                            keys,
                        },
                    );
                    // A member that was down (or restarted) is up again: the pools have
                    // commitments to send it.
                    if before.is_none_or(|p| p.seen.elapsed() >= SILENT_AFTER) {
                        self.came_up.notify_one();
                    }
                }
                Ok(None)
            }
        }
    }
}

/// A payload from the bus that was dropped: from whom (the key the bus claims), why
/// (a fixed word, the metric's label) and what to log.
#[derive(Debug)]
pub struct Ignored {
    /// The sender's key, as the bus gave it.
    pub from: [u8; 32],
    /// `not_a_member` or `malformed`.
    pub reason: &'static str,
    /// For the log.
    pub detail: String,
}

/// How often the log speaks of one sender's dropped payloads.
const IGNORED_LOG_EVERY: Duration = Duration::from_secs(60);

impl Cluster {
    /// Counts a dropped payload (`mpc_bus_ignored_total`) and logs it, at most once per
    /// sender a minute, with how many were dropped in between: a stranger flooding
    /// the bus, or a removed member still beating, cannot flood the log.
    pub fn note_ignored(&self, i: &Ignored) {
        super::metrics::bus_ignored(i.reason);
        let mut quiet = lock(&self.quiet);
        if quiet.len() > 1024 {
            quiet.retain(|_, (at, _)| at.elapsed() < IGNORED_LOG_EVERY);
        }
        match quiet.get_mut(&i.from) {
            Some((at, more)) if at.elapsed() < IGNORED_LOG_EVERY => *more += 1,
            _ => {
                let more = quiet
                    .insert(i.from, (Instant::now(), 0))
                    .map_or(0, |(_, n)| n);
                let since = if more > 0 {
                    format!(" ({more} more from it since it was last logged)")
                } else {
                    String::new()
                };
                tracing::warn!("{}{since}", i.detail);
            }
        }
    }
}

/// A card's Ed25519 key bytes: its hex, decoded (a card is validated when it is read,
/// so they are a point; decompressing it for its bytes, as this once did, cost a field
/// inversion per call, and member lookups call this for every member). All zeros for
/// a card whose key is not 32 hex bytes.
pub fn card_key(card: &Card) -> [u8; 32] {
    let mut key = [0u8; 32];
    match hex::decode_to_slice(&card.ed25519, &mut key) {
        Ok(()) => key,
        Err(_) => [0; 32],
    }
}

/// One session's carrier over the bus: envelopes come from the session's [`Inbox`],
/// and go to the session's other participants.
pub struct BusCarrier {
    cluster: Arc<Cluster>,
    inbox: Arc<Inbox>,
    /// The other participants' keys, by plan index.
    peers: HashMap<u16, [u8; 32]>,
    /// Delivered on this link generation.
    sent: HashSet<[u8; 32]>,
    generation: u64,
    trouble: Option<String>,
}

impl BusCarrier {
    /// The carrier of the session with this inbox; `participants` are (plan index,
    /// card) of every participant but this node.
    pub fn new(
        cluster: Arc<Cluster>,
        inbox: Arc<Inbox>,
        participants: Vec<(u16, Card)>,
    ) -> BusCarrier {
        BusCarrier {
            cluster,
            inbox,
            peers: participants
                .iter()
                .map(|(i, c)| (*i, card_key(c)))
                .collect(),
            sent: HashSet::new(),
            generation: 0,
            trouble: None,
        }
    }
}

impl Carrier for BusCarrier {
    fn incoming(&mut self, _: &[u8; 32], _: u16) -> Result<Vec<Incoming>, CarrierError> {
        Ok(self
            .inbox
            .take()
            .into_iter()
            .map(|bytes| Incoming::download("a message from the bus", bytes))
            .collect())
    }

    fn handled(&mut self, _: &Incoming) {}

    fn deliver(&mut self, envelope: &Envelope) -> Result<(), CarrierError> {
        let Some(bus) = self.cluster.bus() else {
            return Err(CarrierError::Refused("this node has no bus".into()));
        };
        if bus.generation() != self.generation {
            // A new link (the relay may have restarted): send everything again.
            self.sent.clear();
            self.generation = bus.generation();
        }
        let digest: [u8; 32] = Sha256::digest(envelope.as_bytes()).into();
        if self.sent.contains(&digest) {
            return Ok(());
        }
        let to: Vec<[u8; 32]> = match envelope.header.recipient() {
            Some(r) => self.peers.get(&r).copied().into_iter().collect(),
            None => self.peers.values().copied().collect(),
        };
        match bus.post(&to, &encode_envelope(envelope.as_bytes()), false) {
            Ok(()) => {
                self.sent.insert(digest);
                self.trouble = None;
            }
            Err(why) => self.trouble = Some(why),
        }
        Ok(())
    }

    fn trouble(&self) -> Option<String> {
        self.trouble.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_key_is_its_verifying_key_s_bytes() {
        let bob = Identity::generate("bob").card();
        assert_eq!(card_key(&bob), bob.verifying_key().unwrap().to_bytes());
        let mut bad = bob.clone();
        bad.ed25519 = "not hex".into();
        assert_eq!(card_key(&bad), [0; 32]);
    }

    #[test]
    fn a_node_message_verifies_only_for_its_recipient() {
        let bob = Identity::generate("bob");
        let (alice, carol) = ([1u8; 32], [3u8; 32]);
        let bob_key = card_key(&bob.card());
        let msg = NodeMsg::Want { key_id: "k".into() };
        let payload = encode_node(&bob, &alice, &msg);
        assert!(matches!(
            decode(&bob_key, &alice, &payload),
            Ok(Payload::Node(NodeMsg::Want { .. }))
        ));
        // Handed to carol by a hostile bus: it does not verify.
        let e = decode(&bob_key, &carol, &payload).unwrap_err();
        assert!(e.contains("sent to another member"), "{e}");
    }
}
