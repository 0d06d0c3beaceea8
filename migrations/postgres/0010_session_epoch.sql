-- PostgreSQL's side of sqlite/0010_session_epoch.sql.
ALTER TABLE users ADD COLUMN session_epoch BIGINT NOT NULL DEFAULT 0;
