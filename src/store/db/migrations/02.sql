-- Schema version 1 to 2.
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
