DROP TABLE tokens;
DROP TABLE users;
DROP TABLE clients;
