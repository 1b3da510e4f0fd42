-- SQLite cannot drop a column's UNIQUE constraint: the tokens table is rebuilt without them.
CREATE TABLE tokens_rebuilt (
    id TEXT PRIMARY KEY NOT NULL,
    code_hash TEXT,
    code_expires INTEGER,
    code_redeemed_at INTEGER,
    access_token_hash TEXT,
    access_token_expires INTEGER,
    refresh_token_hash TEXT,
    refresh_token_expires INTEGER,
    id_token_hash TEXT,
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
-- Each secret is unique where a record has it. A record holds one to three of the four secrets (a client
-- credentials grant only an access token), so the indexes leave out the records without it instead of
-- keeping an entry for every NULL.
CREATE UNIQUE INDEX tokens_by_code ON tokens (code_hash) WHERE code_hash IS NOT NULL;
CREATE UNIQUE INDEX tokens_by_access_token ON tokens (access_token_hash) WHERE access_token_hash IS NOT NULL;
CREATE UNIQUE INDEX tokens_by_refresh_token ON tokens (refresh_token_hash) WHERE refresh_token_hash IS NOT NULL;
CREATE UNIQUE INDEX tokens_by_id_token ON tokens (id_token_hash) WHERE id_token_hash IS NOT NULL;
-- Machine-to-machine records have no owner: they need no entry in the owner's listing.
CREATE INDEX tokens_by_username ON tokens (username, created_at, id) WHERE username IS NOT NULL;
CREATE INDEX tokens_by_client ON tokens (client_id, created_at, id);
CREATE INDEX tokens_by_family ON tokens (family_id);
CREATE INDEX tokens_by_created ON tokens (created_at, id);

-- Servers keep clients in memory. Every change to the clients table gives the `clients` row a new random
-- version in the same transaction; a server reads it per request and uses a cached client only while the
-- version is the one it was cached under. Random, not counted: a version from a rolled-back change never
-- comes back, so a client cached from a transaction that did not commit can never match.
CREATE TABLE change_versions (
    topic TEXT PRIMARY KEY NOT NULL,
    version INTEGER NOT NULL
);
INSERT INTO change_versions (topic, version) VALUES ('clients', random());
CREATE TRIGGER clients_changed_by_insert AFTER INSERT ON clients
BEGIN UPDATE change_versions SET version = random() WHERE topic = 'clients'; END;
CREATE TRIGGER clients_changed_by_update AFTER UPDATE ON clients
BEGIN UPDATE change_versions SET version = random() WHERE topic = 'clients'; END;
CREATE TRIGGER clients_changed_by_delete AFTER DELETE ON clients
BEGIN UPDATE change_versions SET version = random() WHERE topic = 'clients'; END;
