-- How many weeks a program's guide holds, stored beside it: pairing views only need the
-- count, not the whole guide (several kilobytes) for each pairing of a list.
ALTER TABLE programs ADD COLUMN week_count INTEGER NOT NULL DEFAULT 0;
UPDATE programs SET week_count = json_array_length(weeks::json);
-- The database keeps the count, whoever writes the guide: also a node of the previous
-- release, which knows nothing of the column, during a rolling deploy.
CREATE FUNCTION programs_count_weeks() RETURNS trigger AS $$
BEGIN
    NEW.week_count := json_array_length(NEW.weeks::json);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER programs_week_count BEFORE INSERT OR UPDATE OF weeks ON programs
    FOR EACH ROW EXECUTE FUNCTION programs_count_weeks();
