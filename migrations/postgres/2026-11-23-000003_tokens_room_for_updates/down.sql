ALTER TABLE tokens RESET (fillfactor);
