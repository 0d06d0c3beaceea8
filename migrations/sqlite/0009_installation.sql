-- This installation's id: a random name every AWS resource Portico makes is tagged with
-- (`portico:installation`) beside the gateway's name, so two installations sharing an AWS
-- account, even with gateways of the same name, never take each other's resources. Made once,
-- here; every server on this database (and a restored backup of it) is the same installation.
CREATE TABLE installation (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
INSERT INTO installation (id, name, created_at)
VALUES (1, lower(hex(randomblob(8))), CAST(strftime('%s', 'now') AS INTEGER));

-- Gateways made before installations had ids own resources tagged with the gateway's name
-- alone: for them (only) such a resource is still this installation's, and the worker adds the
-- installation's tag on its next run. Gateways made from now on own only what carries it.
ALTER TABLE gateways ADD COLUMN legacy_tags INTEGER NOT NULL DEFAULT 0;
UPDATE gateways SET legacy_tags = 1;
