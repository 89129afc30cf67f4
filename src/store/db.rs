//! SQLite metadata: keys, sessions, accepted messages, sent messages, the single-use
//! ledger, contacts and the audit chain. Nothing secret is ever stored here: envelopes
//! are public (private payloads inside them stay encrypted to their recipient).
//!
//! WAL mode, foreign keys on, `synchronous = FULL`; the schema is versioned with
//! `PRAGMA user_version` and migrated forward on open.

use super::StoreError;
use crate::plan::now;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use std::path::Path;

/// Schema migrations; entry `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE keys (
    id           TEXT PRIMARY KEY,
    scheme       TEXT NOT NULL CHECK (scheme IN
                   ('eddsa-ed25519', 'schnorr-secp256k1-tr', 'schnorr-secp256k1', 'ecdsa-secp256k1')),
    public_key   TEXT NOT NULL,
    threshold    INTEGER NOT NULL,
    n            INTEGER NOT NULL,
    my_index     INTEGER NOT NULL,
    parties      TEXT NOT NULL,
    label        TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN
                   ('creating', 'active', 'suspended', 'rotating', 'pending_deletion', 'deleted')),
    chain        TEXT,
    session_id   TEXT NOT NULL,
    transcript   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    delete_after INTEGER
);
CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('keygen', 'sign')),
    plan       TEXT NOT NULL,
    my_index   INTEGER NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('running', 'complete', 'aborted')),
    state      TEXT NOT NULL,
    result     TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE messages (
    session_id  TEXT NOT NULL REFERENCES sessions(id),
    round       INTEGER NOT NULL,
    sender      INTEGER NOT NULL,
    recipient   INTEGER NOT NULL,
    digest      TEXT NOT NULL,
    envelope    BLOB NOT NULL,
    source      TEXT NOT NULL,
    accepted_at INTEGER NOT NULL,
    PRIMARY KEY (session_id, round, sender, recipient)
);
CREATE TABLE outgoing (
    session_id TEXT NOT NULL REFERENCES sessions(id),
    round      INTEGER NOT NULL,
    recipient  INTEGER NOT NULL,
    envelope   BLOB NOT NULL,
    PRIMARY KEY (session_id, round, recipient)
);
CREATE TABLE ledger (
    session_id TEXT NOT NULL REFERENCES sessions(id),
    item       TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('armed', 'consumed')),
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (session_id, item)
);
CREATE TABLE contacts (
    name        TEXT PRIMARY KEY,
    card        TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    added_at    INTEGER NOT NULL
);
CREATE TABLE audit (
    seq       INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    action    TEXT NOT NULL,
    subject   TEXT NOT NULL,
    detail    TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
"#,
    r#"
-- v2: a message slot includes its protocol (an ECDSA keygen session runs aux info and
-- keygen, each with its own rounds). v1 rows take the protocol of their session.
ALTER TABLE messages RENAME TO messages_v1;
CREATE TABLE messages (
    session_id  TEXT NOT NULL REFERENCES sessions(id),
    protocol    TEXT NOT NULL CHECK (protocol IN ('keygen', 'sign', 'aux')),
    round       INTEGER NOT NULL,
    sender      INTEGER NOT NULL,
    recipient   INTEGER NOT NULL,
    digest      TEXT NOT NULL,
    envelope    BLOB NOT NULL,
    source      TEXT NOT NULL,
    accepted_at INTEGER NOT NULL,
    PRIMARY KEY (session_id, protocol, round, sender, recipient)
);
INSERT INTO messages
    SELECT m.session_id, s.kind, m.round, m.sender, m.recipient, m.digest, m.envelope, m.source, m.accepted_at
    FROM messages_v1 m JOIN sessions s ON s.id = m.session_id;
DROP TABLE messages_v1;
-- Sent envelopes in the order they were produced.
ALTER TABLE outgoing RENAME TO outgoing_v1;
CREATE TABLE outgoing (
    session_id TEXT NOT NULL REFERENCES sessions(id),
    seq        INTEGER NOT NULL,
    envelope   BLOB NOT NULL,
    PRIMARY KEY (session_id, seq)
);
INSERT INTO outgoing
    SELECT session_id, ROW_NUMBER() OVER (PARTITION BY session_id ORDER BY round, recipient), envelope
    FROM outgoing_v1;
DROP TABLE outgoing_v1;
"#,
    r#"
-- v3: refresh and repair sessions (and their messages). SQLite cannot change a CHECK, so
-- the tables are rebuilt: the parent is renamed first (its children follow the rename),
-- then each child is rebuilt against the new parent, and the old parent goes last.
ALTER TABLE sessions RENAME TO sessions_v2;
CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('keygen', 'sign', 'refresh', 'repair')),
    plan       TEXT NOT NULL,
    my_index   INTEGER NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('running', 'complete', 'aborted')),
    state      TEXT NOT NULL,
    result     TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
INSERT INTO sessions SELECT * FROM sessions_v2;
ALTER TABLE messages RENAME TO messages_v2;
CREATE TABLE messages (
    session_id  TEXT NOT NULL REFERENCES sessions(id),
    protocol    TEXT NOT NULL CHECK (protocol IN ('keygen', 'sign', 'aux', 'refresh', 'repair')),
    round       INTEGER NOT NULL,
    sender      INTEGER NOT NULL,
    recipient   INTEGER NOT NULL,
    digest      TEXT NOT NULL,
    envelope    BLOB NOT NULL,
    source      TEXT NOT NULL,
    accepted_at INTEGER NOT NULL,
    PRIMARY KEY (session_id, protocol, round, sender, recipient)
);
INSERT INTO messages SELECT * FROM messages_v2;
DROP TABLE messages_v2;
ALTER TABLE outgoing RENAME TO outgoing_v2;
CREATE TABLE outgoing (
    session_id TEXT NOT NULL REFERENCES sessions(id),
    seq        INTEGER NOT NULL,
    envelope   BLOB NOT NULL,
    PRIMARY KEY (session_id, seq)
);
INSERT INTO outgoing SELECT * FROM outgoing_v2;
DROP TABLE outgoing_v2;
ALTER TABLE ledger RENAME TO ledger_v2;
CREATE TABLE ledger (
    session_id TEXT NOT NULL REFERENCES sessions(id),
    item       TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('armed', 'consumed')),
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (session_id, item)
);
INSERT INTO ledger SELECT * FROM ledger_v2;
DROP TABLE ledger_v2;
DROP TABLE sessions_v2;
"#,
];

/// A key's lifecycle status (DESIGN.md "Storage").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    /// DKG under way.
    Creating,
    /// Usable.
    Active,
    /// Refuses to sign.
    Suspended,
    /// Refresh under way.
    Rotating,
    /// Scheduled for deletion.
    PendingDeletion,
    /// Shares destroyed, metadata kept.
    Deleted,
}

impl KeyStatus {
    /// The name stored in SQLite and shown to users.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Creating => "creating",
            KeyStatus::Active => "active",
            KeyStatus::Suspended => "suspended",
            KeyStatus::Rotating => "rotating",
            KeyStatus::PendingDeletion => "pending_deletion",
            KeyStatus::Deleted => "deleted",
        }
    }

    fn parse(s: &str) -> KeyStatus {
        match s {
            "creating" => KeyStatus::Creating,
            "active" => KeyStatus::Active,
            "suspended" => KeyStatus::Suspended,
            "rotating" => KeyStatus::Rotating,
            "pending_deletion" => KeyStatus::PendingDeletion,
            _ => KeyStatus::Deleted,
        }
    }
}

/// A session's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// In progress.
    Running,
    /// Finished with a result.
    Complete,
    /// Aborted; never resumes.
    Aborted,
}

impl SessionStatus {
    fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Running => "running",
            SessionStatus::Complete => "complete",
            SessionStatus::Aborted => "aborted",
        }
    }

    fn parse(s: &str) -> SessionStatus {
        match s {
            "running" => SessionStatus::Running,
            "complete" => SessionStatus::Complete,
            _ => SessionStatus::Aborted,
        }
    }
}

/// Key metadata.
#[derive(Clone, Debug, Serialize)]
pub struct KeyRecord {
    /// Key id.
    pub id: String,
    /// Scheme id.
    pub scheme: String,
    /// Group public key, hex (frost serialization).
    pub public_key: String,
    /// t.
    pub threshold: u16,
    /// n.
    pub n: u16,
    /// This party's index.
    pub my_index: u16,
    /// The parties' cards, JSON array.
    #[serde(skip)]
    pub parties_json: String,
    /// Label.
    pub label: String,
    /// Status.
    pub status: KeyStatus,
    /// The keygen session.
    pub session_id: String,
    /// The keygen transcript hash, hex.
    pub transcript: String,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds.
    pub updated_at: u64,
    /// When a key pending deletion may be destroyed, unix seconds.
    pub delete_after: Option<u64>,
}

/// Session metadata.
#[derive(Clone, Debug)]
pub struct SessionRecord {
    /// Session id, hex.
    pub id: String,
    /// The plan JSON.
    pub plan: String,
    /// Status.
    pub status: SessionStatus,
    /// Engine state name.
    pub state: String,
    /// Result JSON or abort reason.
    pub result: Option<String>,
}

/// What happened when an incoming envelope was offered.
#[derive(Debug, PartialEq, Eq)]
pub enum Accept {
    /// New; stored.
    New,
    /// Identical to the one already stored; ignored.
    Duplicate,
    /// A different envelope for an already filled slot.
    Conflict,
}

/// An incoming envelope offered for its slot (session, round, sender, recipient).
#[derive(Clone, Copy, Debug)]
pub struct IncomingMessage<'a> {
    /// Session id, hex.
    pub session: &'a str,
    /// Protocol name (`keygen`, `sign`, `aux`).
    pub protocol: &'a str,
    /// Round.
    pub round: u8,
    /// Sender index.
    pub sender: u16,
    /// Recipient index, 0 for broadcast.
    pub recipient: u16,
    /// SHA-256 of the envelope bytes, hex.
    pub digest: &'a str,
    /// The envelope bytes.
    pub envelope: &'a [u8],
    /// Where it came from (file path), for the record.
    pub source: &'a str,
}

/// An open database.
pub struct Db {
    conn: Connection,
}

impl Db {
    /// Opens (creating and migrating) the database at `path`.
    pub fn open(path: &Path) -> Result<Db, StoreError> {
        let conn = Connection::open(path)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let mut db = Db { conn };
        db.migrate()?;
        Ok(db)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let version: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > MIGRATIONS.len() as i64 {
            return Err(StoreError::TooNew(version));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)?;
            tx.commit()?;
        }
        Ok(())
    }

    /// The schema version.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    // --- sessions ---

    /// The session, if known.
    pub fn session(&self, id: &str) -> Result<Option<SessionRecord>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT id, plan, status, state, result FROM sessions WHERE id = ?1",
                [id],
                |r| {
                    Ok(SessionRecord {
                        id: r.get(0)?,
                        plan: r.get(1)?,
                        status: SessionStatus::parse(&r.get::<_, String>(2)?),
                        state: r.get(3)?,
                        result: r.get(4)?,
                    })
                },
            )
            .optional()?)
    }

    /// Records a newly confirmed session.
    pub fn insert_session(
        &self,
        id: &str,
        kind: &str,
        plan: &str,
        me: u16,
    ) -> Result<(), StoreError> {
        let t = now() as i64;
        self.conn.execute(
            "INSERT INTO sessions (id, kind, plan, my_index, status, state, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 'running', 'start', ?5, ?5)",
            params![id, kind, plan, me, t],
        )?;
        Ok(())
    }

    /// Updates a session's status, state name and result.
    pub fn update_session(
        &self,
        id: &str,
        status: SessionStatus,
        state: &str,
        result: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE sessions SET status = ?2, state = ?3, result = COALESCE(?4, result), updated_at = ?5
             WHERE id = ?1",
            params![id, status.as_str(), state, result, now() as i64],
        )?;
        Ok(())
    }

    // --- messages ---

    /// Offers an incoming envelope for slot (round, sender, recipient).
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
        let existing: Option<String> = self
            .conn
            .query_row(
                "SELECT digest FROM messages
                 WHERE session_id = ?1 AND protocol = ?2 AND round = ?3 AND sender = ?4 AND recipient = ?5",
                params![session, protocol, round, sender, recipient],
                |r| r.get(0),
            )
            .optional()?;
        match existing {
            Some(d) if d == digest => Ok(Accept::Duplicate),
            Some(_) => Ok(Accept::Conflict),
            None => {
                self.conn.execute(
                    "INSERT INTO messages (session_id, protocol, round, sender, recipient, digest, envelope, source, accepted_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    params![session, protocol, round, sender, recipient, digest, envelope, source, now() as i64],
                )?;
                Ok(Accept::New)
            }
        }
    }

    /// Every accepted envelope of a session, in (round, sender) order.
    pub fn messages(&self, session: &str) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut st = self.conn.prepare(
            "SELECT envelope FROM messages WHERE session_id = ?1 ORDER BY protocol, round, sender, recipient",
        )?;
        let rows = st.query_map([session], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records our sent envelopes (public bytes) and the ledger item state, in one transaction.
    pub fn record_sent(
        &mut self,
        session: &str,
        sent: &[Vec<u8>],
        ledger: Option<(&str, &str)>,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        for env in sent {
            tx.execute(
                "INSERT INTO outgoing (session_id, seq, envelope)
                 VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM outgoing WHERE session_id = ?1), ?2)",
                params![session, env],
            )?;
        }
        if let Some((item, status)) = ledger {
            tx.execute(
                "INSERT INTO ledger (session_id, item, status, updated_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (session_id, item) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at",
                params![session, item, status, now() as i64],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Every envelope we sent in a session.
    pub fn sent(&self, session: &str) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT envelope FROM outgoing WHERE session_id = ?1 ORDER BY seq")?;
        let rows = st.query_map([session], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Sets a single-use item's ledger status in its own transaction.
    pub fn set_ledger(&self, session: &str, item: &str, status: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO ledger (session_id, item, status, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (session_id, item) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at",
            params![session, item, status, now() as i64],
        )?;
        Ok(())
    }

    /// Completed sessions as (id, result JSON), oldest first.
    pub fn completed_sessions(&self) -> Result<Vec<(String, String)>, StoreError> {
        let mut st = self.conn.prepare(
            "SELECT id, result FROM sessions WHERE status = 'complete' AND result IS NOT NULL ORDER BY created_at, id",
        )?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The ledger status of a single-use item, if recorded.
    pub fn ledger(&self, session: &str, item: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT status FROM ledger WHERE session_id = ?1 AND item = ?2",
                params![session, item],
                |r| r.get(0),
            )
            .optional()?)
    }

    // --- keys ---

    /// Inserts a new active key.
    pub fn insert_key(&self, k: &KeyRecord) -> Result<(), StoreError> {
        self.conn.execute(
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

    /// Sets a key's status and deletion date.
    pub fn set_key_status(
        &self,
        id: &str,
        status: KeyStatus,
        delete_after: Option<u64>,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE keys SET status = ?2, delete_after = ?3, updated_at = ?4 WHERE id = ?1",
            params![
                id,
                status.as_str(),
                delete_after.map(|t| t as i64),
                now() as i64
            ],
        )?;
        Ok(())
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
        let mut st = self.conn.prepare(sql)?;
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
                status: KeyStatus::parse(&r.get::<_, String>("status")?),
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
        self.conn.execute(
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
            .conn
            .query_row("SELECT card FROM contacts WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// All contacts' card JSON, by name.
    pub fn contacts(&self) -> Result<Vec<String>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT card FROM contacts ORDER BY name")?;
        let rows = st.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
