-- How the user signed in (RFC 8176 `amr` values, space separated). Sessions before this were all password logins.
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';

-- The client a user's personal tokens belong to exists from the start, so that creating the first personal
-- tokens at once cannot race to insert it. It has no grant, no secret and no scope, and cannot authenticate.
INSERT INTO clients (id, name, secret_hash, jwks, redirect_uris, grant_types, scope, access_token_ttl,
                     refresh_token_ttl, id_token_alg, created_at, updated_at)
VALUES ('latchkey', 'Personal tokens', NULL, NULL, '[]', '', '', 3600, NULL, 'RS256', 0, 0)
ON CONFLICT (id) DO NOTHING;

-- Lifetimes now have bounds (a week for access tokens, ten years for refresh tokens); clients registered
-- with longer ones get the bound, so that they can still be changed and every time computed from them fits.
UPDATE clients SET access_token_ttl = 604800 WHERE access_token_ttl > 604800;
UPDATE clients SET refresh_token_ttl = 316224000 WHERE refresh_token_ttl > 316224000;
