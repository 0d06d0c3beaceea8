-- PostgreSQL's side of sqlite/0006_health.sql.
ALTER TABLE gateway_status ADD COLUMN health TEXT;
ALTER TABLE gateway_status ADD COLUMN health_level TEXT;
ALTER TABLE gateway_status ADD COLUMN health_at BIGINT;

CREATE TABLE health_events (
    gateway_id  BIGINT NOT NULL REFERENCES gateways (id) ON DELETE CASCADE,
    resource    TEXT   NOT NULL,
    at          BIGINT NOT NULL,
    level       TEXT   NOT NULL,
    reason      TEXT   NOT NULL
);
CREATE INDEX health_events_by_resource ON health_events (gateway_id, resource, at);
