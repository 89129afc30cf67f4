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
    /// ECDSA: only HD children under this prefix sign (`m/0` allows `m/0/5`, not the
    /// root key, `m/0` itself or `m/1`); `None` allows any path and none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
    /// At most this many signatures per hour for the key on this node (a batch counts
    /// each of its messages).
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
/// operator must approve), `Err` saying why not. The rate (`max_per_hour`) is
/// [`Hourly`]'s to count.
pub fn check(
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
    if let Some(prefix) = &p.path_prefix {
        let prefix = prefix.trim_end_matches('/');
        // Only children under the prefix: neither the root key (no path) nor the
        // prefix's own key.
        let under = path.is_some_and(|path| {
            path.strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('/') && rest.len() > 1)
        });
        if !under {
            return Err(format!(
                "the policy of key {key_id} on this node allows only HD paths under {prefix}/ ({})",
                path.map_or("this request gives no path".into(), |p| format!("not {p}"))
            ));
        }
    }
    Ok(p.mode)
}

/// Signatures each key's policy allowed in the last hour on this node, for
/// `max_per_hour`: counted per signature (a batch of 64 is 64), at the moment each is
/// allowed, so that requests at once cannot overtake each other between the count and
/// the audit rows. Kept in memory, seeded from the audit chain's `serve.sign` rows the
/// first time a key is counted after the node starts.
#[derive(Default)]
pub struct Hourly {
    allowed: std::sync::Mutex<std::collections::HashMap<String, std::collections::VecDeque<u64>>>,
}

impl Hourly {
    /// Counts `n` signatures of `key_id` under `p`'s `max_per_hour`, or says why not
    /// (then nothing is counted). With `dry_run`, only says whether they would fit.
    pub fn take(
        &self,
        db: &Db,
        p: &Policy,
        key_id: &str,
        n: usize,
        dry_run: bool,
    ) -> Result<(), String> {
        let Some(max) = p.max_per_hour else {
            return Ok(());
        };
        let at = now();
        let since = at.saturating_sub(3600);
        let mut all = super::lock(&self.allowed);
        if !all.contains_key(key_id) {
            let seen = seed(db, key_id, since)?;
            all.insert(key_id.to_string(), seen);
        }
        let times = all.get_mut(key_id).expect("inserted above");
        while times.front().is_some_and(|&t| t < since) {
            times.pop_front();
        }
        let used = times.len();
        if used + n > max as usize {
            return Err(format!(
                "key {key_id} has signed {used} times in the last hour on this node; its policy's limit is {max} an hour and this request asks for {n} more"
            ));
        }
        if !dry_run {
            times.extend(std::iter::repeat_n(at, n));
        }
        Ok(())
    }
}

/// When the signatures of `key_id` since `since` were allowed, from the audit chain.
fn seed(db: &Db, key_id: &str, since: u64) -> Result<std::collections::VecDeque<u64>, String> {
    let conn = db.read();
    let mut st = conn
        .prepare_cached(
            "SELECT at FROM audit WHERE action = ?1 AND subject = ?2 AND at >= ?3 ORDER BY at",
        )
        .map_err(|e| format!("the policy's rate cannot be checked: {e}"))?;
    let rows = st
        .query_map(params![SIGN_ACTION, key_id, since as i64], |r| {
            r.get::<_, i64>(0)
        })
        .map_err(|e| format!("the policy's rate cannot be checked: {e}"))?;
    rows.map(|r| r.map(|t| t.max(0) as u64))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("the policy's rate cannot be checked: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_prefix_allows_only_children_under_it() {
        let p = Policy {
            path_prefix: Some("m/0".into()),
            ..Policy::default()
        };
        let check = |path: Option<&str>| check(&p, "k", Some(HashMode::Sha256), path);
        assert_eq!(check(Some("m/0/1")), Ok(Mode::Auto));
        assert_eq!(check(Some("m/0/1/2")), Ok(Mode::Auto));
        // The root key, the prefix's own key, a sibling and a look-alike: refused.
        for refused in [
            None,
            Some("m/0"),
            Some("m/0/"),
            Some("m/1/2"),
            Some("m/00/1"),
        ] {
            let e = check(refused).unwrap_err();
            assert!(e.contains("under m/0/"), "{refused:?}: {e}");
        }
        // A prefix written with a trailing slash means the same.
        let p = Policy {
            path_prefix: Some("m/0/".into()),
            ..Policy::default()
        };
        assert_eq!(check_with(&p, Some("m/0/3")), Ok(Mode::Auto));
        assert!(check_with(&p, None).is_err());
        // No prefix: any path and none.
        assert_eq!(check_with(&Policy::default(), None), Ok(Mode::Auto));
    }

    fn check_with(p: &Policy, path: Option<&str>) -> Result<Mode, String> {
        check(p, "k", Some(HashMode::Sha256), path)
    }
}
