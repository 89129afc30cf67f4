-- Schema version 2 to 3.
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
