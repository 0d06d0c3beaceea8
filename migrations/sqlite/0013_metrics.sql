-- Traffic read from CloudWatch: one row per gateway, series and period start. A series is
-- `stage/{name}/{metric}/{statistic}` (Count/Sum, 5XXError/Sum, Latency/p99 …); points are
-- kept two days (`portico_store::metrics::KEPT_SECONDS`).
CREATE TABLE metric_points (
    gateway_id  INTEGER NOT NULL REFERENCES gateways (id) ON DELETE CASCADE,
    series      TEXT    NOT NULL,
    period      INTEGER NOT NULL,  -- seconds
    at          INTEGER NOT NULL,  -- the period's start, unix seconds
    value       REAL    NOT NULL,
    PRIMARY KEY (gateway_id, series, period, at)
) WITHOUT ROWID;

-- Per gateway: up to when CloudWatch has been read (so each refresh asks only for new
-- periods): what health needs every read, the charts' other series once an hour; when it
-- was last asked, and its last error (shown, never fatal to health).
CREATE TABLE metric_reads (
    gateway_id         INTEGER PRIMARY KEY REFERENCES gateways (id) ON DELETE CASCADE,
    read_until         INTEGER NOT NULL,
    hourly_read_until  INTEGER NOT NULL DEFAULT 0,
    asked_at           INTEGER NOT NULL,
    error              TEXT
);
