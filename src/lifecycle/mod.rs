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

use crate::clock::format_time;
use crate::error::{Failure, Result};
use crate::store::Home;
use crate::store::db::{Db, KeyRecord, KeyStatus, change_key_status};
use crate::store::fsutil::remove_durably;
use crate::store::keystore::destroy_presignatures;

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
}

/// Applies `t` to `key` if its status allows, and records it in the audit log.
pub fn apply(
    db: &mut Db,
    key: &KeyRecord,
    t: Transition,
    reason: Option<&str>,
) -> Result<KeyStatus> {
    use KeyStatus::*;
    let id = &key.id;
    let refused = |what: &str, hint: String| {
        Err(Failure::input(format!(
            "key {id} is {}; it cannot be {what}",
            key.status.as_str()
        ))
        .hint(hint))
    };
    let (status, delete_after) = match (t, key.status) {
        (Transition::Suspend, Active) => (Suspended, None),
        (Transition::Suspend, _) => {
            return refused("suspended", "only an active key can be suspended".into());
        }
        (Transition::Resume, Suspended) => (Active, None),
        (Transition::Resume, PendingDeletion) => {
            return refused(
                "resumed",
                format!("cancel the deletion first: `mpc delete {id} --cancel`"),
            );
        }
        (Transition::Resume, _) => {
            return refused("resumed", "only a suspended key can be resumed".into());
        }
        (Transition::ScheduleDeletion(at), Active | Suspended) => (PendingDeletion, Some(at)),
        (Transition::ScheduleDeletion(_), PendingDeletion) => {
            return refused(
                "scheduled again",
                format!("cancel first (`mpc delete {id} --cancel`) to change the date"),
            );
        }
        (Transition::ScheduleDeletion(_), _) => {
            return refused(
                "deleted",
                "only an active or suspended key can be deleted".into(),
            );
        }
        (Transition::CancelDeletion, PendingDeletion) => (Suspended, None),
        (Transition::CancelDeletion, _) => {
            return refused(
                "un-deleted",
                "only a key pending deletion has a deletion to cancel".into(),
            );
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
pub fn destroy(home: &Home, db: &mut Db, key: &KeyRecord, now: u64) -> Result<Vec<String>> {
    match (key.status, key.delete_after) {
        (KeyStatus::PendingDeletion, Some(at)) if at <= now => {}
        (KeyStatus::PendingDeletion, Some(at)) => {
            return Err(Failure::input(format!(
                "key {} may not be destroyed before {}",
                key.id,
                format_time(at)
            )));
        }
        _ => {
            return Err(Failure::input(format!(
                "key {} is {}, not pending deletion",
                key.id,
                key.status.as_str()
            ))
            .hint(format!("schedule it first: `mpc delete {}`", key.id)));
        }
    }
    let mut destroyed = destroy_presignatures(home, db, &key.id)?;
    let share = home.share_path(&key.id);
    remove_durably(&share)
        .map_err(|e| Failure::internal(format!("cannot remove {}", share.display())).cause(e))?;
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
