-- Each pairing once per partner, in the partner's key order, with the group whose
-- membership decides whether they still see it. `GET /v1/me/pairings` walks one user's
-- rows newest first and stops after a page, instead of merging the mentor and mentee
-- indexes and sorting every pairing of the user (docs/performance.md, step 31). A
-- pairing's partners and its program's group never change, and the rows go with their
-- pairing. The group rides in the key's index so that the walk needs no table row.
CREATE TABLE pairings_by_partner (
    user_id TEXT NOT NULL,
    pairing_id TEXT NOT NULL REFERENCES pairings (id) ON DELETE CASCADE,
    group_id TEXT NOT NULL,
    PRIMARY KEY (user_id, pairing_id) INCLUDE (group_id)
);
-- The cascade from a pairing looks its rows up by pairing.
CREATE INDEX pairings_by_partner_pairing ON pairings_by_partner (pairing_id);
INSERT INTO pairings_by_partner (user_id, pairing_id, group_id)
    SELECT p.mentor_user_id, p.id, pr.group_id FROM pairings p JOIN programs pr ON pr.id = p.program_id
    UNION ALL
    SELECT p.mentee_user_id, p.id, pr.group_id FROM pairings p JOIN programs pr ON pr.id = p.program_id;
-- Written by the database with every pairing, so that a node of the previous release,
-- which knows nothing of this table, cannot leave a pairing out of its partners' lists.
CREATE FUNCTION pairings_by_partner_on_insert() RETURNS trigger AS $$
BEGIN
    INSERT INTO pairings_by_partner (user_id, pairing_id, group_id)
        SELECT partner, NEW.id, programs.group_id
        FROM programs, (VALUES (NEW.mentor_user_id), (NEW.mentee_user_id)) AS partners (partner)
        WHERE programs.id = NEW.program_id;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER pairings_by_partner_on_insert AFTER INSERT ON pairings
    FOR EACH ROW EXECUTE FUNCTION pairings_by_partner_on_insert();
