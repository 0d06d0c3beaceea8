-- API keys: what admins issued. The value is AWS's alone: Portico keeps AWS's key id and the
-- last four characters (to recognise a key), never the value.
CREATE TABLE api_keys (
    id            INTEGER PRIMARY KEY,
    gateway_id    INTEGER NOT NULL REFERENCES gateways (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    owner         TEXT    NOT NULL,
    description   TEXT    NOT NULL DEFAULT '',
    plans         TEXT    NOT NULL,      -- JSON array of usage-plan names
    enabled       INTEGER NOT NULL,      -- the admin's switch
    expires_at    INTEGER,               -- unix seconds; the worker disables the key from then
    created_by    TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    aws_id        TEXT,                  -- set once the worker made it in AWS
    hint          TEXT,                  -- the value's last 4 characters
    revealed_at   INTEGER,               -- the value was shown (once, to its issuer)
    revoked_at    INTEGER,
    revoked_by    TEXT,
    delete_after  INTEGER,               -- a revoked key is deleted from AWS from then
    rotated_from  INTEGER REFERENCES api_keys (id),
    replaced_at   INTEGER,               -- a rotation replaced this key then
    disable_at    INTEGER,               -- … and it stops working from then (the grace period)
    deleted_at    INTEGER                -- gone from AWS; the row stays for the record
);
CREATE INDEX api_keys_by_gateway ON api_keys (gateway_id, id);
