-- Schema version 3 to 4.
-- v4: a consumed single-use item records what it was consumed for (the hash of the one
-- signature share it may ever produce), so a retry after a crash can tell itself from a
-- second, different use; an aborted session keeps the parties it blamed.
ALTER TABLE ledger ADD COLUMN binding TEXT;
ALTER TABLE sessions ADD COLUMN culprits TEXT;
-- What an unfinished session last waited for, for `mpc sessions list`.
ALTER TABLE sessions ADD COLUMN waiting TEXT;
-- Audit heads signed with the party's identity key.
CREATE TABLE audit_checkpoint (
    seq       INTEGER PRIMARY KEY,
    hash      TEXT NOT NULL,
    at        INTEGER NOT NULL,
    signature TEXT NOT NULL
);
