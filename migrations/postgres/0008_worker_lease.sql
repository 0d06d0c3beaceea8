-- PostgreSQL's side of sqlite/0008_worker_lease.sql.
CREATE TABLE worker_lease (
    id           BIGINT PRIMARY KEY CHECK (id = 1),
    holder       TEXT   NOT NULL,
    acquired_ms  BIGINT NOT NULL,
    renewed_ms   BIGINT NOT NULL,
    expires_ms   BIGINT NOT NULL
);
