-- When the reminder job next has something to do for a pairing; NULL once nothing ever
-- will (ended or completed). The job reads only rows whose time has come, through the
-- partial index: a run with nothing due touches no pairing.
ALTER TABLE pairings ADD COLUMN next_event_at TIMESTAMP;
UPDATE pairings SET next_event_at = created_at WHERE status = 'active';
CREATE INDEX pairings_next_event ON pairings (next_event_at) WHERE next_event_at IS NOT NULL;

-- Each partner's entry for a check-in of their pairing. The schedule itself is derived,
-- never stored.
CREATE TABLE check_in_entries (
    pairing_id TEXT NOT NULL REFERENCES pairings (id) ON DELETE CASCADE,
    number INTEGER NOT NULL CHECK (number BETWEEN 1 AND 52),
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    note TEXT,
    completed_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (pairing_id, number, user_id)
);

-- The secret of each user's calendar feed, stored hashed: one per user, replaced on rotation.
CREATE TABLE calendar_tokens (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);
