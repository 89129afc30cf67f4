//! SQLite metadata: keys, sessions, accepted messages, sent messages, the single-use
//! ledger, contacts and the audit chain. Nothing secret is ever stored here: envelopes
//! are public (private payloads inside them stay encrypted to their recipient).
//!
//! WAL mode, foreign keys on, `synchronous = FULL`; the schema is versioned with
//! `PRAGMA user_version` and migrated forward on open (`db/migrations/NN.sql`). The
//! records and statuses it hands out are in `records`, the single-use ledger in
//! `ledger`, the audit chain in `audit`.

pub mod audit;
mod ledger;

mod records;

pub use ledger::{Claim, Mark, SingleUse};
pub use records::{Accept, IncomingMessage, KeyRecord, KeyStatus, SessionRecord, SessionStatus};

use super::StoreError;
use crate::clock::now;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Schema migrations (`migrations/NN.sql`); entry `i` takes the schema from version `i`
/// to `i + 1`. A released migration never changes: a new schema is a new file.
const MIGRATIONS: &[&str] = &[
    include_str!("db/migrations/01.sql"),
    include_str!("db/migrations/02.sql"),
    include_str!("db/migrations/03.sql"),
    include_str!("db/migrations/04.sql"),
    include_str!("db/migrations/05.sql"),
    include_str!("db/migrations/06.sql"),
    include_str!("db/migrations/07.sql"),
];

/// An open database: one writing connection, shared by every clone of this handle and
/// used by one caller at a time, and (for a file) one read-only connection for reads
/// that stand alone ([`Db::read`]), which WAL lets go on while the writer commits. The
/// CLI opens one per process; a serve node opens one and hands clones to its sessions
/// and its audit writer, so every write of the node goes through that one connection in
/// turn (SQLite's one writer, with no waiting on its file lock and no "database is
/// locked" between the node's own threads).
#[derive(Clone)]
pub struct Db {
    shared: Arc<Shared>,
}

struct Shared {
    /// Every write, and the reads of a write.
    writer: Locked,
    /// Reads that stand alone, on a file's database: WAL lets them go on while the
    /// writer commits (an fsync), so a node's lookups never wait behind its audit.
    reader: Option<Locked>,
    /// A serve cluster's shared single-use ledger, consulted after this one.
    cluster: std::sync::OnceLock<Arc<dyn ClusterLedger>>,
}

/// A single-use ledger shared by a cluster's nodes (NATS JetStream KV on a NATS bus):
/// a presignature claimed here binds it to one use across the whole cluster, so a node
/// whose own ledger went back (a home restored from a copy) still cannot use it twice.
pub trait ClusterLedger: Send + Sync {
    /// Claims `key` for `binding`, create-only: [`Claim::Won`] for the first claim,
    /// [`Claim::Again`] for a later one with the same binding, [`Claim::Spent`] for any
    /// other. `Err` when the shared ledger cannot be reached (nothing is decided).
    fn claim(&self, key: &str, binding: &str) -> Result<Claim, String>;
}

struct Locked {
    conn: Mutex<Connection>,
    /// The thread holding `conn` (see [`thread_tag`]), 0 when free: a second lock from
    /// the same thread would wait forever, so it panics instead.
    holder: AtomicU64,
}

impl Locked {
    fn new(conn: Connection) -> Locked {
        Locked {
            conn: Mutex::new(conn),
            holder: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> Conn<'_> {
        let me = thread_tag();
        assert_ne!(
            self.holder.load(Ordering::Acquire),
            me,
            "a database connection is locked twice by one thread"
        );
        let guard = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        self.holder.store(me, Ordering::Release);
        Conn {
            guard,
            holder: &self.holder,
        }
    }
}

/// A number for this thread, never 0 and never reused in the process.
fn thread_tag() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local! {
        static TAG: u64 = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    TAG.with(|t| *t)
}

/// The connection, held by one caller until dropped (every other user of the handle,
/// in this thread or another, waits for it meanwhile).
pub struct Conn<'a> {
    guard: MutexGuard<'a, Connection>,
    holder: &'a AtomicU64,
}

impl std::ops::Deref for Conn<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.guard
    }
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        self.holder.store(0, Ordering::Release);
    }
}

/// A write transaction (`BEGIN IMMEDIATE`), rolled back unless committed; it holds the
/// connection until it ends. (Not rusqlite's `Transaction`: that one borrows the
/// connection, which here lives inside the lock's guard, and a type holding the guard
/// and a borrow of it would borrow from itself; these few lines do what it does.)
pub(crate) struct Tx<'a> {
    conn: Conn<'a>,
    open: bool,
}

impl Tx<'_> {
    /// Commits the transaction.
    pub(crate) fn commit(mut self) -> Result<(), rusqlite::Error> {
        self.conn.execute_batch("COMMIT")?;
        self.open = false;
        Ok(())
    }
}

impl std::ops::Deref for Tx<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.conn
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if self.open {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

impl Db {
    /// Opens (creating and migrating) the database at `path`.
    pub fn open(path: &Path) -> Result<Db, StoreError> {
        let conn = Connection::open(path)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(
                |source| StoreError::Io {
                    path: path.to_path_buf(),
                    source,
                },
            )?;
        }
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let mut db = Db::new(conn);
        db.migrate()?;
        let reader = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        reader.busy_timeout(std::time::Duration::from_secs(10))?;
        if let Some(shared) = Arc::get_mut(&mut db.shared) {
            shared.reader = Some(Locked::new(reader));
        }
        Ok(db)
    }

    /// A database in process memory, for a [`MemoryVault`](super::vault::MemoryVault):
    /// the same schema, transactions and single-use rules as on disk, gone when dropped.
    pub fn memory() -> Result<Db, StoreError> {
        let conn = Connection::open_in_memory()?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let db = Db::new(conn);
        db.migrate()?;
        Ok(db)
    }

    fn new(conn: Connection) -> Db {
        Db {
            shared: Arc::new(Shared {
                writer: Locked::new(conn),
                reader: None,
                cluster: std::sync::OnceLock::new(),
            }),
        }
    }

    fn migrate(&self) -> Result<(), StoreError> {
        let version: i64 = self
            .conn()
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > MIGRATIONS.len() as i64 {
            return Err(StoreError::TooNew(version));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = self.write()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)?;
            tx.commit()?;
        }
        Ok(())
    }

    /// The schema version.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn()
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    /// The writing connection, for one caller at a time. Panics if this thread holds it
    /// already (that would deadlock).
    pub(crate) fn conn(&self) -> Conn<'_> {
        self.shared.writer.lock()
    }

    /// Adds a cluster's shared single-use ledger to this handle and its clones (once).
    pub fn share_single_use(&self, ledger: Arc<dyn ClusterLedger>) {
        let _ = self.shared.cluster.set(ledger);
    }

    pub(crate) fn cluster_ledger(&self) -> Option<&Arc<dyn ClusterLedger>> {
        self.shared.cluster.get()
    }

    /// A connection for a read that stands alone (it sees every committed write, and
    /// does not wait for one being committed); the writing connection for a database in
    /// memory. Panics if this thread holds it already.
    pub fn read(&self) -> Conn<'_> {
        self.shared
            .reader
            .as_ref()
            .unwrap_or(&self.shared.writer)
            .lock()
    }

    /// Starts a write transaction that takes the write lock at once (`BEGIN IMMEDIATE`),
    /// so a second process waits for it (up to the busy timeout) instead of failing
    /// halfway through with "database is locked".
    pub(crate) fn write(&self) -> Result<Tx<'_>, StoreError> {
        let conn = self.conn();
        conn.execute_batch("BEGIN IMMEDIATE")?;
        Ok(Tx { conn, open: true })
    }

    // --- sessions ---

    /// The session, if known.
    pub fn session(&self, id: &str) -> Result<Option<SessionRecord>, StoreError> {
        Ok(self
            .read()
            .query_row(
                &format!("{SESSION_COLUMNS} WHERE id = ?1"),
                [id],
                session_row,
            )
            .optional()?)
    }

    /// Sessions whose id starts with `prefix`, newest first; with `running`, only
    /// unfinished ones.
    pub fn sessions_matching(
        &self,
        prefix: &str,
        running: bool,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let conn = self.read();
        let mut st = conn.prepare(&format!(
            "{SESSION_COLUMNS} WHERE id LIKE ?1 || '%' AND (?2 = 0 OR status = 'running')
             ORDER BY created_at DESC, id"
        ))?;
        // Ids are hex: a prefix with anything else matches none (it is not stripped
        // to the hex it holds, which could match every session).
        if !prefix.chars().all(|c| c.is_ascii_hexdigit()) {
            return Ok(Vec::new());
        }
        let rows = st.query_map(params![prefix.to_ascii_lowercase(), running], session_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records what an unfinished session waits for.
    pub fn set_waiting(&self, id: &str, waiting: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE sessions SET waiting = ?2 WHERE id = ?1",
            params![id, waiting],
        )?;
        Ok(())
    }

    /// Records a newly confirmed session and its audit row in one transaction. Returns
    /// false (and writes nothing) if another process recorded it first.
    pub fn insert_session(
        &self,
        id: &str,
        kind: &str,
        plan: &str,
        me: u16,
        audit_detail: serde_json::Value,
    ) -> Result<bool, StoreError> {
        let t = now() as i64;
        let tx = self.write()?;
        let inserted = tx.execute(
            "INSERT INTO sessions (id, kind, plan, my_index, status, state, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 'running', 'start', ?5, ?5) ON CONFLICT (id) DO NOTHING",
            params![id, kind, plan, me, t],
        )? == 1;
        if inserted {
            audit::append(&tx, &format!("{kind}.confirm"), id, &audit_detail)?;
        }
        tx.commit()?;
        Ok(inserted)
    }

    /// Updates a session's status, state name and result.
    pub fn update_session(
        &self,
        id: &str,
        status: SessionStatus,
        state: &str,
        result: Option<&str>,
    ) -> Result<(), StoreError> {
        set_session(&self.conn(), id, status, state, result, None)
    }

    // --- messages ---

    /// Offers an incoming envelope for slot (round, sender, recipient), atomically: of
    /// two processes offering different envelopes for one slot, exactly one stores its
    /// envelope and the other is told [`Accept::Conflict`].
    pub fn accept_message(&self, m: &IncomingMessage<'_>) -> Result<Accept, StoreError> {
        let IncomingMessage {
            session,
            protocol,
            round,
            sender,
            recipient,
            digest,
            envelope,
            source,
        } = *m;
        let tx = self.write()?;
        let inserted = tx.execute(
            "INSERT INTO messages (session_id, protocol, round, sender, recipient, digest, envelope, source, accepted_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (session_id, protocol, round, sender, recipient) DO NOTHING",
            params![session, protocol, round, sender, recipient, digest, envelope, source, now() as i64],
        )? == 1;
        let accept = if inserted {
            Accept::New
        } else {
            let existing: String = tx.query_row(
                "SELECT digest FROM messages
                 WHERE session_id = ?1 AND protocol = ?2 AND round = ?3 AND sender = ?4 AND recipient = ?5",
                params![session, protocol, round, sender, recipient],
                |r| r.get(0),
            )?;
            if existing == digest {
                Accept::Duplicate
            } else {
                Accept::Conflict
            }
        };
        tx.commit()?;
        Ok(accept)
    }

    /// The protocol of the first accepted message of `round` in a session, if any.
    pub fn evidence_protocol(
        &self,
        session: &str,
        round: u8,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .read()
            .query_row(
                "SELECT protocol FROM messages WHERE session_id = ?1 AND round = ?2 LIMIT 1",
                params![session, round],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Every accepted envelope of a session, in (round, sender) order.
    pub fn messages(&self, session: &str) -> Result<Vec<Vec<u8>>, StoreError> {
        let conn = self.read();
        let mut st = conn.prepare(
            "SELECT envelope FROM messages WHERE session_id = ?1 ORDER BY protocol, round, sender, recipient",
        )?;
        let rows = st.query_map([session], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Completed sessions as (id, result JSON), oldest first.
    pub fn completed_sessions(&self) -> Result<Vec<(String, String)>, StoreError> {
        let conn = self.read();
        let mut st = conn.prepare(
            "SELECT id, result FROM sessions WHERE status = 'complete' AND result IS NOT NULL ORDER BY created_at, id",
        )?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    // --- keys ---

    /// Inserts a new active key.
    pub fn insert_key(&self, k: &KeyRecord) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO keys (id, scheme, public_key, threshold, n, my_index, parties, label, status,
                               session_id, transcript, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)",
            params![
                k.id,
                k.scheme,
                k.public_key,
                k.threshold,
                k.n,
                k.my_index,
                k.parties_json,
                k.label,
                k.status.as_str(),
                k.session_id,
                k.transcript,
                k.created_at as i64
            ],
        )?;
        Ok(())
    }

    /// All keys, newest first.
    pub fn keys(&self) -> Result<Vec<KeyRecord>, StoreError> {
        self.query_keys("SELECT * FROM keys ORDER BY created_at DESC, id", [])
    }

    /// Moves a key from status `from` to `to` (see [`change_key_status`]).
    pub fn set_key_status(
        &self,
        id: &str,
        from: KeyStatus,
        to: KeyStatus,
        delete_after: Option<u64>,
    ) -> Result<(), StoreError> {
        change_key_status(&self.conn(), id, from, to, delete_after)
    }

    /// A reshare's switch for a holder whose home has the key's record: the record now
    /// describes the new holding (threshold, parties, this home's index) and the key is
    /// active. Audited as `reshare.switch`.
    pub fn reshare_switch(
        &self,
        id: &str,
        threshold: u16,
        parties_json: &str,
        my_index: u16,
        detail: serde_json::Value,
    ) -> Result<(), StoreError> {
        let n = serde_json::from_str::<Vec<serde_json::Value>>(parties_json)
            .map_err(|e| StoreError::Corrupt {
                what: "a reshare's parties".into(),
                reason: e.to_string(),
            })?
            .len() as i64;
        self.audited("reshare.switch", id, detail, |c| {
            c.execute(
                "UPDATE keys SET threshold = ?2, n = ?3, my_index = ?4, parties = ?5, status = 'active', \
                 delete_after = NULL, updated_at = ?6 WHERE id = ?1",
                params![id, threshold, n, my_index, parties_json, now() as i64],
            )?;
            Ok(())
        })
    }

    /// Renames key `id` on this home (audited).
    pub fn set_key_label(&self, id: &str, label: &str) -> Result<(), StoreError> {
        self.audited(
            "key.label",
            id,
            serde_json::json!({ "label": label }),
            |c| {
                c.execute(
                    "UPDATE keys SET label = ?2, updated_at = ?3 WHERE id = ?1",
                    params![id, label, now() as i64],
                )?;
                Ok(())
            },
        )
    }

    /// Key `id`'s metadata on this home: a JSON object, empty when none was set.
    pub fn key_metadata(&self, id: &str) -> Result<serde_json::Value, StoreError> {
        let text: Option<String> = self
            .read()
            .query_row(
                "SELECT metadata FROM key_metadata WHERE key_id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()?;
        match text {
            None => Ok(serde_json::json!({})),
            Some(t) => serde_json::from_str(&t).map_err(|e| StoreError::Damaged {
                path: format!("mpc.db, the metadata of key {id}").into(),
                reason: e.to_string(),
            }),
        }
    }

    /// Replaces key `id`'s metadata (audited with its SHA-256, not its contents).
    pub fn set_key_metadata(
        &self,
        id: &str,
        metadata: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let text = metadata.to_string();
        let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes()));
        self.audited(
            "key.metadata",
            id,
            serde_json::json!({ "sha256": digest }),
            |c| {
                c.execute(
                    "INSERT INTO key_metadata (key_id, metadata, updated_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (key_id) DO UPDATE SET metadata = excluded.metadata,
                       updated_at = excluded.updated_at",
                    params![id, text, now() as i64],
                )?;
                Ok(())
            },
        )
    }

    /// The key with exactly this id, if any.
    pub fn key(&self, id: &str) -> Result<Option<KeyRecord>, StoreError> {
        Ok(self
            .query_keys("SELECT * FROM keys WHERE id = ?1", [id])?
            .into_iter()
            .next())
    }

    /// Keys whose id starts with `prefix`.
    pub fn keys_matching(&self, prefix: &str) -> Result<Vec<KeyRecord>, StoreError> {
        self.query_keys(
            "SELECT * FROM keys WHERE id LIKE ?1 || '%' ESCAPE '\\' ORDER BY id",
            [prefix
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")],
        )
    }

    fn query_keys<P: rusqlite::Params>(
        &self,
        sql: &str,
        p: P,
    ) -> Result<Vec<KeyRecord>, StoreError> {
        let conn = self.read();
        let mut st = conn.prepare_cached(sql)?;
        let rows = st.query_map(p, |r| {
            Ok(KeyRecord {
                id: r.get("id")?,
                scheme: r.get("scheme")?,
                public_key: r.get("public_key")?,
                threshold: r.get("threshold")?,
                n: r.get("n")?,
                my_index: r.get("my_index")?,
                parties_json: r.get("parties")?,
                label: r.get("label")?,
                status: r.get("status")?,
                session_id: r.get("session_id")?,
                transcript: r.get("transcript")?,
                created_at: r.get::<_, i64>("created_at")? as u64,
                updated_at: r.get::<_, i64>("updated_at")? as u64,
                delete_after: r.get::<_, Option<i64>>("delete_after")?.map(|t| t as u64),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    // --- contacts ---

    /// Adds or replaces a contact.
    pub fn upsert_contact(
        &self,
        name: &str,
        card_json: &str,
        fingerprint: &str,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO contacts (name, card, fingerprint, added_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (name) DO UPDATE SET card = excluded.card, fingerprint = excluded.fingerprint,
             added_at = excluded.added_at",
            params![name, card_json, fingerprint, now() as i64],
        )?;
        Ok(())
    }

    /// A contact's card JSON.
    pub fn contact(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .read()
            .query_row("SELECT card FROM contacts WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// All contacts' card JSON, by name.
    pub fn contacts(&self) -> Result<Vec<String>, StoreError> {
        let conn = self.read();
        let mut st = conn.prepare("SELECT card FROM contacts ORDER BY name")?;
        let rows = st.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

const SESSION_COLUMNS: &str = "SELECT id, plan, status, state, result, culprits, kind, my_index, waiting, created_at, updated_at FROM sessions";

fn session_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SessionRecord> {
    let culprits: Option<String> = r.get(5)?;
    Ok(SessionRecord {
        id: r.get(0)?,
        plan: r.get(1)?,
        status: r.get(2)?,
        state: r.get(3)?,
        result: r.get(4)?,
        // Written by this module from a list of strings; a row that does not parse
        // would have been edited by hand, and blames no one.
        culprits: culprits
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default(),
        kind: r.get(6)?,
        my_index: r.get(7)?,
        waiting: r.get(8)?,
        created_at: r.get::<_, i64>(9)? as u64,
        updated_at: r.get::<_, i64>(10)? as u64,
    })
}

/// Sets a session's status, state name, result and culprits through `c` (a connection or
/// the caller's transaction).
pub(crate) fn set_session(
    c: &Connection,
    id: &str,
    status: SessionStatus,
    state: &str,
    result: Option<&str>,
    culprits: Option<&[String]>,
) -> Result<(), StoreError> {
    let culprits = culprits.map(|c| serde_json::Value::from(c.to_vec()).to_string());
    c.execute(
        "UPDATE sessions SET status = ?2, state = ?3, result = COALESCE(?4, result),
         culprits = COALESCE(?5, culprits), updated_at = ?6
         WHERE id = ?1",
        params![id, status.as_str(), state, result, culprits, now() as i64],
    )?;
    Ok(())
}

/// Moves key `id` from status `from` to `to` through `c`, only if it still is `from`:
/// a transition computed from a stale read (another process suspended the key, or
/// staged a refresh, meanwhile) fails with [`StoreError::Changed`] instead of
/// overwriting that change.
pub(crate) fn change_key_status(
    c: &Connection,
    id: &str,
    from: KeyStatus,
    to: KeyStatus,
    delete_after: Option<u64>,
) -> Result<(), StoreError> {
    let changed = c.execute(
        "UPDATE keys SET status = ?3, delete_after = ?4, updated_at = ?5 WHERE id = ?1 AND status = ?2",
        params![
            id,
            from.as_str(),
            to.as_str(),
            delete_after.map(|t| t as i64),
            now() as i64
        ],
    )?;
    if changed == 1 {
        Ok(())
    } else {
        Err(StoreError::Changed(format!(
            "key {id} is no longer {}; it was changed by another process",
            from.as_str()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database with one running session `s`, and `n` more connections to it.
    pub(super) fn db_with_session(n: usize) -> (tempfile::TempDir, Vec<Db>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mpc.db");
        let first = Db::open(&path).unwrap();
        assert!(
            first
                .insert_session("s", "sign", "{}", 1, serde_json::json!({}))
                .unwrap()
        );
        let mut dbs = vec![first];
        dbs.extend((0..n).map(|_| Db::open(&path).unwrap()));
        (dir, dbs)
    }

    #[test]
    fn racing_offers_for_one_slot_store_one_and_report_the_other_as_a_conflict() {
        // Six connections (six CLI processes), then six clones of one handle (a serve
        // node's threads on its one connection).
        let (_dir, dbs) = db_with_session(5);
        race_for_one_slot(&dbs);
        let (_dir, dbs) = db_with_session(0);
        race_for_one_slot(&vec![dbs[0].clone(); 6]);
    }

    #[test]
    fn a_thread_that_locks_the_connection_twice_panics_instead_of_deadlocking() {
        let (_dir, dbs) = db_with_session(0);
        let db = dbs[0].clone();
        let twice = std::thread::spawn(move || {
            let _held = db.conn();
            db.write().map(drop)
        })
        .join();
        assert!(twice.is_err(), "a second lock of the writer must panic");
        let db = dbs[0].clone();
        let twice = std::thread::spawn(move || {
            let _held = db.read();
            db.keys().map(|k| k.len())
        })
        .join();
        assert!(twice.is_err(), "a second lock of the reader must panic");
        // A read while this thread writes is another connection: it goes on, and sees
        // what is committed, not what the open transaction changed.
        let tx = dbs[0].write().unwrap();
        tx.execute("DELETE FROM sessions", []).unwrap();
        assert!(dbs[0].session("s").unwrap().is_some());
        drop(tx);
        // The connection is free again, for this thread and others.
        assert!(dbs[0].keys().unwrap().is_empty());
        let tx = dbs[0].write().unwrap();
        drop(tx);
        assert!(dbs[0].session("s").unwrap().is_some());
    }

    fn race_for_one_slot(dbs: &[Db]) {
        let results: Vec<Accept> = std::thread::scope(|scope| {
            let handles: Vec<_> = dbs
                .iter()
                .enumerate()
                .map(|(i, db)| {
                    scope.spawn(move || {
                        let digest = format!("digest {}", i % 2);
                        db.accept_message(&IncomingMessage {
                            session: "s",
                            protocol: "sign",
                            round: 1,
                            sender: 2,
                            recipient: 0,
                            digest: &digest,
                            envelope: digest.as_bytes(),
                            source: "test",
                        })
                        .unwrap()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(results.iter().filter(|a| **a == Accept::New).count(), 1);
        // The other copies of the winner's envelope are duplicates, the rest conflicts.
        assert_eq!(
            results.iter().filter(|a| **a == Accept::Duplicate).count(),
            2
        );
        assert_eq!(
            results.iter().filter(|a| **a == Accept::Conflict).count(),
            3
        );
    }

    #[test]
    fn a_key_transition_from_a_stale_read_is_refused() {
        let (_dir, dbs) = db_with_session(0);
        let db = &dbs[0];
        db.insert_key(&KeyRecord {
            id: "k".into(),
            scheme: crate::scheme::Scheme::EddsaEd25519,
            public_key: "00".into(),
            threshold: 2,
            n: 3,
            my_index: 1,
            parties_json: "[]".into(),
            label: "l".into(),
            status: KeyStatus::Active,
            session_id: "s".into(),
            transcript: "00".into(),
            created_at: 1,
            updated_at: 1,
            delete_after: None,
        })
        .unwrap();
        db.set_key_status("k", KeyStatus::Active, KeyStatus::Suspended, None)
            .unwrap();
        // A second process that read "active" before the suspension loses.
        let stale = db
            .set_key_status("k", KeyStatus::Active, KeyStatus::Rotating, None)
            .unwrap_err();
        assert!(matches!(stale, StoreError::Changed(_)));
        assert_eq!(db.keys().unwrap()[0].status, KeyStatus::Suspended);
        // A status this version does not know (a newer mpc's, or a damaged database) is
        // an error naming it, never read as another status.
        db.conn()
            .execute_batch(
                "PRAGMA ignore_check_constraints = ON; \
                 UPDATE keys SET status = 'frozen' WHERE id = 'k'; \
                 UPDATE sessions SET status = 'paused'; \
                 PRAGMA ignore_check_constraints = OFF;",
            )
            .unwrap();
        let e = db.key("k").unwrap_err().to_string();
        assert!(e.contains("unknown status `frozen`"), "{e}");
        let e = db.session("s").unwrap_err().to_string();
        assert!(e.contains("unknown status `paused`"), "{e}");
        db.conn()
            .execute_batch(
                "PRAGMA ignore_check_constraints = ON; \
                 UPDATE keys SET status = 'active', scheme = 'rsa-4096' WHERE id = 'k'; \
                 PRAGMA ignore_check_constraints = OFF;",
            )
            .unwrap();
        let e = db.key("k").unwrap_err().to_string();
        assert!(e.contains("unknown scheme `rsa-4096`"), "{e}");
    }
}
