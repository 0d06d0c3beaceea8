-- Counts the times a gateway's reads were stored after the first (points or an error): the
-- pages keep what they drew from a gateway's points under this count, so any stored read, by
-- whichever server, makes them draw again.
ALTER TABLE metric_reads ADD COLUMN writes INTEGER NOT NULL DEFAULT 0;
