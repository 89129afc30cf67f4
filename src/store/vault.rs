//! Where a party keeps its secret items: session journals, key shares, presignatures
//! and aux info, plus the pool of Paillier primes and the per-session lock.
//!
//! [`Vault`] is the seam between the ceremony and the disk. The party home ([`Home`])
//! keeps every item as an age file sealed to the party's own recipient, written
//! atomically with mode 0600; [`MemoryVault`] keeps them in process memory only (zeroized
//! when replaced or dropped), for a server's fast path where a FROST nonce never touches
//! a disk, and for tests that run three parties in one process.
//!
//! The rules that make a ceremony safe (the journal drives delivery, a single-use item is
//! consumed atomically before a share leaves) do not live here but in the SQLite
//! [`Db`](super::db::Db) and the ceremony, which are the same code over either vault;
//! a [`MemoryVault`] goes with an in-memory database ([`Db::memory`](super::db::Db::memory)).

use super::{Home, StoreError, fsutil};
use crate::identity::Identity;
use crate::secret::{Secret, SecretBytes};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Condvar, Mutex};

/// One secret item of a party.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item<'a> {
    /// The journal of a session (hex id): its secret state and what it sent.
    Journal(&'a str),
    /// This party's share of a key (key id).
    Share(&'a str),
    /// The presignature made in a presigning session (hex id).
    Presignature(&'a str),
    /// This party's aux info (Paillier secret key) for a party set.
    Aux(&'a str),
}

/// The lock of one session in a vault, released when dropped.
pub struct SessionLock(#[allow(dead_code)] Box<dyn Send>);

/// Secret storage of one party. See the module doc.
pub trait Vault: Send + Sync {
    /// Reads an item; `None` if it is absent.
    fn read(&self, item: Item<'_>, identity: &Identity) -> Result<Option<SecretBytes>, StoreError>;
    /// Writes an item, replacing it atomically.
    fn write(&self, item: Item<'_>, identity: &Identity, plain: &[u8]) -> Result<(), StoreError>;
    /// Removes an item durably (nothing if absent).
    fn remove(&self, item: Item<'_>) -> Result<(), StoreError>;
    /// Whether an item is there.
    fn contains(&self, item: Item<'_>) -> bool;
    /// Where an item lives, for messages (a path, or "memory").
    fn locate(&self, item: Item<'_>) -> String;
    /// Takes the lock of a session, waiting for another holder.
    fn lock_session(&self, sid: &str) -> Result<SessionLock, StoreError>;
    /// A session ended: its journal (every secret of the session) and its lock go.
    fn end_session(&self, sid: &str) -> Result<(), StoreError>;
    /// Takes one Paillier prime set out of the pool, never handing one out twice.
    fn take_primes(&self, identity: &Identity) -> Result<Option<SecretBytes>, StoreError>;
    /// Whether the prime pool holds a set.
    fn has_primes(&self) -> Result<bool, StoreError>;
    /// Removes what a killed process left behind; `running` says whether a session id is
    /// still running.
    fn clean_leftovers(
        &self,
        running: &dyn Fn(&str) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError>;
}

impl Home {
    /// The file of an item.
    pub fn item_path(&self, item: Item<'_>) -> std::path::PathBuf {
        match item {
            Item::Journal(sid) => self.journal_path(sid),
            Item::Share(key) => self.share_path(key),
            Item::Presignature(sid) => self.presignature_path(sid),
            Item::Aux(set) => self.aux_path(set),
        }
    }
}

impl Vault for Home {
    fn read(&self, item: Item<'_>, identity: &Identity) -> Result<Option<SecretBytes>, StoreError> {
        self.read_sealed(&self.item_path(item), identity)
    }

    fn write(&self, item: Item<'_>, identity: &Identity, plain: &[u8]) -> Result<(), StoreError> {
        self.write_sealed(&self.item_path(item), identity, plain)
    }

    fn remove(&self, item: Item<'_>) -> Result<(), StoreError> {
        let path = self.item_path(item);
        fsutil::remove_durably(&path).map_err(|source| StoreError::Io { path, source })
    }

    fn contains(&self, item: Item<'_>) -> bool {
        self.item_path(item).exists()
    }

    fn locate(&self, item: Item<'_>) -> String {
        self.item_path(item).display().to_string()
    }

    fn lock_session(&self, sid: &str) -> Result<SessionLock, StoreError> {
        Ok(SessionLock(Box::new(Home::lock_session(self, sid)?)))
    }

    fn end_session(&self, sid: &str) -> Result<(), StoreError> {
        Home::end_session(self, sid)
    }

    fn take_primes(&self, identity: &Identity) -> Result<Option<SecretBytes>, StoreError> {
        Home::take_primes(self, identity)
    }

    fn has_primes(&self) -> Result<bool, StoreError> {
        Ok(!self.primes()?.is_empty())
    }

    fn clean_leftovers(
        &self,
        running: &dyn Fn(&str) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        Home::clean_leftovers(self, running).map(|_| ())
    }
}

/// A vault in process memory: nothing is written to disk. Items are kept as plaintext
/// in [`Secret`]s (zeroized when replaced, removed or dropped), since sealing them to the
/// party's own key would protect nothing that the process's memory does not already
/// hold.
#[derive(Default)]
pub struct MemoryVault {
    items: Mutex<HashMap<String, SecretBytes>>,
    primes: Mutex<Vec<SecretBytes>>,
    locks: Arc<SessionLocks>,
}

#[derive(Default)]
struct SessionLocks {
    held: Mutex<HashSet<String>>,
    freed: Condvar,
}

struct MemoryLock {
    locks: Arc<SessionLocks>,
    sid: String,
}

impl Drop for MemoryLock {
    fn drop(&mut self) {
        let mut held = self.locks.held.lock().unwrap_or_else(|p| p.into_inner());
        held.remove(&self.sid);
        self.locks.freed.notify_all();
    }
}

fn key(item: Item<'_>) -> String {
    match item {
        Item::Journal(s) => format!("sessions/{s}"),
        Item::Share(s) => format!("shares/{s}"),
        Item::Presignature(s) => format!("presig/{s}"),
        Item::Aux(s) => format!("aux/{s}"),
    }
}

impl MemoryVault {
    /// An empty vault.
    pub fn new() -> MemoryVault {
        MemoryVault::default()
    }

    /// Adds a Paillier prime set to the pool.
    pub fn add_primes(&self, plain: &[u8]) {
        self.primes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Secret::new(plain.to_vec()));
    }

    fn items(&self) -> std::sync::MutexGuard<'_, HashMap<String, SecretBytes>> {
        // A panic in another thread cannot leave the map half-updated: every operation
        // is a single insert or remove.
        self.items.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Vault for MemoryVault {
    fn read(&self, item: Item<'_>, _: &Identity) -> Result<Option<SecretBytes>, StoreError> {
        Ok(self
            .items()
            .get(&key(item))
            .map(|s| Secret::new(s.expose().clone())))
    }

    fn write(&self, item: Item<'_>, _: &Identity, plain: &[u8]) -> Result<(), StoreError> {
        self.items().insert(key(item), Secret::new(plain.to_vec()));
        Ok(())
    }

    fn remove(&self, item: Item<'_>) -> Result<(), StoreError> {
        self.items().remove(&key(item));
        Ok(())
    }

    fn contains(&self, item: Item<'_>) -> bool {
        self.items().contains_key(&key(item))
    }

    fn locate(&self, item: Item<'_>) -> String {
        format!("memory:{}", key(item))
    }

    fn lock_session(&self, sid: &str) -> Result<SessionLock, StoreError> {
        let mut held = self.locks.held.lock().unwrap_or_else(|p| p.into_inner());
        while held.contains(sid) {
            held = self
                .locks
                .freed
                .wait(held)
                .unwrap_or_else(|p| p.into_inner());
        }
        held.insert(sid.to_string());
        Ok(SessionLock(Box::new(MemoryLock {
            locks: self.locks.clone(),
            sid: sid.to_string(),
        })))
    }

    fn end_session(&self, sid: &str) -> Result<(), StoreError> {
        self.remove(Item::Journal(sid))
    }

    fn take_primes(&self, _: &Identity) -> Result<Option<SecretBytes>, StoreError> {
        Ok(self.primes.lock().unwrap_or_else(|p| p.into_inner()).pop())
    }

    fn has_primes(&self) -> Result<bool, StoreError> {
        Ok(!self
            .primes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_empty())
    }

    fn clean_leftovers(
        &self,
        running: &dyn Fn(&str) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        let journals: Vec<String> = self
            .items()
            .keys()
            .filter_map(|k| k.strip_prefix("sessions/").map(str::to_string))
            .collect();
        for sid in journals {
            if !running(&sid)? {
                self.remove(Item::Journal(&sid))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_vault_keeps_items_apart_and_locks_exclusively() {
        let v = MemoryVault::new();
        let id = crate::identity::Identity::generate("alice");
        v.write(Item::Share("k"), &id, b"share").unwrap();
        v.write(Item::Journal("k"), &id, b"journal").unwrap();
        assert_eq!(
            v.read(Item::Share("k"), &id).unwrap().unwrap().expose(),
            b"share"
        );
        v.end_session("k").unwrap();
        assert!(!v.contains(Item::Journal("k")) && v.contains(Item::Share("k")));
        // A second locker waits for the first.
        let first = v.lock_session("s").unwrap();
        let order = Mutex::new(Vec::new());
        std::thread::scope(|s| {
            s.spawn(|| {
                let _second = v.lock_session("s").unwrap();
                order.lock().unwrap().push("second");
            });
            std::thread::sleep(std::time::Duration::from_millis(50));
            order.lock().unwrap().push("first");
            drop(first);
        });
        assert_eq!(*order.lock().unwrap(), ["first", "second"]);
    }
}
