-- Where each user has signed in before: an address group (an IPv4 address, or an IPv6 /64) or a browser
-- (the SHA-256 of its long-lived device cookie). A password from a known source is counted against its own
-- budget, never against the account's lock, so that nobody else's guesses can shut the user out.
CREATE TABLE known_sign_ins (
    username TEXT NOT NULL,
    source TEXT NOT NULL,
    signed_in_at BIGINT NOT NULL,
    PRIMARY KEY (username, source)
);
CREATE INDEX known_sign_ins_by_age ON known_sign_ins (signed_in_at);
