-- PostgreSQL's side of sqlite/0018_aws_budget.sql.
CREATE TABLE aws_budget (
    account  TEXT             NOT NULL,
    region   TEXT             NOT NULL,
    bucket   TEXT             NOT NULL,
    tokens   DOUBLE PRECISION NOT NULL,
    at_ms    BIGINT           NOT NULL,
    PRIMARY KEY (account, region, bucket)
);
