DROP TRIGGER pairings_blocked_pair;
DROP TABLE reports;
DROP TABLE blocks;
