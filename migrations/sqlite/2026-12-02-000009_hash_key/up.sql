-- The key of every stored secret hash (HMAC-SHA-256), sealed under the key-encryption key. One row, made
-- once by the first server to start; the server also converts the plain SHA-256 hashes stored before it.
CREATE TABLE hash_keys (
    name TEXT PRIMARY KEY NOT NULL,
    sealed TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
