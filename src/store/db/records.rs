//! The records the database holds and hands out: keys and sessions with their
//! statuses, and what offering an incoming message did. A status is stored as its name;
//! reading a name this version does not know is an error, never a guess.
//!
//! A key's parties stay JSON in the record and are parsed by [`KeyRecord::parties`],
//! which says the record is damaged when they do not parse. Parsing them when rows are
//! read would make one damaged row fail every listing of keys (`mpc keys`, `GET
//! /keys`); this way it fails only what uses that key's parties.

use crate::scheme::Scheme;
use crate::store::StoreError;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use serde::Serialize;

/// A key's lifecycle status (DESIGN.md "Storage").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
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
    /// Moved to other holders by a reshare; this home's share destroyed, metadata kept.
    Reshared,
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
            KeyStatus::Reshared => "reshared",
        }
    }

    const ALL: [KeyStatus; 7] = [
        KeyStatus::Creating,
        KeyStatus::Active,
        KeyStatus::Suspended,
        KeyStatus::Rotating,
        KeyStatus::PendingDeletion,
        KeyStatus::Deleted,
        KeyStatus::Reshared,
    ];
}

impl FromSql for KeyStatus {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        named(value, &KeyStatus::ALL, |s| s.as_str())
    }
}

impl ToSql for KeyStatus {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(self.as_str().into())
    }
}

impl FromSql for Scheme {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = value.as_str()?;
        text.parse()
            .map_err(|_| FromSqlError::Other(format!("unknown scheme `{text}`").into()))
    }
}

impl ToSql for Scheme {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(self.id().into())
    }
}

/// The one of `all` whose name (`name_of`) the column holds; any other value is an
/// error (a newer version's status, or a damaged database), never a guess.
fn named<T: Copy>(
    value: ValueRef<'_>,
    all: &[T],
    name_of: fn(T) -> &'static str,
) -> FromSqlResult<T> {
    let text = value.as_str()?;
    all.iter()
        .copied()
        .find(|&s| name_of(s) == text)
        .ok_or_else(|| FromSqlError::Other(format!("unknown status `{text}`").into()))
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
    /// The name stored in SQLite and shown to users.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Running => "running",
            SessionStatus::Complete => "complete",
            SessionStatus::Aborted => "aborted",
        }
    }

    const ALL: [SessionStatus; 3] = [
        SessionStatus::Running,
        SessionStatus::Complete,
        SessionStatus::Aborted,
    ];
}

impl FromSql for SessionStatus {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        named(value, &SessionStatus::ALL, |s| s.as_str())
    }
}

impl ToSql for SessionStatus {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(self.as_str().into())
    }
}

/// Key metadata.
#[derive(Clone, Debug, Serialize)]
pub struct KeyRecord {
    /// Key id.
    pub id: String,
    /// The scheme (stored as its id).
    pub scheme: Scheme,
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

impl KeyRecord {
    /// The key's parties, in plan order. A record whose list does not parse is damaged,
    /// and says so: it is never read as an empty list.
    pub fn parties(&self) -> Result<Vec<crate::identity::Card>, StoreError> {
        serde_json::from_str(&self.parties_json).map_err(|e| StoreError::Damaged {
            path: std::path::PathBuf::from(format!("mpc.db, the record of key {}", self.id)),
            reason: format!("its list of parties does not parse: {e}"),
        })
    }

    /// The keygen transcript hash. A record whose hash does not parse is damaged: a
    /// fingerprint people compare aloud never falls back to a default.
    pub fn transcript_hash(&self) -> Result<[u8; 32], StoreError> {
        crate::identity::parse_digest(&self.transcript).ok_or_else(|| StoreError::Damaged {
            path: std::path::PathBuf::from(format!("mpc.db, the record of key {}", self.id)),
            reason: "its transcript hash is not 32 bytes of hex".into(),
        })
    }
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
    /// An aborted session's culprits (plan labels), as recorded when it aborted.
    pub culprits: Vec<String>,
    /// The session kind (`keygen`, `sign`, ...).
    pub kind: String,
    /// This party's index.
    pub my_index: u16,
    /// What an unfinished session last waited for.
    pub waiting: Option<String>,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds.
    pub updated_at: u64,
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
