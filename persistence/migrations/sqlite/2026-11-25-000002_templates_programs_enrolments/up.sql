-- Custom templates of a group. The content (questions, guide) is one JSON document:
-- it is always read and written whole, and validated by the domain before it is stored.
CREATE TABLE custom_templates (
    id TEXT PRIMARY KEY,
    group_id TEXT NOT NULL REFERENCES community_groups (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    language TEXT NOT NULL CHECK (language IN ('en', 'it')),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    duration_weeks INTEGER NOT NULL CHECK (duration_weeks BETWEEN 1 AND 52),
    cadence_days INTEGER NOT NULL CHECK (cadence_days BETWEEN 1 AND 31),
    questions TEXT NOT NULL,
    weeks TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (group_id, key)
);

-- A program holds its own copy of the template content, so template edits never
-- change a running program.
CREATE TABLE programs (
    id TEXT PRIMARY KEY,
    group_id TEXT NOT NULL REFERENCES community_groups (id) ON DELETE CASCADE,
    template_key TEXT NOT NULL,
    language TEXT NOT NULL CHECK (language IN ('en', 'it')),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    description TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'open', 'closed', 'archived')),
    matching TEXT NOT NULL CHECK (matching IN ('admin', 'auto')),
    duration_weeks INTEGER NOT NULL CHECK (duration_weeks BETWEEN 1 AND 52),
    cadence_days INTEGER NOT NULL CHECK (cadence_days BETWEEN 1 AND 31),
    default_capacity INTEGER NOT NULL CHECK (default_capacity BETWEEN 1 AND 20),
    requires_approval BOOLEAN NOT NULL,
    auto_match_threshold INTEGER NOT NULL CHECK (auto_match_threshold BETWEEN 0 AND 100),
    questions TEXT NOT NULL,
    weeks TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX programs_group ON programs (group_id, id);

CREATE TABLE enrolments (
    id TEXT PRIMARY KEY,
    program_id TEXT NOT NULL REFERENCES programs (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('mentor', 'mentee')),
    status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'declined', 'withdrawn')),
    capacity INTEGER NOT NULL CHECK (capacity BETWEEN 1 AND 20),
    -- Active pairings held: kept beside capacity so the database refuses overbooking.
    active_pairings INTEGER NOT NULL DEFAULT 0 CHECK (active_pairings >= 0 AND active_pairings <= capacity),
    answers TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (program_id, user_id, role)
);
CREATE INDEX enrolments_program ON enrolments (program_id, id);
CREATE INDEX enrolments_user ON enrolments (user_id);
