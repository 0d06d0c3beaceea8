-- Health: the latest assessment per gateway, and a bounded history of changes per resource
-- (a row only when a resource's level or reason changes; older than 7 days is pruned).
ALTER TABLE gateway_status ADD COLUMN health TEXT;        -- JSON of app::health::Health
ALTER TABLE gateway_status ADD COLUMN health_level TEXT;  -- Healthy | Pending | Degraded | Unhealthy
ALTER TABLE gateway_status ADD COLUMN health_at INTEGER;

CREATE TABLE health_events (
    gateway_id  INTEGER NOT NULL REFERENCES gateways (id) ON DELETE CASCADE,
    resource    TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    level       TEXT    NOT NULL,
    reason      TEXT    NOT NULL
);
CREATE INDEX health_events_by_resource ON health_events (gateway_id, resource, at);
