DROP TRIGGER programs_guide_fixed;
