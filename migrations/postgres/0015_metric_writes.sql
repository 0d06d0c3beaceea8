-- PostgreSQL's side of sqlite/0015_metric_writes.sql.
ALTER TABLE metric_reads ADD COLUMN writes BIGINT NOT NULL DEFAULT 0;
