CREATE TABLE check_in_entries_by_rowid (
    pairing_id TEXT NOT NULL REFERENCES pairings (id) ON DELETE CASCADE,
    number INTEGER NOT NULL CHECK (number BETWEEN 1 AND 52),
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    note TEXT,
    completed_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (pairing_id, number, user_id)
);
INSERT INTO check_in_entries_by_rowid
    (pairing_id, number, user_id, rating, note, completed_at, updated_at, version)
SELECT pairing_id, number, user_id, rating, note, completed_at, updated_at, version
FROM check_in_entries;
DROP TABLE check_in_entries;
ALTER TABLE check_in_entries_by_rowid RENAME TO check_in_entries;
