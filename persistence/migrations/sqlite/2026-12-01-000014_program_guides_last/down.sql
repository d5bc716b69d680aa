-- Nothing to undo: the order of a table's columns carries no meaning for the queries,
-- which name their columns. (The moved columns keep a default of '[]', which no insert
-- relies on: every insert writes both.)
SELECT 1;
