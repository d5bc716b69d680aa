DROP TABLE memberships;
DROP TABLE community_groups;
DROP TABLE refresh_tokens;
DROP TABLE users;
