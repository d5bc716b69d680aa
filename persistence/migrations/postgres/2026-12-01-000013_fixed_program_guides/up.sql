-- A program's guide is written with the program and never changed: each node keeps the
-- guides it parsed (persistence/src/guides.rs), which stay right only while this holds.
CREATE FUNCTION programs_guide_fixed() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'programs_guide_fixed' USING ERRCODE = 'check_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER programs_guide_fixed BEFORE UPDATE OF weeks ON programs
    FOR EACH ROW WHEN (NEW.weeks IS DISTINCT FROM OLD.weeks)
    EXECUTE FUNCTION programs_guide_fixed();
