//! Storage: the party home on disk.
//!
//! ```text
//! HOME/identity.age        identity keys, age scrypt under the passphrase
//! HOME/card.json           the public card
//! HOME/mpc.db              SQLite metadata (nothing secret)
//! HOME/shares/<key>.age    key shares, age-encrypted to the party's own X25519 recipient
//! HOME/sessions/<id>.age   session journals (FROST secret state, sent envelopes), same
//! ```
//! Every secret file is written atomically with mode 0600. Opening a share or journal
//! costs one X25519 decryption; the slow passphrase KDF runs once, when the identity is
//! unlocked.

pub mod db;
pub use db::audit;
pub mod fsutil;
pub mod keystore;
pub mod vault;

use crate::identity::{Card, Identity, IdentityError};
use crate::secret::{Secret, SecretBytes};
use age::secrecy::SecretString;
use std::path::{Path, PathBuf};

/// Storage errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No party home at the path.
    #[error("no party home at {0} (no identity.age)")]
    NoHome(PathBuf),
    /// `init` on an existing home.
    #[error("a party home already exists at {0}")]
    AlreadyExists(PathBuf),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The identity could not be opened.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// A sealed file could not be decrypted or parsed.
    #[error("{path}: {reason}")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The database failed.
    #[error("database error: {0}")]
    Db(#[from] rusqlite::Error),
    /// The database is newer than this build.
    #[error("the database schema version {0} is newer than this mpc understands")]
    TooNew(i64),
    /// This home's state went backwards (a session journal restored from a copy, or
    /// deleted): continuing could reuse a single-use secret, so nothing is done.
    #[error("{0}")]
    RolledBack(String),
    /// The cluster's shared single-use ledger could not be reached; nothing was used.
    #[error("the cluster's single-use ledger cannot be reached: {0}")]
    ClusterLedger(String),
    /// Another process changed the record first (a lost race, not damage).
    #[error("{0}")]
    Changed(String),
    /// This party holds no share of the key.
    #[error("no share for key {key_id} in this home ({place})")]
    NoShare {
        /// The key.
        key_id: String,
        /// Where the share would be.
        place: String,
    },
    /// A stored record or item is unreadable (damaged, or written by a bug).
    #[error("{what}: {reason}")]
    Corrupt {
        /// What is damaged.
        what: String,
        /// Why it does not parse.
        reason: String,
    },
    /// The key may not sign in its present status.
    #[error("key {key_id} is {}; it cannot sign", status.as_str())]
    CannotSign {
        /// The key.
        key_id: String,
        /// Its status.
        status: db::KeyStatus,
        /// When it is to be deleted, if it is.
        delete_after: Option<u64>,
    },
}

/// What a ceremony keeps: the metadata database and the vault of secret items, either
/// a party home on disk or both in memory.
pub struct Store {
    /// The metadata, ledger and audit log.
    pub db: db::Db,
    /// The secret items.
    pub vault: std::sync::Arc<dyn vault::Vault>,
}

impl Store {
    /// The store of a party home: its database and its sealed files.
    pub fn home(home: &Home) -> Result<Store, StoreError> {
        Ok(Store {
            db: home.db()?,
            vault: std::sync::Arc::new(home.clone()),
        })
    }

    /// A store in process memory only: an in-memory database and a
    /// [`vault::MemoryVault`].
    pub fn memory() -> Result<Store, StoreError> {
        Ok(Store {
            db: db::Db::memory()?,
            vault: std::sync::Arc::new(vault::MemoryVault::new()),
        })
    }
}

/// A party home directory.
#[derive(Clone, Debug)]
pub struct Home {
    root: PathBuf,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl Home {
    /// The home at `flag` (from `--home` or `MPC_HOME`), or the platform data directory.
    pub fn resolve(flag: Option<PathBuf>) -> Home {
        let root = flag.unwrap_or_else(|| {
            let base = std::env::var_os("XDG_DATA_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
                .unwrap_or_else(|| PathBuf::from("."));
            base.join("mpc")
        });
        Home { root }
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn identity_path(&self) -> PathBuf {
        self.root.join("identity.age")
    }

    fn card_path(&self) -> PathBuf {
        self.root.join("card.json")
    }

    /// The SQLite database.
    pub fn db_path(&self) -> PathBuf {
        self.root.join("mpc.db")
    }

    /// The share file of a key.
    pub fn share_path(&self, key_id: &str) -> PathBuf {
        self.root.join("shares").join(format!("{key_id}.age"))
    }

    /// The key ids of the share files in `shares/`.
    pub fn share_key_ids(&self) -> Result<Vec<String>, StoreError> {
        let dir = self.root.join("shares");
        let entries = match std::fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io(&dir)(e)),
        };
        let mut ids = Vec::new();
        for entry in entries {
            let name = entry.map_err(io(&dir))?.file_name();
            if let Some(id) = name.to_string_lossy().strip_suffix(".age")
                && !id.starts_with(".tmp-")
            {
                ids.push(id.to_string());
            }
        }
        ids.sort();
        Ok(ids)
    }

    /// This party's aux info (Paillier secret key) for a party set.
    pub fn aux_path(&self, party_set: &str) -> PathBuf {
        self.root.join("aux").join(format!("{party_set}.age"))
    }

    fn primes_dir(&self) -> PathBuf {
        self.root.join("primes")
    }

    /// The sealed Paillier prime sets waiting to be used, oldest first.
    pub fn primes(&self) -> Result<Vec<PathBuf>, StoreError> {
        let dir = self.primes_dir();
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = match std::fs::read_dir(&dir) {
            Ok(rd) => rd
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "age"))
                .map(|p| {
                    (
                        std::fs::metadata(&p)
                            .and_then(|m| m.modified())
                            .unwrap_or(std::time::UNIX_EPOCH),
                        p,
                    )
                })
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io(&dir)(e)),
        };
        files.sort();
        Ok(files.into_iter().map(|(_, p)| p).collect())
    }

    /// Adds a prime set (serialized, secret) to the pool.
    pub fn add_primes(&self, identity: &Identity, plain: &[u8]) -> Result<PathBuf, StoreError> {
        let path = self
            .primes_dir()
            .join(format!("{}.age", hex::encode(rand::random::<[u8; 8]>())));
        self.write_sealed(&path, identity, plain)?;
        Ok(path)
    }

    /// Takes the oldest prime set out of the pool: it is removed before it is returned,
    /// so a set is never used twice (a crash can only waste one). Of processes racing for
    /// one set, exactly one removes the file and gets it; the others go on to the next
    /// set (`None` when the pool is empty).
    pub fn take_primes(&self, identity: &Identity) -> Result<Option<SecretBytes>, StoreError> {
        for path in self.primes()? {
            let plain = match self.read_sealed(&path, identity)? {
                Some(plain) => plain,
                None => continue, // taken by another process since the listing
            };
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io(&path)(e)),
            }
            fsutil::sync_dir(&self.primes_dir()).map_err(io(&path))?;
            return Ok(Some(plain));
        }
        Ok(None)
    }

    /// This party's presignature made in a presigning session (secret, single use).
    pub fn presignature_path(&self, session_hex: &str) -> PathBuf {
        self.root.join("presig").join(format!("{session_hex}.age"))
    }

    /// The journal of a session.
    pub fn journal_path(&self, session_hex: &str) -> PathBuf {
        self.root
            .join("sessions")
            .join(format!("{session_hex}.age"))
    }

    /// Takes this home's lock on session `session_hex`, waiting for another process
    /// that holds it: the steps of one session never run at the same time. The lock is
    /// released when the guard is dropped, or by the kernel when the process dies.
    pub fn lock_session(&self, session_hex: &str) -> Result<fsutil::FileLock, StoreError> {
        let path = self.lock_path(session_hex);
        if let Some(dir) = path.parent() {
            fsutil::create_private_dir(dir).map_err(io(dir))?;
        }
        fsutil::FileLock::exclusive(&path).map_err(io(&path))
    }

    fn lock_path(&self, session_hex: &str) -> PathBuf {
        self.root
            .join("sessions")
            .join(format!("{session_hex}.lock"))
    }

    /// A session ended (complete or aborted): its journal, with every secret of the
    /// session, is destroyed, and its lock file goes.
    pub fn end_session(&self, session_hex: &str) -> Result<(), StoreError> {
        let journal = self.journal_path(session_hex);
        fsutil::remove_durably(&journal).map_err(io(&journal))?;
        let lock = self.lock_path(session_hex);
        fsutil::remove_durably(&lock).map_err(io(&lock))
    }

    /// Removes what a killed process can leave behind: temporary files of atomic writes
    /// (`.tmp-*`, older than a minute, so a write under way in another process is left
    /// alone) in every folder of the home, and the journals and lock files of sessions
    /// that `running` says are no longer running. Returns the files removed.
    pub fn clean_leftovers(
        &self,
        running: impl Fn(&str) -> Result<bool, StoreError>,
    ) -> Result<Vec<PathBuf>, StoreError> {
        let mut removed = Vec::new();
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
        for sub in ["", "sessions", "shares", "presig", "primes", "aux"] {
            let dir = self.root.join(sub);
            let entries = match std::fs::read_dir(&dir) {
                Ok(rd) => rd,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io(&dir)(e)),
            };
            for entry in entries {
                let path = entry.map_err(io(&dir))?.path();
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let stale = if name.starts_with(".tmp-") {
                    std::fs::metadata(&path)
                        .and_then(|m| m.modified())
                        .is_ok_and(|t| t < old)
                } else if sub == "sessions" {
                    let id = name
                        .strip_suffix(".age")
                        .or_else(|| name.strip_suffix(".lock"));
                    match id {
                        Some(id) => !running(id)?,
                        None => false,
                    }
                } else {
                    false
                };
                if stale {
                    fsutil::remove_durably(&path).map_err(io(&path))?;
                    removed.push(path);
                }
            }
        }
        Ok(removed)
    }

    /// Creates a new home with a fresh identity sealed under `passphrase`.
    pub fn create(
        &self,
        name: &str,
        passphrase: &SecretString,
        log_n: u8,
    ) -> Result<Identity, StoreError> {
        if self.identity_path().exists() {
            return Err(StoreError::AlreadyExists(self.root.clone()));
        }
        for dir in [
            self.root.clone(),
            self.root.join("shares"),
            self.root.join("sessions"),
        ] {
            fsutil::create_private_dir(&dir).map_err(io(&dir))?;
        }
        let identity = Identity::generate(name);
        let sealed = identity.seal(passphrase, log_n)?;
        let card = identity.card();
        db::Db::open(&self.db_path())?;
        let card_path = self.card_path();
        fsutil::write_atomic(&card_path, card.to_json().as_bytes()).map_err(io(&card_path))?;
        let id_path = self.identity_path();
        fsutil::write_atomic(&id_path, &sealed).map_err(io(&id_path))?;
        Ok(identity)
    }

    fn require(&self) -> Result<(), StoreError> {
        if self.identity_path().exists() {
            Ok(())
        } else {
            Err(StoreError::NoHome(self.root.clone()))
        }
    }

    /// The party's public card (no passphrase needed).
    pub fn card(&self) -> Result<Card, StoreError> {
        self.require()?;
        let path = self.card_path();
        let bytes = std::fs::read(&path).map_err(io(&path))?;
        Card::from_json(&bytes).map_err(|e| StoreError::Damaged {
            path,
            reason: e.to_string(),
        })
    }

    /// Unlocks the identity (the one slow KDF run).
    pub fn unlock(&self, passphrase: &SecretString) -> Result<Identity, StoreError> {
        self.require()?;
        let path = self.identity_path();
        let sealed = std::fs::read(&path).map_err(io(&path))?;
        Ok(Identity::open(&sealed, passphrase)?)
    }

    /// Opens the database (creating or migrating it).
    pub fn db(&self) -> Result<db::Db, StoreError> {
        self.require()?;
        db::Db::open(&self.db_path())
    }

    /// Encrypts `plain` to the party's own recipient and writes it atomically, mode 0600.
    pub fn write_sealed(
        &self,
        path: &Path,
        identity: &Identity,
        plain: &[u8],
    ) -> Result<(), StoreError> {
        let ct = age::encrypt(&identity.recipient(), plain).map_err(|e| StoreError::Damaged {
            path: path.to_path_buf(),
            reason: format!("encryption failed: {e}"),
        })?;
        if let Some(dir) = path.parent() {
            fsutil::create_private_dir(dir).map_err(io(dir))?;
        }
        fsutil::write_atomic(path, &ct).map_err(io(path))
    }

    /// Reads and decrypts a file written by [`Home::write_sealed`]; `None` if absent.
    pub fn read_sealed(
        &self,
        path: &Path,
        identity: &Identity,
    ) -> Result<Option<SecretBytes>, StoreError> {
        let ct = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(path)(e)),
        };
        let plain =
            age::decrypt(identity.age_identity(), &ct).map_err(|e| StoreError::Damaged {
                path: path.to_path_buf(),
                reason: format!("cannot decrypt with this party's identity: {e}"),
            })?;
        Ok(Some(Secret::new(plain)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn racing_takers_never_share_a_prime_set() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::resolve(Some(dir.path().join("home")));
        let id = home
            .create("alice", &SecretString::from("pw".to_string()), 2)
            .unwrap();
        for i in 0..6 {
            home.add_primes(&id, format!("set {i}").as_bytes()).unwrap();
        }
        let taken: Vec<Option<Vec<u8>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| home.take_primes(&id).unwrap().map(|s| s.expose().clone())))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut sets: Vec<Vec<u8>> = taken.into_iter().flatten().collect();
        assert_eq!(
            sets.len(),
            6,
            "every set is taken once, and two takers get none"
        );
        sets.sort();
        sets.dedup();
        assert_eq!(sets.len(), 6, "no set was handed out twice");
        assert!(home.primes().unwrap().is_empty());
    }

    #[test]
    fn leftovers_of_killed_processes_are_cleaned_and_running_sessions_kept() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::resolve(Some(dir.path().join("home")));
        home.create("alice", &SecretString::from("pw".to_string()), 2)
            .unwrap();
        let sessions = home.root().join("sessions");
        let old_tmp = sessions.join(".tmp-old");
        let new_tmp = home.root().join("shares").join(".tmp-new");
        for f in [&old_tmp, &new_tmp] {
            std::fs::write(f, b"partial").unwrap();
        }
        let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        std::fs::File::options()
            .write(true)
            .open(&old_tmp)
            .unwrap()
            .set_modified(an_hour_ago)
            .unwrap();
        for f in ["done.age", "done.lock", "running.age", "running.lock"] {
            std::fs::write(sessions.join(f), b"x").unwrap();
        }
        let removed = home.clean_leftovers(|id| Ok(id == "running")).unwrap();
        assert_eq!(removed.len(), 3, "{removed:?}");
        assert!(!old_tmp.exists() && !sessions.join("done.age").exists());
        assert!(!sessions.join("done.lock").exists());
        // A temporary file being written right now, and a running session, stay.
        assert!(new_tmp.exists() && sessions.join("running.age").exists());
    }
}
