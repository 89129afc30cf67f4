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

pub mod audit;
pub mod db;
pub mod fsutil;

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
            .join(format!("{}.age", &crate::plan::fresh_nonce()[..16]));
        self.write_sealed(&path, identity, plain)?;
        Ok(path)
    }

    /// Takes the oldest prime set out of the pool: it is removed before it is returned,
    /// so a set is never used twice (a crash can only waste one).
    pub fn take_primes(&self, identity: &Identity) -> Result<Option<SecretBytes>, StoreError> {
        let Some(path) = self.primes()?.into_iter().next() else {
            return Ok(None);
        };
        let plain = self.read_sealed(&path, identity)?;
        fsutil::remove_durably(&path).map_err(io(&path))?;
        Ok(plain)
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

    /// Creates a new home with a fresh identity sealed under `passphrase`.
    pub fn create(
        &self,
        name: &str,
        passphrase: &SecretString,
        log_n: u8,
    ) -> Result<Card, StoreError> {
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
        Ok(card)
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
