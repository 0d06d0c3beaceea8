-- A gateway an admin asked to release rather than delete: the worker removes Portico's tags
-- from what the gateway owns in AWS and then its rows, leaving every resource running (a
-- setup handed back to the console, or to another tool).
ALTER TABLE gateways ADD COLUMN releasing INTEGER NOT NULL DEFAULT 0;
