-- Who did what and when. Every mutation writes one row in the same transaction as the change.
-- `before` and `after` are JSON snapshots of the changed entity (never a secret).
CREATE TABLE audit (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,             -- unix seconds, UTC
    actor   TEXT    NOT NULL,             -- user name, or "cli" for the command line
    action  TEXT    NOT NULL,             -- e.g. "user.add", "user.role", "auth.login"
    target  TEXT    NOT NULL,
    before  TEXT,
    after   TEXT
);
CREATE INDEX audit_at ON audit (at DESC, id DESC);
