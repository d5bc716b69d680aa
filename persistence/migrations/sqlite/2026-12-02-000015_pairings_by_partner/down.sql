DROP TRIGGER pairings_by_partner_on_insert;
DROP TABLE pairings_by_partner;
