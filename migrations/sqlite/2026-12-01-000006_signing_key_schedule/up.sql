-- A new key is published before it signs: it signs from `signs_from`, once every server has had time to
-- load it into its JWKS (and relying parties to refetch theirs). Keys made before this signed from creation.
ALTER TABLE signing_keys ADD COLUMN signs_from BIGINT NOT NULL DEFAULT 0;
UPDATE signing_keys SET signs_from = created_at;

-- Servers that started together on an empty database could each make a key set. The newest active key of
-- each algorithm keeps signing; the others stop now and stay published for a week, the longest lifetime of
-- anything they can have signed.
UPDATE signing_keys
SET retired_at = CAST(strftime('%s', 'now') AS BIGINT), expires_at = CAST(strftime('%s', 'now') AS BIGINT) + 604800
WHERE retired_at IS NULL
  AND EXISTS (SELECT 1 FROM signing_keys AS newer
              WHERE newer.alg = signing_keys.alg AND newer.retired_at IS NULL
                AND (newer.created_at, newer.kid) > (signing_keys.created_at, signing_keys.kid));

-- One key of each algorithm that has not been retired: a second server that tries to make one at the same
-- time fails on this and loads the first one's instead.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (alg) WHERE retired_at IS NULL;
