DROP TABLE pairings_by_partner;
