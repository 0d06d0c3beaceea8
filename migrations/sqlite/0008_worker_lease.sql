-- The worker lease: of all the `portico serve` processes on this database, only the one named
-- here writes to AWS. It is taken and renewed by compare-and-set (one UPDATE that succeeds only
-- for the holder, or for anyone once it has expired), and checked before every AWS write, so a
-- holder that lost it stops before its next call. At most one row.
CREATE TABLE worker_lease (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    holder       TEXT    NOT NULL,   -- "host pid nonce" of the holding process
    acquired_ms  INTEGER NOT NULL,   -- when this holder took it (unix ms)
    renewed_ms   INTEGER NOT NULL,
    expires_ms   INTEGER NOT NULL
);
