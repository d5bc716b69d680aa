DROP TRIGGER programs_week_count_on_update;
DROP TRIGGER programs_week_count_on_insert;
ALTER TABLE programs DROP COLUMN week_count;
