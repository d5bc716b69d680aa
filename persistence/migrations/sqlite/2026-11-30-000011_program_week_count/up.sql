-- How many weeks a program's guide holds, stored beside it: pairing views only need the
-- count, and reading the whole guide (several kilobytes, over SQLite's overflow pages)
-- for each pairing of a list cost more than the rest of the query.
ALTER TABLE programs ADD COLUMN week_count INTEGER NOT NULL DEFAULT 0;
UPDATE programs SET week_count = json_array_length(weeks);
-- The database keeps the count, whoever writes the guide: also a node of the previous
-- release, which knows nothing of the column, during a rolling deploy.
CREATE TRIGGER programs_week_count_on_insert AFTER INSERT ON programs
BEGIN
    UPDATE programs SET week_count = json_array_length(NEW.weeks) WHERE id = NEW.id;
END;
CREATE TRIGGER programs_week_count_on_update AFTER UPDATE OF weeks ON programs
BEGIN
    UPDATE programs SET week_count = json_array_length(NEW.weeks) WHERE id = NEW.id;
END;
