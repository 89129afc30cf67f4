//! FROST nonce pools: the state of a cluster's fast path (DESIGN.md "Fast path state
//! lives in memory"). The signing that draws on them is `node::preprocessed`.
//!
//! Every node keeps, per key and per coordinator (every member holding the key, itself
//! included), a pool of preprocessed nonces in memory only, and sends each coordinator
//! the commitments of the nonces kept for it ([`NodeMsg::Commitments`]). Nonces are
//! never shared between coordinators, so two coordinators never pick the same one.
//! A coordinator signs with one round trip: it takes one of its own nonces and one
//! commitment of every other signer per message, sends [`NodeMsg::FastSign`], and
//! aggregates the [`NodeMsg::Shares`]. A signer removes the nonces from its pool before
//! it computes anything, so a replayed or repeated request finds them gone; a crash
//! loses the pools, which is safe. A coordinator that runs short of a signer's
//! commitments, or hears that one is unknown (the signer restarted), drops what it
//! holds of that signer and asks for fresh ones ([`NodeMsg::Want`]); the request then
//! takes the full two-round session instead.

use super::lock;
use crate::engine::frost::preprocessed::Preprocessed;
use crate::identity::Card;
use crate::scheme::Scheme;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Nonces kept per key and coordinator.
pub const TARGET: usize = 1024;
/// Refill below this many.
pub const LOW: usize = 768;
/// The most messages in one batch request.
pub const MAX_BATCH: usize = 64;

/// A key's share, decrypted once and kept in memory while the node runs.
pub struct Loaded {
    /// The scheme.
    pub scheme: Scheme,
    /// The share, ready for signing.
    pub prepared: Box<dyn crate::engine::frost::preprocessed::Prepared>,
    /// This node's party index.
    pub me: u16,
    /// The parties, in key order.
    pub parties: Vec<Card>,
    /// t.
    pub threshold: u16,
    /// The key record's `updated_at` when loaded (a change reloads it).
    pub updated_at: u64,
}

/// A signer's commitments held by a coordinator: (nonce id, commitment), oldest first.
type Held = VecDeque<(u64, Vec<u8>)>;

/// Commitments taken for one request: signer index → (nonce id, commitment) per
/// message.
pub type Taken = BTreeMap<u16, Vec<(u64, Vec<u8>)>>;

/// Signatures made in one round trip, their signers (party indices) and request id.
pub(crate) struct FastSigned {
    /// One per message.
    pub signatures: Vec<Vec<u8>>,
    /// The signers.
    pub signers: Vec<u16>,
    /// The request id, hex.
    pub id: String,
}

struct Own {
    /// The last nonce id given. Ids count up from a random epoch in the high 32 bits,
    /// drawn when the pool is made: a signer that restarted makes new ids, so a
    /// coordinator's stale commitment names a nonce the signer does not know (and is
    /// refreshed at once) rather than a new nonce under an old id.
    next: u64,
    /// Nonce id → the nonces and their commitment.
    nonces: HashMap<u64, Preprocessed>,
}

impl Default for Own {
    fn default() -> Own {
        let epoch = u64::from(rand::RngCore::next_u32(&mut rand::rngs::OsRng));
        Own {
            next: epoch << 32,
            nonces: HashMap::new(),
        }
    }
}

/// The node's pools.
#[derive(Default)]
pub struct Pools {
    /// (key, coordinator key) → nonces kept for that coordinator.
    own: Mutex<HashMap<(String, [u8; 32]), Own>>,
    /// (key, signer index) → that signer's commitments held by this node.
    held: Mutex<HashMap<(String, u16), Held>>,
    /// When this node last asked a signer for fresh commitments.
    wanted: Mutex<HashMap<(String, u16), Instant>>,
    keys: Mutex<HashMap<String, Arc<Loaded>>>,
    refilling: Mutex<()>,
    /// Woken when commitments are added to `held`.
    held_changed: tokio::sync::Notify,
    /// Told when nonces leave a pool, a member comes up or a key's shares change (the
    /// refill loop waits on it).
    pub drawn: Arc<tokio::sync::Notify>,
}

impl Pools {
    /// Pools whose refill loop is also woken by `wake` (a member came up).
    pub fn waking(wake: Arc<tokio::sync::Notify>) -> Pools {
        Pools {
            drawn: wake,
            ..Pools::default()
        }
    }

    /// How many commitments of signer `index` this node holds for `key_id`.
    fn held_len(&self, key_id: &str, index: u16) -> usize {
        lock(&self.held)
            .get(&(key_id.to_string(), index))
            .map_or(0, VecDeque::len)
    }

    /// Drops everything kept for `key_id` (its share was refreshed or deleted): the
    /// loaded share, this node's nonces for it and the commitments held.
    pub fn forget(&self, key_id: &str) {
        lock(&self.keys).remove(key_id);
        lock(&self.own).retain(|(k, _), _| k != key_id);
        lock(&self.held).retain(|(k, _), _| k != key_id);
    }

    /// Levels for metrics and `/nodes`: (own nonces, held commitments) in all.
    pub fn levels(&self) -> (usize, usize) {
        (
            lock(&self.own).values().map(|o| o.nonces.len()).sum(),
            lock(&self.held).values().map(VecDeque::len).sum(),
        )
    }

    /// The share of `key_id` loaded before, if its record has not changed since.
    pub fn loaded(&self, key_id: &str, updated_at: u64) -> Option<Arc<Loaded>> {
        lock(&self.keys)
            .get(key_id)
            .filter(|l| l.updated_at == updated_at)
            .cloned()
    }

    /// Keeps the share of `key_id`, loaded.
    pub fn keep_loaded(&self, key_id: &str, loaded: Arc<Loaded>) {
        lock(&self.keys).insert(key_id.to_string(), loaded);
    }

    /// One refill at a time: a coordinator must get a signer's commitment messages in
    /// the order the signer's pool changed (a fresh set after a top-up, never the
    /// other way round). Held while a refill runs.
    pub fn refilling(&self) -> std::sync::MutexGuard<'_, ()> {
        lock(&self.refilling)
    }

    /// How many nonces this node keeps for `coordinator` for `key_id`, after emptying
    /// them first when `fresh`.
    pub fn own_after(&self, key_id: &str, coordinator: &[u8; 32], fresh: bool) -> usize {
        let mut own = lock(&self.own);
        let o = own.entry((key_id.to_string(), *coordinator)).or_default();
        if fresh {
            o.nonces.clear();
        }
        o.nonces.len()
    }

    /// Drops the nonces kept for `coordinator` for `key_id`.
    pub fn drop_own(&self, key_id: &str, coordinator: &[u8; 32]) {
        lock(&self.own).remove(&(key_id.to_string(), *coordinator));
    }

    /// Keeps `made` for `coordinator` for `key_id` under new ids; their ids and
    /// commitments, to send to the coordinator.
    pub fn keep_own(
        &self,
        key_id: &str,
        coordinator: &[u8; 32],
        made: Vec<Preprocessed>,
    ) -> Vec<(u64, Vec<u8>)> {
        let mut own = lock(&self.own);
        let o = own.entry((key_id.to_string(), *coordinator)).or_default();
        made.into_iter()
            .map(|p| {
                o.next += 1;
                let item = (o.next, p.commitment.clone());
                o.nonces.insert(o.next, p);
                item
            })
            .collect()
    }

    /// Takes the nonces `ids` kept for `coordinator` for `key_id` out of the pool: all
    /// of them, or (when one is missing or named twice) none. Taken, they are never
    /// offered again.
    pub fn take_own(
        &self,
        key_id: &str,
        coordinator: &[u8; 32],
        ids: &[u64],
    ) -> Option<Vec<Preprocessed>> {
        let mut sorted = ids.to_vec();
        sorted.sort_unstable();
        if sorted.windows(2).any(|w| w[0] == w[1]) {
            return None;
        }
        let taken = {
            let mut own = lock(&self.own);
            let o = own.get_mut(&(key_id.to_string(), *coordinator))?;
            if ids.iter().any(|i| !o.nonces.contains_key(i)) {
                return None;
            }
            ids.iter().filter_map(|i| o.nonces.remove(i)).collect()
        };
        self.drawn.notify_one();
        Some(taken)
    }

    /// Holds signer `index`'s commitments `items` for `key_id` (replacing what was held
    /// when `fresh`), at most twice [`TARGET`] of them.
    pub fn hold(&self, key_id: &str, index: u16, fresh: bool, items: Vec<(u64, Vec<u8>)>) {
        let mut held = lock(&self.held);
        let q = held.entry((key_id.to_string(), index)).or_default();
        if fresh {
            q.clear();
        }
        q.extend(items);
        while q.len() > 2 * TARGET {
            q.pop_front();
        }
        drop(held);
        self.held_changed.notify_waiters();
    }

    /// Whether this node holds `m` commitments of signer `index` for `key_id`, waiting
    /// up to `wait` for a refill under way.
    pub async fn wait_held(&self, key_id: &str, index: u16, m: usize, wait: Duration) -> bool {
        let until = tokio::time::Instant::now() + wait;
        let enough = || (self.held_len(key_id, index) >= m).then_some(());
        super::notified_until(&self.held_changed, until, enough)
            .await
            .is_some()
    }

    /// Takes `m` commitments of each of `signers` for `key_id`: for all of them, or
    /// `None` when one has fewer. Taken, used or not, none is offered again.
    pub fn take_held(&self, key_id: &str, signers: &[u16], m: usize) -> Option<Taken> {
        let mut held = lock(&self.held);
        if signers
            .iter()
            .any(|&s| held.get(&(key_id.to_string(), s)).map_or(0, VecDeque::len) < m)
        {
            return None;
        }
        Some(
            signers
                .iter()
                .map(|&s| {
                    let q = held.entry((key_id.to_string(), s)).or_default();
                    (s, q.drain(..m).collect())
                })
                .collect(),
        )
    }

    /// Whether to ask signer `index` for fresh commitments for `key_id` now (at most
    /// once a second); if so, what is held of it is dropped.
    pub fn want_again(&self, key_id: &str, index: u16) -> bool {
        let slot = (key_id.to_string(), index);
        {
            let mut w = lock(&self.wanted);
            if w.get(&slot)
                .is_some_and(|t| t.elapsed() < Duration::from_secs(1))
            {
                return false;
            }
            w.insert(slot.clone(), Instant::now());
        }
        lock(&self.held).remove(&slot);
        true
    }
}
