-- Schema version 0 to 1.
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
