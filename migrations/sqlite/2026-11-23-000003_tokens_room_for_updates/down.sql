-- PostgreSQL only (fillfactor); SQLite rewrites rows in place already. The migration exists here so that
-- both folders keep the same names.
SELECT 1;
