-- A program's guide is written with the program and never changed: each node keeps the
-- guides it parsed (persistence/src/guides.rs), which stay right only while this holds.
CREATE TRIGGER programs_guide_fixed BEFORE UPDATE OF weeks ON programs
WHEN NEW.weeks IS NOT OLD.weeks
BEGIN
    SELECT RAISE(ABORT, 'programs_guide_fixed');
END;
