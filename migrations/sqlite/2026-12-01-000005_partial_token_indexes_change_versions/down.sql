DROP TRIGGER clients_changed_by_delete;
DROP TRIGGER clients_changed_by_update;
DROP TRIGGER clients_changed_by_insert;
DROP TABLE change_versions;
CREATE TABLE tokens_rebuilt (
    id TEXT PRIMARY KEY NOT NULL,
    code_hash TEXT UNIQUE,
    code_expires INTEGER,
    code_redeemed_at INTEGER,
    access_token_hash TEXT UNIQUE,
    access_token_expires INTEGER,
    refresh_token_hash TEXT UNIQUE,
    refresh_token_expires INTEGER,
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
    auth_time INTEGER,
    properties TEXT NOT NULL,
    name TEXT,
    created_at INTEGER NOT NULL,
    active_at INTEGER,
    revoked_at INTEGER,
    family_id TEXT NOT NULL
);
INSERT INTO tokens_rebuilt (id, code_hash, code_expires, code_redeemed_at, access_token_hash, access_token_expires, refresh_token_hash, refresh_token_expires, id_token_hash, client_id, username, issuer, audience, scope, scope_descriptions, grant_type, stage, state, redirect_uri, response_type, response_mode, nonce, code_challenge, code_challenge_method, auth_time, properties, name, created_at, active_at, revoked_at, family_id)
SELECT id, code_hash, code_expires, code_redeemed_at, access_token_hash, access_token_expires, refresh_token_hash, refresh_token_expires, id_token_hash, client_id, username, issuer, audience, scope, scope_descriptions, grant_type, stage, state, redirect_uri, response_type, response_mode, nonce, code_challenge, code_challenge_method, auth_time, properties, name, created_at, active_at, revoked_at, family_id FROM tokens;
DROP TABLE tokens;
ALTER TABLE tokens_rebuilt RENAME TO tokens;
CREATE INDEX tokens_by_username ON tokens (username, created_at, id);
CREATE INDEX tokens_by_client ON tokens (client_id, created_at, id);
CREATE INDEX tokens_by_family ON tokens (family_id);
CREATE INDEX tokens_by_created ON tokens (created_at, id);
