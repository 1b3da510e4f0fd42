-- The inline UNIQUE constraints index every NULL too; partial unique indexes replace them.
ALTER TABLE tokens DROP CONSTRAINT tokens_code_hash_key;
ALTER TABLE tokens DROP CONSTRAINT tokens_access_token_hash_key;
ALTER TABLE tokens DROP CONSTRAINT tokens_refresh_token_hash_key;
ALTER TABLE tokens DROP CONSTRAINT tokens_id_token_hash_key;
DROP INDEX tokens_by_username;
-- Each secret is unique where a record has it. A record holds one to three of the four secrets (a client
-- credentials grant only an access token), so the indexes leave out the records without it instead of
-- keeping an entry for every NULL.
CREATE UNIQUE INDEX tokens_by_code ON tokens (code_hash) WHERE code_hash IS NOT NULL;
CREATE UNIQUE INDEX tokens_by_access_token ON tokens (access_token_hash) WHERE access_token_hash IS NOT NULL;
CREATE UNIQUE INDEX tokens_by_refresh_token ON tokens (refresh_token_hash) WHERE refresh_token_hash IS NOT NULL;
CREATE UNIQUE INDEX tokens_by_id_token ON tokens (id_token_hash) WHERE id_token_hash IS NOT NULL;
-- Machine-to-machine records have no owner: they need no entry in the owner's listing.
CREATE INDEX tokens_by_username ON tokens (username, created_at, id) WHERE username IS NOT NULL;

-- Servers keep clients in memory. Every change to the clients table gives the `clients` row a new random
-- version in the same transaction; a server reads it per request and uses a cached client only while the
-- version is the one it was cached under. Random, not counted (nor drawn from a sequence, which a restored
-- dump or a re-run migration would wind back): a version from a rolled-back change never comes back, so a
-- client cached from a transaction that did not commit can never match.
CREATE TABLE change_versions (
    topic TEXT PRIMARY KEY,
    version BIGINT NOT NULL
);
CREATE FUNCTION random_version() RETURNS BIGINT LANGUAGE sql VOLATILE AS $$
    SELECT ('x' || substr(md5(random()::text || clock_timestamp()::text), 1, 16))::bit(64)::bigint
$$;
INSERT INTO change_versions (topic, version) VALUES ('clients', random_version());
CREATE FUNCTION clients_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE change_versions SET version = random_version() WHERE topic = 'clients';
    RETURN NULL;
END
$$;
CREATE TRIGGER clients_changed AFTER INSERT OR UPDATE OR DELETE ON clients
FOR EACH STATEMENT EXECUTE FUNCTION clients_changed();
