//! ECDSA presignature pools: each node keeps, per key and signer set, CGGMP21
//! presignatures made by presigning sessions it coordinated, so a request it
//! coordinates signs in one round instead of a whole CGGMP21 session.
//!
//! A presignature is the CLI's (`mpc presign`): made by a `Presign::Generate` session,
//! stored encrypted in each signer's vault with an armed single-use ledger entry. A
//! request signs with one in one round trip (`node::presigned`: no ceremony session on
//! any node), or, where each signature waits for an operator's approval, in a
//! `Presign::Consume` session the operator can join. Either way each signer claims it
//! durably for that request and message (`ceremony::presigned_partial`, the same code)
//! and destroys it before its partial signature leaves. The pool only chooses which presignature a
//! request uses: each belongs to the node that coordinated its making (its plan's label
//! names that node), so two coordinators never pick the same one, and a node hands out
//! each of its own once (a request that fails still spends it; the ledger refuses a
//! second use anyway). A node that restarts finds its own again by the label.
//!
//! Following the cggmp21 advisory (RUSTSEC-2025-0127), a request with an HD path or a
//! caller-supplied raw hash never uses the pool (the plan's validation refuses it as
//! well); it runs a whole session, as does a request that finds the pool empty. The
//! answer's `mode` says which: `presigned` or `full`.
//!
//! Here: the pools. Filling them, and signing from them, is `node::presigned`.

use super::cluster::card_key;
use super::lock;
use crate::identity::Card;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

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
    failed: Mutex<HashMap<String, Instant>>,
}

impl Presigs {
    /// Presignatures held in all.
    pub fn level(&self) -> usize {
        lock(&self.own).values().map(VecDeque::len).sum()
    }

    /// Presignatures held of `key_id` for `signers`.
    pub fn count(&self, key_id: &str, signers: &[u16]) -> usize {
        lock(&self.own)
            .get(&(key_id.to_string(), signers.to_vec()))
            .map_or(0, VecDeque::len)
    }

    /// Adds the presignature made by `session` of `key_id` for `signers`.
    pub fn add(&self, key_id: &str, signers: &[u16], session: String) {
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

    /// One filler at a time: held while one runs.
    pub async fn filling(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.filling.lock().await
    }

    /// Whether making a presignature of `key_id` failed less than a minute ago.
    pub fn failed_lately(&self, key_id: &str) -> bool {
        lock(&self.failed)
            .get(key_id)
            .is_some_and(|at| at.elapsed() < Duration::from_secs(60))
    }

    /// Notes that making a presignature of `key_id` failed now.
    pub fn failed(&self, key_id: &str) {
        lock(&self.failed).insert(key_id.to_string(), Instant::now());
    }

    /// Drops every presignature of `key_id` from the pool (the key was rotated or
    /// deleted; the vault's copies are the ceremony's to destroy).
    pub fn forget(&self, key_id: &str) {
        lock(&self.own).retain(|(k, _), _| k != key_id);
    }
}

/// The label of the presigning plans `me` coordinates for its pool.
pub fn pool_label(me: &Card) -> String {
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
