-- The reserved client stays: deleting it would delete every personal token with it.
ALTER TABLE sessions DROP COLUMN amr;
