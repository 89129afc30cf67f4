-- Schema version 6 to 7.
-- v7: reshare sessions and their messages, and the `reshared` key status (a home whose
-- share was moved to other holders keeps the key's record). SQLite cannot change a
-- CHECK: each parent is renamed first (its children follow the rename), rebuilt, each
-- child rebuilt against the new parent, and the old parent dropped last (as in v3).
ALTER TABLE sessions RENAME TO sessions_v6;
CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('keygen', 'sign', 'refresh', 'repair', 'reshare')),
    plan       TEXT NOT NULL,
    my_index   INTEGER NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('running', 'complete', 'aborted')),
    state      TEXT NOT NULL,
    result     TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    culprits   TEXT,
    waiting    TEXT
);
INSERT INTO sessions SELECT * FROM sessions_v6;
ALTER TABLE messages RENAME TO messages_v6;
CREATE TABLE messages (
    session_id  TEXT NOT NULL REFERENCES sessions(id),
    protocol    TEXT NOT NULL CHECK (protocol IN ('keygen', 'sign', 'aux', 'refresh', 'repair', 'reshare')),
    round       INTEGER NOT NULL,
    sender      INTEGER NOT NULL,
    recipient   INTEGER NOT NULL,
    digest      TEXT NOT NULL,
    envelope    BLOB NOT NULL,
    source      TEXT NOT NULL,
    accepted_at INTEGER NOT NULL,
    PRIMARY KEY (session_id, protocol, round, sender, recipient)
);
INSERT INTO messages SELECT * FROM messages_v6;
DROP TABLE messages_v6;
ALTER TABLE outgoing RENAME TO outgoing_v6;
CREATE TABLE outgoing (
    session_id TEXT NOT NULL REFERENCES sessions(id),
    seq        INTEGER NOT NULL,
    envelope   BLOB NOT NULL,
    PRIMARY KEY (session_id, seq)
);
INSERT INTO outgoing SELECT * FROM outgoing_v6;
DROP TABLE outgoing_v6;
ALTER TABLE ledger RENAME TO ledger_v6;
CREATE TABLE ledger (
    session_id TEXT NOT NULL REFERENCES sessions(id),
    item       TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('armed', 'consumed')),
    updated_at INTEGER NOT NULL,
    binding    TEXT,
    PRIMARY KEY (session_id, item)
);
INSERT INTO ledger SELECT * FROM ledger_v6;
DROP TABLE ledger_v6;
DROP TABLE sessions_v6;
ALTER TABLE keys RENAME TO keys_v6;
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
                   ('creating', 'active', 'suspended', 'rotating', 'pending_deletion', 'deleted', 'reshared')),
    chain        TEXT,
    session_id   TEXT NOT NULL,
    transcript   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    delete_after INTEGER
);
INSERT INTO keys SELECT * FROM keys_v6;
ALTER TABLE key_policies RENAME TO key_policies_v6;
CREATE TABLE key_policies (
    key_id       TEXT PRIMARY KEY REFERENCES keys(id),
    mode         TEXT NOT NULL CHECK (mode IN ('auto', 'approval', 'never')),
    hash_modes   TEXT,
    path_prefix  TEXT,
    max_per_hour INTEGER,
    updated_at   INTEGER NOT NULL
);
INSERT INTO key_policies SELECT * FROM key_policies_v6;
DROP TABLE key_policies_v6;
ALTER TABLE key_metadata RENAME TO key_metadata_v6;
CREATE TABLE key_metadata (
    key_id     TEXT PRIMARY KEY REFERENCES keys(id),
    metadata   TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
INSERT INTO key_metadata SELECT * FROM key_metadata_v6;
DROP TABLE key_metadata_v6;
DROP TABLE keys_v6;
