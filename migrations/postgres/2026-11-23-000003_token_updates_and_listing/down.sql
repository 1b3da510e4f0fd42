DROP INDEX tokens_by_created;
ALTER TABLE tokens RESET (fillfactor);
