-- PostgreSQL alone needs room on its pages (fillfactor); SQLite rewrites rows in place already.

-- Operators list every token, newest first, a page at a time.
CREATE INDEX tokens_by_created ON tokens (created_at, id);
