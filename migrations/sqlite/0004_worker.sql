-- The worker's records: plans (stored with the generation they were made from, executed as
-- stored), a journal row per step written before and after its AWS call, and each gateway's
-- last observed state.

-- An admin's delete marks the gateway; the worker removes what it owns in AWS, then the rows.
ALTER TABLE gateways ADD COLUMN deleting_at INTEGER;
ALTER TABLE gateways ADD COLUMN deleting_by TEXT;
-- The last generation AWS was seen to match: a non-empty plan at this generation is drift.
ALTER TABLE gateways ADD COLUMN converged_generation INTEGER NOT NULL DEFAULT 0;
-- Bumped by "reconcile now" and approvals, so the worker wakes for them.
ALTER TABLE gateways ADD COLUMN nudged_at INTEGER NOT NULL DEFAULT 0;

CREATE TABLE plans (
    id              INTEGER PRIMARY KEY,
    gateway_id      INTEGER NOT NULL REFERENCES gateways (id) ON DELETE CASCADE,
    generation      INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    reason          TEXT    NOT NULL,  -- edit | drift | delete
    plan            TEXT    NOT NULL,  -- JSON of app::plan::Plan
    needs_approval  INTEGER NOT NULL,
    -- awaiting_approval | approved | running | done | failed | interrupted | superseded | reported
    status          TEXT    NOT NULL,
    approved_by     TEXT,
    approved_at     INTEGER,
    started_at      INTEGER,
    finished_at     INTEGER,
    error           TEXT
);
CREATE INDEX plans_by_gateway ON plans (gateway_id, id);

CREATE TABLE plan_steps (
    plan_id         INTEGER NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    idx             INTEGER NOT NULL,
    operation       TEXT    NOT NULL,
    status          TEXT    NOT NULL,  -- pending | running | done | failed | interrupted
    started_ms      INTEGER,
    finished_ms     INTEGER,
    attempts        INTEGER NOT NULL DEFAULT 0,
    request_id      TEXT,
    error_code      TEXT,
    error_message   TEXT,
    output          TEXT,              -- JSON: what the step made (ids, ARNs, DNS name)
    PRIMARY KEY (plan_id, idx)
);

CREATE TABLE gateway_status (
    gateway_id      INTEGER PRIMARY KEY REFERENCES gateways (id) ON DELETE CASCADE,
    observed_at     INTEGER,
    actual          TEXT,              -- JSON of app::plan::actual::Actual
    -- in_sync | applying | awaiting_approval | drift | waiting | error | deleting
    state           TEXT    NOT NULL,
    message         TEXT    NOT NULL,
    failures        INTEGER NOT NULL DEFAULT 0
);
