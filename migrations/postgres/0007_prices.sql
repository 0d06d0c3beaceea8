-- PostgreSQL's side of sqlite/0007_prices.sql.
CREATE TABLE prices (
    region        TEXT   PRIMARY KEY,
    prices        TEXT   NOT NULL,
    refreshed_at  BIGINT NOT NULL
);
