-- Schema version 5 to 6.
-- v6: the `approval` policy mode (SQLite cannot change a CHECK in place).
CREATE TABLE key_policies_v6 (
    key_id       TEXT PRIMARY KEY REFERENCES keys(id),
    mode         TEXT NOT NULL CHECK (mode IN ('auto', 'approval', 'never')),
    hash_modes   TEXT,
    path_prefix  TEXT,
    max_per_hour INTEGER,
    updated_at   INTEGER NOT NULL
);
INSERT INTO key_policies_v6 SELECT key_id, mode, hash_modes, path_prefix, max_per_hour, updated_at FROM key_policies;
DROP TABLE key_policies;
ALTER TABLE key_policies_v6 RENAME TO key_policies;
-- Members a serve node's operators added or removed (`POST /nodes`, `DELETE /nodes/{id}`).
CREATE TABLE cluster_changes (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    action TEXT NOT NULL CHECK (action IN ('add', 'remove')),
    card   TEXT NOT NULL,
    at     INTEGER NOT NULL
);
-- A key's metadata on this home (a JSON object; `PUT /keys/{id}`).
CREATE TABLE key_metadata (
    key_id     TEXT PRIMARY KEY REFERENCES keys(id),
    metadata   TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
