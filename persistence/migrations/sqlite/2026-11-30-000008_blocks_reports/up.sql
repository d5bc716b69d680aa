-- A block: one partner of a pairing will never be paired with the other again in the
-- group. Stored once per unordered pair (user_low < user_high), whoever blocked first.
CREATE TABLE blocks (
    group_id TEXT NOT NULL REFERENCES community_groups (id) ON DELETE CASCADE,
    user_low TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_high TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocker_user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    pairing_id TEXT NOT NULL REFERENCES pairings (id) ON DELETE CASCADE,
    reason TEXT NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (group_id, user_low, user_high),
    CHECK (user_low < user_high),
    CHECK ((blocker_user_id = user_low AND blocked_user_id = user_high)
        OR (blocker_user_id = user_high AND blocked_user_id = user_low))
);

-- A partner's report about the other, for the group's admins.
CREATE TABLE reports (
    id TEXT PRIMARY KEY,
    group_id TEXT NOT NULL REFERENCES community_groups (id) ON DELETE CASCADE,
    program_id TEXT NOT NULL REFERENCES programs (id) ON DELETE CASCADE,
    pairing_id TEXT NOT NULL REFERENCES pairings (id) ON DELETE CASCADE,
    reporter_user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reported_user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reason TEXT NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
    status TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
    created_at TIMESTAMP NOT NULL,
    resolved_at TIMESTAMP,
    resolved_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    CHECK (reporter_user_id <> reported_user_id),
    CHECK ((status = 'open') = (resolved_at IS NULL))
);
CREATE INDEX reports_group ON reports (group_id, id);
CREATE INDEX reports_group_status ON reports (group_id, status, id);

-- The database holds the rule, whatever path writes the pairing: two members blocked in
-- a group are never paired in any of its programs. The message is the name the
-- application maps to a conflict (persistence/src/error.rs).
CREATE TRIGGER pairings_blocked_pair BEFORE INSERT ON pairings
WHEN EXISTS (
    SELECT 1 FROM blocks b JOIN programs p ON p.group_id = b.group_id
    WHERE p.id = NEW.program_id
      AND ((b.user_low = NEW.mentor_user_id AND b.user_high = NEW.mentee_user_id)
        OR (b.user_low = NEW.mentee_user_id AND b.user_high = NEW.mentor_user_id))
)
BEGIN
    SELECT RAISE(ABORT, 'pairings_blocked_pair');
END;
