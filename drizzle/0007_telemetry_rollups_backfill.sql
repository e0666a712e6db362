-- Readings stored before the roll-ups existed (a no-op on a new database):
-- the newest reading of each device, and every hour that holds a reading
-- marked dirty for every device, so that the server's roll-up passes build
-- their hourly and group rows in the background.
INSERT INTO latest_readings (device_id, ts, seq, "values")
SELECT DISTINCT ON (device_id) device_id, ts, seq, "values"
FROM readings
ORDER BY device_id, ts DESC, seq DESC;
--> statement-breakpoint
INSERT INTO rollup_dirty_hours (hour)
SELECT DISTINCT date_bin('1 hour', ts, TIMESTAMPTZ '1970-01-01 00:00:00+00')
FROM readings;
