DROP TABLE pairings_by_partner;
DROP TRIGGER pairings_by_partner_on_insert ON pairings;
DROP FUNCTION pairings_by_partner_on_insert();
