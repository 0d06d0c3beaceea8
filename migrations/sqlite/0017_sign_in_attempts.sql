-- Sign-in attempts, for the throttle (app/src/throttle.rs): in the database, so that every
-- server on it counts the same attempts, and a guess sent to another server behind the load
-- balancer counts too. An attempt is written before its password is checked and taken back
-- by a right password; rows past the throttle's window are deleted at the next attempt.
CREATE TABLE sign_in_attempts (
    id       INTEGER PRIMARY KEY,
    account  TEXT    NOT NULL,   -- the name tried (lower case) and the address it came from
    address  TEXT    NOT NULL,   -- the address (IPv6: its /64)
    at_ms    INTEGER NOT NULL    -- unix milliseconds
);
CREATE INDEX sign_in_attempts_by_account ON sign_in_attempts (account, at_ms);
CREATE INDEX sign_in_attempts_by_address ON sign_in_attempts (address, at_ms);
CREATE INDEX sign_in_attempts_by_time ON sign_in_attempts (at_ms);
