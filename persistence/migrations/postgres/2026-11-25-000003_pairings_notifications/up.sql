CREATE TABLE pairings (
    id TEXT PRIMARY KEY,
    program_id TEXT NOT NULL REFERENCES programs (id) ON DELETE CASCADE,
    mentor_enrolment_id TEXT NOT NULL REFERENCES enrolments (id) ON DELETE CASCADE,
    mentee_enrolment_id TEXT NOT NULL REFERENCES enrolments (id) ON DELETE CASCADE,
    mentor_user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    mentee_user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    introduction TEXT NOT NULL CHECK (length(introduction) BETWEEN 1 AND 2000),
    status TEXT NOT NULL CHECK (status IN ('active', 'completed', 'ended')),
    started_on DATE NOT NULL,
    created_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP,
    ended_by TEXT,
    end_reason TEXT,
    -- Nobody is paired with themselves.
    CHECK (mentor_user_id <> mentee_user_id),
    CHECK (mentor_enrolment_id <> mentee_enrolment_id)
);
-- A mentee has at most one active pairing (an enrolment belongs to one program).
-- Mentor capacity is held by enrolments.active_pairings <= capacity.
CREATE UNIQUE INDEX pairings_one_active_per_mentee ON pairings (mentee_enrolment_id) WHERE status = 'active';
CREATE INDEX pairings_program ON pairings (program_id, id);
CREATE INDEX pairings_mentor_user ON pairings (mentor_user_id);
CREATE INDEX pairings_mentee_user ON pairings (mentee_user_id);

CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    data TEXT NOT NULL,
    -- Set by producers that may run more than once (jobs on several nodes): the same
    -- key is stored once.
    dedupe_key TEXT UNIQUE,
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP
);
CREATE INDEX notifications_user ON notifications (user_id, id);
