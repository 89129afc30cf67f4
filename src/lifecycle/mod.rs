//! A key's life in one party's home (DESIGN.md "Storage"): which transitions are allowed,
//! and destroying a share.
//!
//! ```text
//! active ──suspend──▶ suspended ──resume──▶ active
//! active | suspended ──delete──▶ pending_deletion ──cancel──▶ suspended
//! pending_deletion (date passed) ──purge──▶ deleted   (share destroyed, metadata kept)
//! ```
//!
//! Only an active key signs (or makes presignatures); every other state refuses with the
//! command that gets out of it. Cancelling a deletion leaves the key suspended, so a key
//! that someone meant to delete never signs again without an explicit `mpc resume`.
//! Each transition is one party's decision about its own share and lands in its audit
//! log; the other parties decide for theirs. Destroying a share also destroys this
//! party's unused presignatures of the key.

pub mod backup;

/// Generates one set of Paillier primes (two 1536-bit safe primes: seconds to a minute
/// or more of one core) and adds it to the home's pool, sealed, and audited as
/// `primes.generate`. `mpc primes generate`, a ceremony that needs primes, and `mpc
/// serve`'s background filler all add them this way.
pub fn add_generated_primes(
    home: &Home,
    identity: &crate::identity::Identity,
) -> Result<(), StoreError> {
    let primes = crate::engine::cggmp::Primes::generate(&mut rand::rngs::OsRng);
    let json = crate::secret::Secret::new(serde_json::to_vec(&primes).map_err(|e| {
        StoreError::Corrupt {
            what: "a new prime set".into(),
            reason: e.to_string(),
        }
    })?);
    drop(primes);
    home.add_primes(identity, json.expose())?;
    home.db()?
        .audit("primes.generate", "", serde_json::json!({ "sets": 1 }))?;
    Ok(())
}

use crate::clock::format_time;
use crate::store::Home;
use crate::store::StoreError;
use crate::store::db::{Db, KeyRecord, KeyStatus, change_key_status};
use crate::store::fsutil::remove_durably;
use crate::store::keystore::destroy_presignatures;

/// A lifecycle failure. The command layer words the advice (which command helps).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The key's status does not allow the transition.
    #[error("key {key_id} is {}; it cannot be {}", status.as_str(), transition.verb(*status))]
    NotAllowed {
        /// The key.
        key_id: String,
        /// Its status.
        status: KeyStatus,
        /// What was asked.
        transition: Transition,
    },
    /// The deletion date has not come.
    #[error("key {key_id} may not be destroyed before {}", format_time(*at))]
    TooEarly {
        /// The key.
        key_id: String,
        /// Its deletion date.
        at: u64,
    },
    /// Only a key pending deletion is destroyed.
    #[error("key {key_id} is {}, not pending deletion", status.as_str())]
    NotPendingDeletion {
        /// The key.
        key_id: String,
        /// Its status.
        status: KeyStatus,
    },
    /// The share cannot be backed up in the key's status.
    #[error("{}", backup::not_backupable(key_id, *status))]
    NotBackupable {
        /// The key.
        key_id: String,
        /// Its status (deleted, or rotating).
        status: KeyStatus,
    },
    /// The bytes are not an age-encrypted backup.
    #[error("not an age-encrypted backup")]
    NotABackup(String),
    /// Neither the passphrase nor this party's identities open the backup.
    #[error("cannot open the backup: wrong passphrase, or not encrypted to this party")]
    CannotOpen,
    /// The backup decrypts only in part.
    #[error("the backup is damaged")]
    Damaged(String),
    /// The plaintext is not a share backup.
    #[error("the file decrypts but is not an mpc share backup")]
    NotShareBackup,
    /// A backup format this build does not know.
    #[error("unsupported backup {format} version {version}")]
    Unsupported {
        /// Its `format`.
        format: String,
        /// Its `version`.
        version: u8,
    },
    /// The backup does not fit this home.
    #[error("the backup of key {key_id} is refused")]
    Refused {
        /// The key.
        key_id: String,
        /// Why.
        why: String,
        /// It is another party's share (the identity must be restored first).
        foreign_share: bool,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Something that cannot happen, or cannot be encoded.
    #[error("{what}")]
    Bug {
        /// What.
        what: String,
        /// Why.
        cause: String,
    },
}

impl Error {
    fn bug(what: &str, cause: impl std::fmt::Display) -> Error {
        Error::Bug {
            what: what.into(),
            cause: cause.to_string(),
        }
    }
}

/// The lifecycle's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A change of status asked for by the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    /// active → suspended.
    Suspend,
    /// suspended → active.
    Resume,
    /// active or suspended → pending deletion, destroyable from this unix time on.
    ScheduleDeletion(u64),
    /// pending deletion → suspended.
    CancelDeletion,
}

impl Transition {
    /// The audit action.
    fn action(self) -> &'static str {
        match self {
            Transition::Suspend => "key.suspend",
            Transition::Resume => "key.resume",
            Transition::ScheduleDeletion(_) => "key.delete.schedule",
            Transition::CancelDeletion => "key.delete.cancel",
        }
    }

    /// How a refusal of this transition from `status` words it.
    pub fn verb(self, status: KeyStatus) -> &'static str {
        match (self, status) {
            (Transition::Suspend, _) => "suspended",
            (Transition::Resume, _) => "resumed",
            (Transition::ScheduleDeletion(_), KeyStatus::PendingDeletion) => "scheduled again",
            (Transition::ScheduleDeletion(_), _) => "deleted",
            (Transition::CancelDeletion, _) => "un-deleted",
        }
    }
}

/// Applies `t` to `key` if its status allows, and records it in the audit log.
pub fn apply(db: &Db, key: &KeyRecord, t: Transition, reason: Option<&str>) -> Result<KeyStatus> {
    use KeyStatus::*;
    let id = &key.id;
    let (status, delete_after) = match (t, key.status) {
        (Transition::Suspend, Active) => (Suspended, None),
        (Transition::Resume, Suspended) => (Active, None),
        (Transition::ScheduleDeletion(at), Active | Suspended) => (PendingDeletion, Some(at)),
        (Transition::CancelDeletion, PendingDeletion) => (Suspended, None),
        _ => {
            return Err(Error::NotAllowed {
                key_id: id.clone(),
                status: key.status,
                transition: t,
            });
        }
    };
    db.audited(
        t.action(),
        id,
        serde_json::json!({
            "from": key.status.as_str(),
            "to": status.as_str(),
            "delete_after": delete_after,
            "reason": reason,
        }),
        |c| change_key_status(c, id, key.status, status, delete_after),
    )?;
    Ok(status)
}

/// Destroys this party's share of `key` (and its unused presignatures), which must be
/// pending deletion with its date passed, and marks it deleted. The metadata stays.
pub fn destroy(home: &Home, db: &Db, key: &KeyRecord, now: u64) -> Result<Vec<String>> {
    match (key.status, key.delete_after) {
        (KeyStatus::PendingDeletion, Some(at)) if at <= now => {}
        (KeyStatus::PendingDeletion, Some(at)) => {
            return Err(Error::TooEarly {
                key_id: key.id.clone(),
                at,
            });
        }
        _ => {
            return Err(Error::NotPendingDeletion {
                key_id: key.id.clone(),
                status: key.status,
            });
        }
    }
    let mut destroyed = destroy_presignatures(home, db, &key.id)?;
    let share = home.share_path(&key.id);
    remove_durably(&share)
        .map_err(|e| Error::bug(&format!("cannot remove {}", share.display()), e))?;
    destroyed.push(share.display().to_string());
    db.audited(
        "key.delete.destroy",
        &key.id,
        serde_json::json!({ "destroyed": destroyed.len() }),
        |c| {
            change_key_status(
                c,
                &key.id,
                KeyStatus::PendingDeletion,
                KeyStatus::Deleted,
                key.delete_after,
            )
        },
    )?;
    Ok(destroyed)
}
