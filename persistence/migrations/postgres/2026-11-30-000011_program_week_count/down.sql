DROP TRIGGER programs_week_count ON programs;
DROP FUNCTION programs_count_weeks();
ALTER TABLE programs DROP COLUMN week_count;
