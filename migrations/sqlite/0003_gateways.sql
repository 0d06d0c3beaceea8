-- Gateways and their desired topology. Every edit makes a new generation holding the whole,
-- normalised topology (JSON of app::model::topology::Topology): the planner reads the desired
-- state whole, history and restore are reads of older rows, and an apply is one insert.
CREATE TABLE gateways (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    generation  INTEGER NOT NULL,          -- the latest (desired) generation
    created_at  INTEGER NOT NULL,
    created_by  TEXT    NOT NULL
);

CREATE TABLE generations (
    gateway_id  INTEGER NOT NULL REFERENCES gateways (id) ON DELETE CASCADE,
    generation  INTEGER NOT NULL,
    topology    TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    at          INTEGER NOT NULL,          -- unix seconds, UTC
    summary     TEXT    NOT NULL,          -- "~ stage dev: backend_port 8080 → 8081; + route /x"
    changes     TEXT    NOT NULL,          -- JSON of Vec<app::model::diff::Change>
    PRIMARY KEY (gateway_id, generation)
);
