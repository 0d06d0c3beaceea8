-- Prices read from the AWS Price List API by `portico prices refresh`, overriding the embedded
-- table for their region.
CREATE TABLE prices (
    region        TEXT    PRIMARY KEY,
    prices        TEXT    NOT NULL,   -- JSON of app::cost::prices::Prices
    refreshed_at  INTEGER NOT NULL
);
