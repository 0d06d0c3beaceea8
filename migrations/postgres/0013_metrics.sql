-- PostgreSQL's side of sqlite/0013_metrics.sql.
CREATE TABLE metric_points (
    gateway_id  BIGINT           NOT NULL REFERENCES gateways (id) ON DELETE CASCADE,
    series      TEXT             NOT NULL,
    period      BIGINT           NOT NULL,
    at          BIGINT           NOT NULL,
    value       DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (gateway_id, series, period, at)
);

CREATE TABLE metric_reads (
    gateway_id         BIGINT PRIMARY KEY REFERENCES gateways (id) ON DELETE CASCADE,
    read_until         BIGINT NOT NULL,
    hourly_read_until  BIGINT NOT NULL DEFAULT 0,
    asked_at           BIGINT NOT NULL,
    error              TEXT
);
