-- Every resource answered on its own carries an ETag from its row's version, bumped by
-- each write that changes what a client reads (issue 11: conditional requests).
ALTER TABLE pairings ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE memberships ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE notifications ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE reports ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE check_in_entries ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
