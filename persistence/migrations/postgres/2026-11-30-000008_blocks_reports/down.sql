DROP TRIGGER pairings_blocked_pair ON pairings;
DROP FUNCTION pairings_refuse_blocked_pair();
DROP TABLE reports;
DROP TABLE blocks;
