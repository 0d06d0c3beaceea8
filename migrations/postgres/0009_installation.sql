-- PostgreSQL's side of sqlite/0009_installation.sql: the same random 16-hex-digit name.
CREATE TABLE installation (
    id         BIGINT PRIMARY KEY CHECK (id = 1),
    name       TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);
INSERT INTO installation (id, name, created_at)
VALUES (1, substr(md5(gen_random_uuid()::text), 1, 16), extract(epoch FROM now())::bigint);

ALTER TABLE gateways ADD COLUMN legacy_tags BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE gateways SET legacy_tags = TRUE;
