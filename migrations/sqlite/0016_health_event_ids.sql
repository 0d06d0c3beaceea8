-- Health events get an id: it orders two events of one second (the queries used SQLite's
-- rowid for that, which PostgreSQL has no counterpart of). An INTEGER PRIMARY KEY is the
-- rowid under its own name, so the rows keep their ids and their order.
CREATE TABLE health_events_with_ids (
    id          INTEGER PRIMARY KEY,
    gateway_id  INTEGER NOT NULL REFERENCES gateways (id) ON DELETE CASCADE,
    resource    TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    level       TEXT    NOT NULL,
    reason      TEXT    NOT NULL
);
INSERT INTO health_events_with_ids (id, gateway_id, resource, at, level, reason)
SELECT rowid, gateway_id, resource, at, level, reason FROM health_events;
DROP TABLE health_events;
ALTER TABLE health_events_with_ids RENAME TO health_events;
CREATE INDEX health_events_by_resource ON health_events (gateway_id, resource, at);
