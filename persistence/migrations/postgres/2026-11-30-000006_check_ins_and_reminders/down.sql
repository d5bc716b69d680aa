DROP TABLE calendar_tokens;
DROP TABLE check_in_entries;
DROP INDEX pairings_next_event;
ALTER TABLE pairings DROP COLUMN next_event_at;
