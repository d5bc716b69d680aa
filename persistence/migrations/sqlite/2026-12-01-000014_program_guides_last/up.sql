-- SQLite stores a row's columns in order and puts what does not fit in the page on
-- overflow pages. A program's summary (all a pairing's reads need of it) ended with
-- `week_count`, added by 000011 after the questions and the guide (about 6.4 KB
-- together), so every read of a summary walked the row's overflow chain, and the pages
-- the hot reads touch outgrew a connection's page cache at scale 10. The two large
-- columns move to the end; nothing else changes (PostgreSQL keeps large values out of
-- line by itself).
DROP TRIGGER programs_guide_fixed;
DROP TRIGGER programs_week_count_on_update;
DROP TRIGGER programs_week_count_on_insert;
ALTER TABLE programs ADD COLUMN questions_at_end TEXT NOT NULL DEFAULT '[]';
ALTER TABLE programs ADD COLUMN weeks_at_end TEXT NOT NULL DEFAULT '[]';
UPDATE programs SET questions_at_end = questions, weeks_at_end = weeks;
ALTER TABLE programs DROP COLUMN questions;
ALTER TABLE programs DROP COLUMN weeks;
ALTER TABLE programs RENAME COLUMN questions_at_end TO questions;
ALTER TABLE programs RENAME COLUMN weeks_at_end TO weeks;
-- As 000011 and 000013 made them.
CREATE TRIGGER programs_week_count_on_insert AFTER INSERT ON programs
BEGIN
    UPDATE programs SET week_count = json_array_length(NEW.weeks) WHERE id = NEW.id;
END;
CREATE TRIGGER programs_week_count_on_update AFTER UPDATE OF weeks ON programs
BEGIN
    UPDATE programs SET week_count = json_array_length(NEW.weeks) WHERE id = NEW.id;
END;
CREATE TRIGGER programs_guide_fixed BEFORE UPDATE OF weeks ON programs
WHEN NEW.weeks IS NOT OLD.weeks
BEGIN
    SELECT RAISE(ABORT, 'programs_guide_fixed');
END;
