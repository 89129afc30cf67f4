//! What this party sent in each session, and the single-use ledger: nonces and
//! presignatures are consumed here, atomically, before anything that uses them leaves.

use super::{Db, StoreError};
use crate::clock::now;
use rusqlite::{Connection, OptionalExtension, params};

/// A single-use item of a session, in the ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SingleUse {
    /// A FROST signing session's nonces.
    Nonce,
    /// The presignature a presigning session made.
    Presignature,
    /// An ECDSA signing session's partial signature (issued once).
    PartialSignature,
}

impl SingleUse {
    /// The name stored in SQLite.
    pub fn as_str(self) -> &'static str {
        match self {
            SingleUse::Nonce => "nonce",
            SingleUse::Presignature => "presignature",
            SingleUse::PartialSignature => "partial-signature",
        }
    }
}

/// The state of a single-use item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// Exists and may be used (once).
    Armed,
    /// Used, or destroyed; never armed again.
    Consumed,
}

impl Mark {
    /// The name stored in SQLite.
    pub fn as_str(self) -> &'static str {
        match self {
            Mark::Armed => "armed",
            Mark::Consumed => "consumed",
        }
    }
}

/// What [`Db::claim`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// The item was armed and is now consumed for this binding.
    Won,
    /// Already consumed for this same binding (a retry of the same use).
    Again,
    /// Already consumed for something else (or destroyed).
    Spent,
    /// No such item in the ledger.
    Unknown,
}

impl Db {
    /// Brings the record of what this party sent in `session` up to `sent`, every
    /// envelope its journal holds, in order, and sets a ledger item, in one transaction.
    /// The journal is committed first, so after a crash the record may lack its newest
    /// envelopes, and they are added here; a record holding more than the journal, or
    /// something else, means the journal went back in time, and nothing is written.
    pub fn record_sent(
        &self,
        session: &str,
        sent: &[Vec<u8>],
        ledger: Option<(SingleUse, Mark)>,
    ) -> Result<(), StoreError> {
        // Most calls (every poll of a waiting process) find the record in step: a read,
        // no write transaction.
        let ledger_done = match ledger {
            None => true,
            Some((item, mark)) => matches!(
                self.ledger(session, item)?,
                Some(m) if m == mark || m == Mark::Consumed
            ),
        };
        if ledger_done && self.sent(session)? == sent {
            return Ok(());
        }
        let tx = self.write()?;
        let have: Vec<Vec<u8>> = {
            let mut st =
                tx.prepare("SELECT envelope FROM outgoing WHERE session_id = ?1 ORDER BY seq")?;
            st.query_map([session], |r| r.get(0))?
                .collect::<Result<_, _>>()?
        };
        if have.len() > sent.len() || have.iter().zip(sent).any(|(a, b)| a != b) {
            return Err(StoreError::RolledBack(format!(
                "session {}: this party already sent {} message(s), but its journal holds {} (restored from an older copy, or deleted)",
                &session[..16.min(session.len())],
                have.len(),
                sent.len()
            )));
        }
        for (i, env) in sent.iter().enumerate().skip(have.len()) {
            tx.execute(
                "INSERT INTO outgoing (session_id, seq, envelope) VALUES (?1, ?2, ?3)",
                params![session, i as i64 + 1, env],
            )?;
        }
        if let Some((item, mark)) = ledger {
            set_ledger(&tx, session, item, mark)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Every envelope we sent in a session.
    pub fn sent(&self, session: &str) -> Result<Vec<Vec<u8>>, StoreError> {
        let conn = self.read();
        let mut st =
            conn.prepare("SELECT envelope FROM outgoing WHERE session_id = ?1 ORDER BY seq")?;
        let rows = st.query_map([session], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Sets a single-use item's ledger status in its own transaction (a consumed item
    /// stays consumed).
    pub fn set_ledger(&self, session: &str, item: SingleUse, mark: Mark) -> Result<(), StoreError> {
        set_ledger(&self.conn(), session, item, mark)
    }

    /// Consumes the single-use `item` of `session` for `binding` (the hash of the one
    /// output it may ever produce), atomically: of any number of processes racing for an
    /// armed item, exactly one is told [`Claim::Won`]. Later, a caller with the winner's
    /// binding is told [`Claim::Again`] (a retry after a crash, which reproduces the same
    /// output and so reveals nothing new); any other is told [`Claim::Spent`]. With
    /// `arm`, an item without a ledger row is armed first (its secret is in the caller's
    /// committed journal, which proves it exists).
    pub fn claim(
        &self,
        session: &str,
        item: SingleUse,
        binding: &str,
        arm: bool,
    ) -> Result<Claim, StoreError> {
        let name = item.as_str();
        let tx = self.write()?;
        let t = now() as i64;
        if arm {
            tx.execute(
                "INSERT INTO ledger (session_id, item, status, updated_at) VALUES (?1, ?2, 'armed', ?3)
                 ON CONFLICT (session_id, item) DO NOTHING",
                params![session, name, t],
            )?;
        }
        let won = tx.execute(
            "UPDATE ledger SET status = 'consumed', binding = ?3, updated_at = ?4
             WHERE session_id = ?1 AND item = ?2 AND status = 'armed'",
            params![session, name, binding, t],
        )? == 1;
        let claim = if won {
            Claim::Won
        } else {
            let row: Option<Option<String>> = tx
                .query_row(
                    "SELECT binding FROM ledger WHERE session_id = ?1 AND item = ?2",
                    params![session, name],
                    |r| r.get(0),
                )
                .optional()?;
            match row {
                None => Claim::Unknown,
                Some(Some(b)) if b == binding => Claim::Again,
                Some(_) => Claim::Spent,
            }
        };
        tx.commit()?;
        // A presignature is claimed cluster-wide as well, after the local claim, so a
        // shared ledger that cannot be reached leaves it consumed here (a retry with the
        // same binding passes the local claim and asks again), never usable twice.
        if let (Claim::Won | Claim::Again, Some(cluster), SingleUse::Presignature) =
            (&claim, self.cluster_ledger(), item)
        {
            let key = format!("{name}.{session}");
            return match cluster.claim(&key, binding) {
                Ok(Claim::Spent) => Ok(Claim::Spent),
                Ok(_) => Ok(claim),
                Err(why) => Err(StoreError::ClusterLedger(why)),
            };
        }
        Ok(claim)
    }

    /// The ledger status of a single-use item, if recorded.
    pub fn ledger(&self, session: &str, item: SingleUse) -> Result<Option<Mark>, StoreError> {
        let status: Option<String> = self
            .read()
            .query_row(
                "SELECT status FROM ledger WHERE session_id = ?1 AND item = ?2",
                params![session, item.as_str()],
                |r| r.get(0),
            )
            .optional()?;
        match status.as_deref() {
            None => Ok(None),
            Some("armed") => Ok(Some(Mark::Armed)),
            Some("consumed") => Ok(Some(Mark::Consumed)),
            Some(other) => Err(StoreError::Db(rusqlite::Error::InvalidColumnType(
                0,
                format!("ledger status `{other}`"),
                rusqlite::types::Type::Text,
            ))),
        }
    }
}

/// Sets a ledger item's status through `c`; a consumed item is never armed again.
pub(crate) fn set_ledger(
    c: &Connection,
    session: &str,
    item: SingleUse,
    mark: Mark,
) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO ledger (session_id, item, status, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (session_id, item) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at
         WHERE ledger.status <> 'consumed'",
        params![session, item.as_str(), mark.as_str(), now() as i64],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::db_with_session;
    use super::*;

    #[test]
    fn racing_claims_of_one_item_have_exactly_one_winner() {
        // Eight connections (processes), and eight clones of one handle (a serve node).
        let (_dir, dbs) = db_with_session(7);
        race_for_one_item(&dbs);
        let (_dir, dbs) = db_with_session(0);
        race_for_one_item(&vec![dbs[0].clone(); 8]);
    }

    fn race_for_one_item(dbs: &[Db]) {
        dbs[0]
            .set_ledger("s", SingleUse::Presignature, Mark::Armed)
            .unwrap();
        let results: Vec<Claim> = std::thread::scope(|scope| {
            let handles: Vec<_> = dbs
                .iter()
                .enumerate()
                .map(|(i, db)| {
                    scope.spawn(move || {
                        db.claim("s", SingleUse::Presignature, &format!("use {i}"), false)
                            .unwrap()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(results.iter().filter(|c| **c == Claim::Won).count(), 1);
        assert_eq!(results.iter().filter(|c| **c == Claim::Spent).count(), 7);
        // The winner's retry is told so; a consumed item is never armed again.
        let winner = results.iter().position(|c| *c == Claim::Won).unwrap();
        let binding = format!("use {winner}");
        assert_eq!(
            dbs[0]
                .claim("s", SingleUse::Presignature, &binding, false)
                .unwrap(),
            Claim::Again
        );
        dbs[0]
            .set_ledger("s", SingleUse::Presignature, Mark::Armed)
            .unwrap();
        assert_eq!(
            dbs[0].ledger("s", SingleUse::Presignature).unwrap(),
            Some(Mark::Consumed)
        );
        assert_eq!(
            dbs[0]
                .claim("s", SingleUse::PartialSignature, "x", false)
                .unwrap(),
            Claim::Unknown
        );
        assert_eq!(
            dbs[0].claim("s", SingleUse::Nonce, "x", true).unwrap(),
            Claim::Won
        );
    }

    #[test]
    fn the_sent_record_follows_the_journal_and_refuses_a_rolled_back_one() {
        let (_dir, mut dbs) = db_with_session(0);
        let db = &mut dbs[0];
        let journal = vec![b"one".to_vec(), b"two".to_vec()];
        db.record_sent("s", &journal[..1], None).unwrap();
        // A crash came between the journal and the record: the next step catches up.
        db.record_sent("s", &journal, None).unwrap();
        assert_eq!(db.sent("s").unwrap(), journal);
        db.record_sent("s", &journal, None).unwrap();
        assert_eq!(db.sent("s").unwrap(), journal);
        let rolled_back = db.record_sent("s", &journal[..1], None).unwrap_err();
        assert!(
            matches!(rolled_back, StoreError::RolledBack(_)),
            "{rolled_back}"
        );
        let other = db
            .record_sent(
                "s",
                &[b"one".to_vec(), b"else".to_vec(), b"x".to_vec()],
                None,
            )
            .unwrap_err();
        assert!(matches!(other, StoreError::RolledBack(_)));
    }
}
