-- What the two partners of a pairing write to each other. Only they read it; it goes
-- with the pairing and with its author's account.
CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    pairing_id TEXT NOT NULL REFERENCES pairings (id) ON DELETE CASCADE,
    author_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- A week of the guide (at most 52); its bound by the program is checked on posting.
    week INTEGER CHECK (week BETWEEN 1 AND 52),
    -- The API counts the longer of the text as sent and as stored (NFC), so the stored
    -- text is never above 4000 characters.
    body TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND 4000),
    created_at TIMESTAMP NOT NULL
);
-- Newest first per pairing, and per pairing and week (ids are UUIDv7: time order).
CREATE INDEX messages_pairing ON messages (pairing_id, id);
CREATE INDEX messages_pairing_week ON messages (pairing_id, week, id) WHERE week IS NOT NULL;
-- An account's messages go with it.
CREATE INDEX messages_author ON messages (author_id);
