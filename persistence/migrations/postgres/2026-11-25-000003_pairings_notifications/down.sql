DROP TABLE notifications;
DROP TABLE pairings;
