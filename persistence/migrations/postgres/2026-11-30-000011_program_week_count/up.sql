-- How many weeks a program's guide holds, stored beside it: pairing views only need the
-- count, not the whole guide (several kilobytes) for each pairing of a list. A
-- program's weeks are written once, when it is made, so the count never goes stale.
ALTER TABLE programs ADD COLUMN week_count INTEGER NOT NULL DEFAULT 0;
UPDATE programs SET week_count = json_array_length(weeks::json);
