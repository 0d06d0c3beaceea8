-- The 30-day view and the measured cost read hourly points (period 3600: each stage's
-- series, the load balancer's bytes and flows, each target group's hosts), kept 31 days;
-- how far they have been read, beside the five-minute series' cursors. `resources` names
-- (as a fingerprint) the stages, load balancer and target groups the cursors are for: when
-- they change, the next read starts over, so a new one's past is read too.
ALTER TABLE metric_reads ADD COLUMN month_read_until INTEGER NOT NULL DEFAULT 0;
ALTER TABLE metric_reads ADD COLUMN resources TEXT NOT NULL DEFAULT '';
