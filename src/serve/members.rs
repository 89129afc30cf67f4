//! Changing a node's members while it runs (`POST /nodes`, `DELETE /nodes/{id}`).
//!
//! Each node has its own view of the cluster: the cluster file it started with, then
//! the changes its operators made, kept in its home (table `cluster_changes`) and
//! applied again at each start, so a restart keeps them. A member is added by its card,
//! confirmed by the card's fingerprint as its owner reads it out (the words `mpc id`
//! prints, or their hex). A removed member's messages are dropped from then on; keys it
//! holds a share of stay usable by the others while `t` remain (a node signs only with
//! members), and new keys leave it out (they are made among the members).

use super::Error;
use super::cluster::Cluster;
use crate::identity::{Card, words};
use crate::store::StoreError;
use crate::store::db::Db;
use rusqlite::params;

/// Applies the changes saved in `db` to `cluster`, oldest first.
pub fn apply_saved(db: &Db, cluster: &Cluster) -> Result<(), StoreError> {
    let conn = db.read();
    let mut stmt = conn.prepare("SELECT action, card FROM cluster_changes ORDER BY seq")?;
    let rows: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (action, card) in rows {
        let card = Card::from_json(card.as_bytes()).map_err(|e| StoreError::Damaged {
            path: "mpc.db, a cluster change".into(),
            reason: e.to_string(),
        })?;
        match action.as_str() {
            "add" => {
                // Already in the cluster file since: nothing to do.
                let _ = cluster.add_member(card);
            }
            _ => {
                cluster.remove_member(&card.name);
            }
        }
    }
    Ok(())
}

/// Whether `given` is `card`'s fingerprint: its words as `mpc id` prints them (case
/// and spacing aside), or the whole fingerprint in hex.
fn fingerprint_matches(card: &Card, given: &str) -> bool {
    let fp = card.fingerprint();
    let norm = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    norm(given) == norm(&words(&fp)) || given.trim().eq_ignore_ascii_case(&hex::encode(fp))
}

fn save(db: &Db, action: &str, card: &Card) -> Result<(), StoreError> {
    let json = serde_json::to_string(card).map_err(|e| StoreError::Damaged {
        path: "a card".into(),
        reason: e.to_string(),
    })?;
    let detail =
        serde_json::json!({ "name": card.name, "fingerprint": words(&card.fingerprint()) });
    db.audited(&format!("serve.member.{action}"), &card.name, detail, |c| {
        c.execute(
            "INSERT INTO cluster_changes (action, card, at) VALUES (?1, ?2, ?3)",
            params![action, json, crate::clock::now() as i64],
        )?;
        Ok(())
    })
}

/// Adds the member with `card`, confirmed by `fingerprint`; saved and audited.
pub fn add(db: &Db, cluster: &Cluster, card: &[u8], fingerprint: &str) -> Result<Card, Error> {
    let card = Card::from_json(card).map_err(|e| Error::BadRequest(format!("`card`: {e}")))?;
    if !fingerprint_matches(&card, fingerprint) {
        return Err(Error::FingerprintMismatch(format!(
            "the card of {} does not have the fingerprint given; ask its owner to read theirs out again (`mpc id`)",
            card.name
        )));
    }
    cluster
        .add_member(card.clone())
        .map_err(Error::AlreadyMember)?;
    if let Err(e) = save(db, "add", &card) {
        cluster.remove_member(&card.name);
        return Err(e.into());
    }
    super::log(&format!("member {} added", card.name));
    Ok(card)
}

/// Removes the member named `name` (never this node); saved and audited.
pub fn remove(db: &Db, cluster: &Cluster, name: &str) -> Result<Card, Error> {
    if cluster.me.name == name {
        return Err(Error::CannotRemoveSelf);
    }
    let card = cluster
        .remove_member(name)
        .ok_or_else(|| Error::NodeNotFound(format!("no member {name} in this cluster")))?;
    if let Err(e) = save(db, "remove", &card) {
        let _ = cluster.add_member(card);
        return Err(e.into());
    }
    super::log(&format!("member {name} removed"));
    Ok(card)
}
