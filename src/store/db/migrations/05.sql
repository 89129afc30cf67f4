-- Schema version 4 to 5.
-- v5: `mpc serve`. API tokens: only the SHA-256 of the secret part is kept.
CREATE TABLE api_tokens (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    hash       TEXT NOT NULL,
    scope      TEXT NOT NULL CHECK (scope IN ('read', 'sign', 'admin')),
    keys       TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER
);
-- This node's own decision, per key, on joining signing sessions.
CREATE TABLE key_policies (
    key_id       TEXT PRIMARY KEY REFERENCES keys(id),
    mode         TEXT NOT NULL CHECK (mode IN ('auto', 'never')),
    hash_modes   TEXT,
    path_prefix  TEXT,
    max_per_hour INTEGER,
    updated_at   INTEGER NOT NULL
);
