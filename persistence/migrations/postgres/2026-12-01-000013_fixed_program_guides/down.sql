DROP TRIGGER programs_guide_fixed ON programs;
DROP FUNCTION programs_guide_fixed();
