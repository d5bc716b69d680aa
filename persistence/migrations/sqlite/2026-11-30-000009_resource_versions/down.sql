ALTER TABLE check_in_entries DROP COLUMN version;
ALTER TABLE reports DROP COLUMN version;
ALTER TABLE notifications DROP COLUMN version;
ALTER TABLE memberships DROP COLUMN version;
ALTER TABLE pairings DROP COLUMN version;
