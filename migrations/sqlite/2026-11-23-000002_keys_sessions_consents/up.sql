-- Signing keys. The private key is kept only as a JWE (dir, A256GCM) under the key-encryption key from the
-- configuration; the public half is a JWK. A retired key no longer signs but stays published until
-- `expires_at`, when every token it signed has expired.
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY NOT NULL,
    alg TEXT NOT NULL,
    private_key TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    retired_at INTEGER,
    expires_at INTEGER
);

-- Browser sessions, keyed by the SHA-256 of the cookie value. A session without a user is the pre-login
-- session that carries the CSRF token of the login form.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    username TEXT REFERENCES users (username) ON DELETE CASCADE,
    auth_time INTEGER,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_by_username ON sessions (username);

-- Remembered consent: the scopes a user has allowed a client.
CREATE TABLE consents (
    username TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (username, client_id)
);

-- Failed-login counters, per account (`user:NAME`) and per address (`ip:ADDR`).
CREATE TABLE login_failures (
    subject TEXT PRIMARY KEY NOT NULL,
    failures INTEGER NOT NULL,
    locked_until INTEGER,
    updated_at INTEGER NOT NULL
);

-- `jti`s of client assertions already used (private_key_jwt, RFC 7523 §3): a second use is refused.
CREATE TABLE client_assertions (
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    jti TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (client_id, jti)
);
