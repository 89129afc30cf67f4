//! A node's own signing policy per key (DESIGN.md "Policy belongs to the share
//! holder"): whether this node joins a signing session for the key, and within which
//! limits. It is checked on the node that holds the share, before it contributes
//! anything, whoever coordinates; the decision is audited.

use crate::clock::now;
use crate::plan::HashMode;
use crate::store::StoreError;
use crate::store::db::Db;
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

/// Whether this node joins signing sessions for a key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Join any valid session a cluster member proposes, within the limits.
    #[default]
    Auto,
    /// Within the limits, wait for an operator of this node to approve each session
    /// (`POST /sessions/{id}/join`), up to the node's approval timeout.
    Approval,
    /// Join none.
    Never,
}

/// A key's policy on this node.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Join or not.
    #[serde(default)]
    pub mode: Mode,
    /// ECDSA: the hash modes allowed; `None` for all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_modes: Option<Vec<HashMode>>,
    /// ECDSA: HD paths must start with this prefix (`m/0`); `None` allows any path and
    /// none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
    /// At most this many signing sessions joined per hour for the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_per_hour: Option<u32>,
}

/// The audit action of a signing session this node took part in; counted for
/// `max_per_hour`.
pub const SIGN_ACTION: &str = "serve.sign";

/// The policy of `key_id` on this node (the default, `auto` without limits, when none
/// was set).
pub fn get(db: &Db, key_id: &str) -> Result<Policy, StoreError> {
    let conn = db.read();
    let row = conn
        .prepare_cached(
            "SELECT mode, hash_modes, path_prefix, max_per_hour FROM key_policies WHERE key_id = ?1",
        )?
        .query_row(
            [key_id],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                ))
            },
        )
        .optional()?;
    let Some((mode, hashes, prefix, max)) = row else {
        return Ok(Policy::default());
    };
    let damaged = |why: String| StoreError::Damaged {
        path: format!("mpc.db, the policy of key {key_id}").into(),
        reason: why,
    };
    Ok(Policy {
        mode: serde_json::from_value(serde_json::Value::String(mode))
            .map_err(|e| damaged(e.to_string()))?,
        hash_modes: hashes
            .map(|h| serde_json::from_str(&h))
            .transpose()
            .map_err(|e| damaged(e.to_string()))?,
        path_prefix: prefix,
        max_per_hour: max.map(|m| m.clamp(0, u32::MAX as i64) as u32),
    })
}

/// Sets the policy of `key_id` (audited).
pub fn set(db: &Db, key_id: &str, p: &Policy) -> Result<(), StoreError> {
    let mode = match p.mode {
        Mode::Auto => "auto",
        Mode::Approval => "approval",
        Mode::Never => "never",
    };
    let hashes = p
        .hash_modes
        .as_ref()
        .map(|h| serde_json::json!(h).to_string());
    db.audited(
        "serve.policy",
        key_id,
        serde_json::to_value(p).unwrap_or_default(),
        |c| {
            c.execute(
                "INSERT INTO key_policies (key_id, mode, hash_modes, path_prefix, max_per_hour, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (key_id) DO UPDATE SET mode = excluded.mode,
                   hash_modes = excluded.hash_modes, path_prefix = excluded.path_prefix,
                   max_per_hour = excluded.max_per_hour, updated_at = excluded.updated_at",
                params![key_id, mode, hashes, p.path_prefix, p.max_per_hour, now() as i64],
            )?;
            Ok(())
        },
    )
}

/// Whether this node may contribute to signing with `key_id`, hashing with `hash`, at
/// HD path `path`, under `p`: `Ok` with the mode (`Auto`, or `Approval` when an
/// operator must approve), `Err` saying why not.
pub fn check(
    db: &Db,
    p: &Policy,
    key_id: &str,
    hash: Option<HashMode>,
    path: Option<&str>,
) -> Result<Mode, String> {
    if p.mode == Mode::Never {
        return Err(format!(
            "the policy of key {} on this node is `never`",
            key_id
        ));
    }
    if let (Some(allowed), Some(mode)) = (&p.hash_modes, hash)
        && !allowed.contains(&mode)
    {
        return Err(format!(
            "the policy of key {} on this node does not allow the hash mode {}",
            key_id,
            serde_json::json!(mode).as_str().unwrap_or("?")
        ));
    }
    if let (Some(prefix), Some(path)) = (&p.path_prefix, path) {
        let under =
            path == prefix || path.starts_with(&format!("{}/", prefix.trim_end_matches('/')));
        if !under {
            return Err(format!(
                "the policy of key {} on this node allows only paths under {prefix}",
                key_id
            ));
        }
    }
    if let Some(max) = p.max_per_hour {
        let since = now().saturating_sub(3600) as i64;
        let used: i64 = db
            .read()
            .query_row(
                "SELECT COUNT(*) FROM audit WHERE action = ?1 AND subject = ?2 AND at >= ?3",
                params![SIGN_ACTION, key_id, since],
                |r| r.get(0),
            )
            .map_err(|e| format!("the policy's rate cannot be checked: {e}"))?;
        if used >= i64::from(max) {
            return Err(format!(
                "key {} has signed {used} times in the last hour on this node, its policy's limit",
                key_id
            ));
        }
    }
    Ok(p.mode)
}
