DROP TABLE client_assertions;
DROP TABLE login_failures;
DROP TABLE consents;
DROP TABLE sessions;
DROP TABLE signing_keys;
