ALTER TABLE programs DROP COLUMN week_count;
