-- The 30-day view and the measured cost read hourly points (period 3600: each stage's
-- series, the load balancer's bytes and flows, each target group's hosts), kept 31 days.
-- Cursors: `read_until` (what health needs), `extras_read_until` (the day's charts' other
-- five-minute series, read hourly; was `hourly_read_until`), `points_read_until` (the hourly
-- points). `resources` names (as a fingerprint) the stages, load balancer and target groups
-- they are for: when those change, the cursors start over, so a new one's past is read too
-- ('' for reads from before: they count as for what is read next).
ALTER TABLE metric_reads RENAME COLUMN hourly_read_until TO extras_read_until;
ALTER TABLE metric_reads ADD COLUMN points_read_until INTEGER NOT NULL DEFAULT 0;
ALTER TABLE metric_reads ADD COLUMN resources TEXT NOT NULL DEFAULT '';
