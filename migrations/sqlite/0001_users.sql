-- Accounts. A user signs in with a name and an argon2id password hash; the role decides what
-- the server lets them do. Users are disabled, never deleted, so audit rows keep their meaning.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'editor', 'viewer')),
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    INTEGER NOT NULL,  -- unix seconds, UTC
    updated_at    INTEGER NOT NULL
);
