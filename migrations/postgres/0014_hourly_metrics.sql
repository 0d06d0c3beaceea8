-- PostgreSQL's side of sqlite/0014_hourly_metrics.sql.
ALTER TABLE metric_reads RENAME COLUMN hourly_read_until TO extras_read_until;
ALTER TABLE metric_reads ADD COLUMN points_read_until BIGINT NOT NULL DEFAULT 0;
ALTER TABLE metric_reads ADD COLUMN resources TEXT NOT NULL DEFAULT '';
