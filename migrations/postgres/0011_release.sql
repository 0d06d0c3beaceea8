-- PostgreSQL's side of sqlite/0011_release.sql.
ALTER TABLE gateways ADD COLUMN releasing BOOLEAN NOT NULL DEFAULT FALSE;
