//! The hash-chained audit log.
//!
//! Each row stores the hash of the previous row and its own hash over
//! (previous hash, seq, time, action, subject, detail). The newest (seq, hash) is also kept
//! in `audit_head`, so deleting the last rows is detected as well as editing or deleting
//! any row in the middle. Details never contain secrets.

use super::StoreError;
use super::db::Db;
use crate::plan::now;
use rusqlite::{OptionalExtension, params};
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

impl Db {
    /// Appends an audit row.
    pub fn audit(
        &mut self,
        action: &str,
        subject: &str,
        detail: serde_json::Value,
    ) -> Result<(), StoreError> {
        let tx = self.conn_mut().transaction()?;
        let head: Option<(i64, String)> = tx
            .query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let (prev_seq, prev_hash) = head.unwrap_or((0, GENESIS.to_string()));
        let seq = prev_seq + 1;
        let at = now() as i64;
        let detail = detail.to_string();
        let hash = row_hash(&prev_hash, seq, at, action, subject, &detail);
        tx.execute(
            "INSERT INTO audit (seq, at, action, subject, detail, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![seq, at, action, subject, detail, prev_hash, hash],
        )?;
        tx.execute(
            "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
            params![seq, hash],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// All audit rows in order.
    pub fn audit_rows(&self) -> Result<Vec<AuditRow>, StoreError> {
        let mut st = self.conn().prepare(
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
            .conn()
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
        let (_d, mut db) = db();
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
