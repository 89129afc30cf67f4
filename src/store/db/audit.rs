//! The hash-chained audit log, with signed checkpoints.
//!
//! Each row stores the hash of the previous row and its own hash over
//! (previous hash, seq, time, action, subject, detail). The newest (seq, hash) is also kept
//! in `audit_head`. A chain alone has no key: whoever can write the database can cut it
//! or rewrite it and recompute every hash. So whenever a command has the identity
//! unlocked (every ceremony step, `init`, `audit head`, backups), the head is signed with
//! the party's Ed25519 identity key and stored as a checkpoint. [`Db::audit_check`] then
//! finds, without a passphrase:
//! - an edited, deleted or re-linked row anywhere (the chain);
//! - rows cut or rewritten up to the latest checkpoint (its signature and hash);
//! - a log shorter than the home's own records imply (a key or session without its
//!   audit rows, a share file without its key);
//! - with an anchor `SEQ:HASH` written down elsewhere (`mpc audit head` prints one),
//!   a log that no longer extends it.
//!
//! Not detected: someone holding the passphrase can rewrite the log and sign new
//! checkpoints; only an anchor kept outside the home catches that. Rows after the latest
//! checkpoint are reported as not yet checkpointed. Details never contain secrets.

use super::Db;
use crate::clock::now;
use crate::store::StoreError;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit row.
#[derive(Clone, Debug, Serialize)]
pub struct AuditRow {
    /// Sequence number from 1.
    pub seq: i64,
    /// Unix seconds.
    pub at: i64,
    /// What was done (`init`, `keygen.complete`, ...).
    pub action: String,
    /// What it was done to (key id, session id, ...).
    pub subject: String,
    /// JSON details.
    pub detail: String,
    /// The previous row's hash.
    pub prev_hash: String,
    /// This row's hash.
    pub hash: String,
}

/// The first problem found in the chain.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AuditBreak {
    /// The row at which the chain breaks.
    pub seq: i64,
    /// What is wrong there.
    pub reason: String,
}

/// A signed audit head.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Checkpoint {
    /// The row it covers (every row up to it).
    pub seq: i64,
    /// That row's hash, hex.
    pub hash: String,
    /// Unix seconds.
    pub at: i64,
    /// Ed25519 signature by the party's identity key over [`checkpoint_message`], hex.
    pub signature: String,
}

/// The bytes a checkpoint signs.
pub fn checkpoint_message(seq: i64, hash: &str) -> Vec<u8> {
    let mut m = b"mpc-audit-checkpoint-v1\0".to_vec();
    m.extend(seq.to_be_bytes());
    m.extend(hash.as_bytes());
    m
}

/// What [`Db::audit_check`] found.
#[derive(Clone, Debug, Serialize)]
pub struct AuditReport {
    /// Rows in the log.
    pub entries: i64,
    /// The latest checkpoint whose signature verified.
    pub checkpoint: Option<Checkpoint>,
    /// Rows after it, not yet covered by a signature.
    pub unchecked: i64,
    /// The anchor given, if it checked out.
    pub anchor: Option<i64>,
    /// The first problem, if any (the log fails verification).
    pub problem: Option<AuditBreak>,
}

/// What the home holds besides the log, which the log must account for.
pub struct HomeRecords<'a> {
    /// The key ids of the share files in `shares/`.
    pub share_files: &'a [String],
}

fn row_hash(prev: &str, seq: i64, at: i64, action: &str, subject: &str, detail: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"mpc-audit-v1\0");
    h.update(prev.as_bytes());
    h.update(seq.to_be_bytes());
    h.update(at.to_be_bytes());
    for part in [action, subject, detail] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Appends an audit row inside the caller's transaction `c`.
pub(crate) fn append(
    c: &Connection,
    action: &str,
    subject: &str,
    detail: &serde_json::Value,
) -> Result<(), StoreError> {
    // Cached statements: a serve node appends a row per request.
    let head: Option<(i64, String)> = c
        .prepare_cached("SELECT seq, hash FROM audit_head WHERE id = 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (prev_seq, prev_hash) = head.unwrap_or((0, GENESIS.to_string()));
    let seq = prev_seq + 1;
    let at = now() as i64;
    let detail = detail.to_string();
    let hash = row_hash(&prev_hash, seq, at, action, subject, &detail);
    c.prepare_cached(
        "INSERT INTO audit (seq, at, action, subject, detail, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![seq, at, action, subject, detail, prev_hash, hash])?;
    c.prepare_cached(
        "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?1, ?2)
         ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
    )?
    .execute(params![seq, hash])?;
    Ok(())
}

impl Db {
    /// Appends an audit row.
    pub fn audit(
        &self,
        action: &str,
        subject: &str,
        detail: serde_json::Value,
    ) -> Result<(), StoreError> {
        self.audited(action, subject, detail, |_| Ok(()))
    }

    /// Appends several audit rows in one write transaction (a group commit: one sync
    /// for all of them).
    pub fn audit_batch(&self, rows: &[(&str, &str, &serde_json::Value)]) -> Result<(), StoreError> {
        let tx = self.write()?;
        for (action, subject, detail) in rows {
            append(&tx, action, subject, detail)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Runs `change` and appends its audit row in one write transaction: the change is
    /// never visible without its audit row, nor the row without the change.
    pub fn audited<T>(
        &self,
        action: &str,
        subject: &str,
        detail: serde_json::Value,
        change: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let tx = self.write()?;
        let out = change(&tx)?;
        append(&tx, action, subject, &detail)?;
        tx.commit()?;
        Ok(out)
    }

    /// Signs the current head with `sign` (the identity's Ed25519 key) and stores the
    /// checkpoint, unless that head already has one. `None` for an empty log.
    pub fn checkpoint(
        &self,
        sign: impl FnOnce(&[u8]) -> [u8; 64],
    ) -> Result<Option<Checkpoint>, StoreError> {
        let Some((seq, hash)) = self.audit_head()? else {
            return Ok(None);
        };
        if let Some(c) = self.checkpoint_where("WHERE seq = ?1", seq)? {
            return Ok(Some(c));
        }
        let cp = Checkpoint {
            signature: hex::encode(sign(&checkpoint_message(seq, &hash))),
            seq,
            hash,
            at: now() as i64,
        };
        self.conn().execute(
            "INSERT INTO audit_checkpoint (seq, hash, at, signature) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (seq) DO NOTHING",
            params![cp.seq, cp.hash, cp.at, cp.signature],
        )?;
        Ok(Some(cp))
    }

    fn audit_head(&self) -> Result<Option<(i64, String)>, StoreError> {
        Ok(self
            .conn()
            .query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?)
    }

    /// The newest stored checkpoint.
    pub fn latest_checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        self.checkpoint_where("WHERE seq >= ?1 ORDER BY seq DESC LIMIT 1", 0)
    }

    fn checkpoint_where(&self, clause: &str, seq: i64) -> Result<Option<Checkpoint>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT seq, hash, at, signature FROM audit_checkpoint {clause}"),
                [seq],
                |r| {
                    Ok(Checkpoint {
                        seq: r.get(0)?,
                        hash: r.get(1)?,
                        at: r.get(2)?,
                        signature: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    /// Verifies the log: the chain, the latest checkpoint under `key` (the party's
    /// identity key, from its card), what the home's records imply, and `anchor`.
    pub fn audit_check(
        &self,
        key: &ed25519_dalek::VerifyingKey,
        home: &HomeRecords<'_>,
        anchor: Option<(i64, &str)>,
    ) -> Result<AuditReport, StoreError> {
        let rows = self.audit_rows()?;
        let mut report = AuditReport {
            entries: rows.len() as i64,
            checkpoint: None,
            unchecked: rows.len() as i64,
            anchor: None,
            problem: None,
        };
        let fail = |mut report: AuditReport, seq: i64, reason: String| {
            report.problem = Some(AuditBreak { seq, reason });
            Ok(report)
        };
        if let Err(brk) = self.audit_verify()? {
            report.problem = Some(brk);
            return Ok(report);
        }
        let hash_at = |seq: i64| {
            usize::try_from(seq - 1)
                .ok()
                .and_then(|i| rows.get(i))
                .map(|r| r.hash.as_str())
        };
        // The latest checkpoint must carry a valid signature and match the chain.
        let Some(cp) = self.latest_checkpoint()? else {
            let last = report.entries;
            return fail(
                report,
                last,
                "no signed checkpoint: the log cannot be told from a rewritten one (a home from before checkpoints gets one with `mpc audit head`)".into(),
            );
        };
        let signature = hex::decode(&cp.signature)
            .ok()
            .and_then(|b| <[u8; 64]>::try_from(b).ok())
            .map(|b| ed25519_dalek::Signature::from_bytes(&b));
        let signed = signature.is_some_and(|sig| {
            key.verify_strict(&checkpoint_message(cp.seq, &cp.hash), &sig)
                .is_ok()
        });
        if !signed {
            return fail(
                report,
                cp.seq,
                "the latest checkpoint's signature is not this party's".into(),
            );
        }
        match hash_at(cp.seq) {
            None => {
                return fail(
                    report,
                    cp.seq,
                    format!(
                        "the log ends at entry {}, but entry {} was signed as its head: rows were cut",
                        rows.len(),
                        cp.seq
                    ),
                );
            }
            Some(h) if h != cp.hash => {
                return fail(
                    report,
                    cp.seq,
                    "the signed head does not match the log: rows were rewritten".into(),
                );
            }
            Some(_) => {}
        }
        report.unchecked = report.entries - cp.seq;
        report.checkpoint = Some(cp);
        // The home's own records must appear in the log.
        let subjects: std::collections::HashSet<(&str, &str)> = rows
            .iter()
            .map(|r| (r.action.as_str(), r.subject.as_str()))
            .collect();
        let has = |actions: &[&str], subject: &str| {
            actions.iter().any(|a| subjects.contains(&(*a, subject)))
        };
        let sessions: Vec<(String, String)> = {
            let conn = self.read();
            let mut st = conn.prepare("SELECT id, kind FROM sessions ORDER BY id")?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?
        };
        for (id, kind) in &sessions {
            if !has(&[&format!("{kind}.confirm")], id) {
                let last = report.entries;
                return fail(
                    report,
                    last,
                    format!(
                        "session {} has no audit entry: rows were removed",
                        &id[..16.min(id.len())]
                    ),
                );
            }
        }
        let keys = self.keys()?;
        for k in &keys {
            if !has(
                &["keygen.complete", "repair.complete", "key.restore"],
                &k.id,
            ) {
                let last = report.entries;
                return fail(
                    report,
                    last,
                    format!(
                        "key {} has no audit entry for its creation: rows were removed",
                        k.id
                    ),
                );
            }
        }
        for id in home.share_files {
            if !keys.iter().any(|k| &k.id == id) {
                let last = report.entries;
                return fail(
                    report,
                    last,
                    format!("the share file of key {id} has no key record: records were removed"),
                );
            }
        }
        if let Some((seq, hash)) = anchor {
            if hash_at(seq) != Some(hash) {
                return fail(
                    report,
                    seq,
                    format!("the log does not extend the anchor {seq}:{hash}"),
                );
            }
            report.anchor = Some(seq);
        }
        Ok(report)
    }

    /// All audit rows in order.
    pub fn audit_rows(&self) -> Result<Vec<AuditRow>, StoreError> {
        let conn = self.read();
        let mut st = conn.prepare(
            "SELECT seq, at, action, subject, detail, prev_hash, hash FROM audit ORDER BY seq",
        )?;
        let rows = st.query_map([], |r| {
            Ok(AuditRow {
                seq: r.get(0)?,
                at: r.get(1)?,
                action: r.get(2)?,
                subject: r.get(3)?,
                detail: r.get(4)?,
                prev_hash: r.get(5)?,
                hash: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Checks the whole chain; returns the number of rows, or the first break.
    pub fn audit_verify(&self) -> Result<Result<i64, AuditBreak>, StoreError> {
        let rows = self.audit_rows()?;
        let head: Option<(i64, String)> = self
            .read()
            .query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let mut prev = GENESIS.to_string();
        for (i, row) in rows.iter().enumerate() {
            let expected_seq = i as i64 + 1;
            let brk = |reason: &str| AuditBreak {
                seq: expected_seq,
                reason: reason.to_string(),
            };
            if row.seq != expected_seq {
                return Ok(Err(brk("row is missing (deleted)")));
            }
            if row.prev_hash != prev {
                return Ok(Err(brk("does not link to the previous row")));
            }
            if row_hash(
                &row.prev_hash,
                row.seq,
                row.at,
                &row.action,
                &row.subject,
                &row.detail,
            ) != row.hash
            {
                return Ok(Err(brk("contents were edited (hash mismatch)")));
            }
            prev = row.hash.clone();
        }
        let last = rows.len() as i64;
        match head {
            None if last == 0 => Ok(Ok(0)),
            Some((seq, hash)) if seq == last && hash == prev => Ok(Ok(last)),
            Some((seq, _)) if seq > last => Ok(Err(AuditBreak {
                seq: last + 1,
                reason: format!("rows {} to {seq} are missing (deleted)", last + 1),
            })),
            _ => Ok(Err(AuditBreak {
                seq: last,
                reason: "the chain head does not match the last row".into(),
            })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db")).unwrap();
        (dir, db)
    }

    #[test]
    fn detects_edit_delete_and_truncation() {
        let (_d, db) = db();
        for i in 0..4 {
            db.audit("test", &format!("s{i}"), serde_json::json!({"i": i}))
                .unwrap();
        }
        assert_eq!(db.audit_verify().unwrap(), Ok(4));

        db.conn()
            .execute("UPDATE audit SET subject = 'x' WHERE seq = 2", [])
            .unwrap();
        assert_eq!(db.audit_verify().unwrap().unwrap_err().seq, 2);
        db.conn()
            .execute("UPDATE audit SET subject = 's1' WHERE seq = 2", [])
            .unwrap();
        assert_eq!(db.audit_verify().unwrap(), Ok(4));

        db.conn()
            .execute("DELETE FROM audit WHERE seq = 4", [])
            .unwrap();
        assert_eq!(db.audit_verify().unwrap().unwrap_err().seq, 4);

        db.conn()
            .execute("DELETE FROM audit WHERE seq = 2", [])
            .unwrap();
        assert_eq!(db.audit_verify().unwrap().unwrap_err().seq, 2);
    }
}
