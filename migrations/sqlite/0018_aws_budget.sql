-- The part of AWS's request buckets kept for the calls pages make (a key's value shown once,
-- an adoption's reads and tags), on whichever server serves the page: each bucket's tokens as
-- last counted, so every server on the database takes from the same buckets and their calls
-- and the worker's together stay within AWS's quotas (server/src/aws/pace.rs).
CREATE TABLE aws_budget (
    account  TEXT    NOT NULL,   -- the role called as ('default': Portico's own credentials)
    region   TEXT    NOT NULL,
    bucket   TEXT    NOT NULL,   -- service and bucket: 'apigateway:all', 'elbv2:Describe*' …
    tokens   REAL    NOT NULL,
    at_ms    INTEGER NOT NULL,   -- when they were counted (unix ms, the database's clock)
    PRIMARY KEY (account, region, bucket)
);
