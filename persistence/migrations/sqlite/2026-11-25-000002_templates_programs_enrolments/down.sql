DROP TABLE enrolments;
DROP TABLE programs;
DROP TABLE custom_templates;
