-- Alerts: webhooks an admin registered (for one gateway, or every gateway when gateway_id is
-- NULL) and one delivery row per webhook and event. UNIQUE (webhook_id, kind, event_key) is
-- what makes one message per event, however many reconciles see it: an event's key names the
-- plan, the health change or the key it is about.
CREATE TABLE webhooks (
    id          INTEGER PRIMARY KEY,
    gateway_id  INTEGER REFERENCES gateways (id) ON DELETE CASCADE,
    url         TEXT    NOT NULL,
    events      TEXT    NOT NULL,      -- comma-separated alert kinds (portico_core::alerts::Kind)
    format      TEXT    NOT NULL,      -- slack | json
    secret      TEXT    NOT NULL,      -- the HMAC key, shown to the admin once
    created_by  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE webhook_deliveries (
    id            INTEGER PRIMARY KEY,
    webhook_id    INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_key     TEXT    NOT NULL,    -- with kind: one delivery per webhook and event
    kind          TEXT    NOT NULL,
    gateway       TEXT    NOT NULL,
    text          TEXT    NOT NULL,
    at            INTEGER NOT NULL,    -- when the event happened
    status        TEXT    NOT NULL,    -- pending | delivered | failed
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_at_ms    INTEGER NOT NULL,    -- when the next attempt is due
    sending_until_ms INTEGER,          -- claimed by a sender until then (one per webhook at a time)
    last_code     INTEGER,             -- the receiver's last HTTP status
    last_error    TEXT,                -- or why nothing came back
    finished_at   INTEGER,
    UNIQUE (webhook_id, kind, event_key)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_at_ms);
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, id);
