-- Clients (RFC 6749 §2). Secrets are stored only as SHA-256 hashes; a client authenticating with
-- private_key_jwt has its public keys (a JWK set) instead; a public client has neither.
CREATE TABLE clients (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    secret_hash TEXT,
    jwks TEXT,
    redirect_uris TEXT NOT NULL,
    grant_types TEXT NOT NULL,
    scope TEXT NOT NULL,
    access_token_ttl BIGINT NOT NULL,
    refresh_token_ttl BIGINT,
    id_token_alg TEXT NOT NULL DEFAULT 'RS256',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Resource owners. `subject` is the stable OpenID Connect `sub`; passwords are Argon2id PHC strings.
CREATE TABLE users (
    username TEXT PRIMARY KEY NOT NULL,
    subject TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    email TEXT,
    email_verified BOOLEAN NOT NULL DEFAULT FALSE,
    name TEXT,
    claims TEXT NOT NULL DEFAULT '{}',
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- The token record: one row per authorization. Every secret column holds a SHA-256 hash, never the secret.
-- Times are Unix seconds.
CREATE TABLE tokens (
    id TEXT PRIMARY KEY NOT NULL,
    code_hash TEXT UNIQUE,
    code_expires BIGINT,
    code_redeemed_at BIGINT,
    access_token_hash TEXT UNIQUE,
    access_token_expires BIGINT,
    refresh_token_hash TEXT UNIQUE,
    refresh_token_expires BIGINT,
    id_token_hash TEXT UNIQUE,
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    username TEXT REFERENCES users (username) ON DELETE CASCADE,
    issuer TEXT NOT NULL,
    audience TEXT NOT NULL,
    scope TEXT NOT NULL,
    scope_descriptions TEXT NOT NULL,
    grant_type TEXT NOT NULL,
    stage TEXT NOT NULL,
    state TEXT,
    redirect_uri TEXT,
    response_type TEXT,
    response_mode TEXT,
    nonce TEXT,
    code_challenge TEXT,
    code_challenge_method TEXT,
    auth_time BIGINT,
    properties TEXT NOT NULL,
    name TEXT,
    created_at BIGINT NOT NULL,
    active_at BIGINT,
    revoked_at BIGINT,
    family_id TEXT NOT NULL
);

-- Listings per owner and per client, newest first, with keyset pagination on (created_at, id).
CREATE INDEX tokens_by_username ON tokens (username, created_at, id);
CREATE INDEX tokens_by_client ON tokens (client_id, created_at, id);
CREATE INDEX tokens_by_family ON tokens (family_id);
