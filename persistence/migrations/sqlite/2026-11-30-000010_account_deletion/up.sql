-- A deleted account stays as a tombstone row, so the pairings and enrolments that
-- admins count keep their users; everything personal in it is overwritten on deletion.
ALTER TABLE users ADD COLUMN deleted_at TIMESTAMP;
