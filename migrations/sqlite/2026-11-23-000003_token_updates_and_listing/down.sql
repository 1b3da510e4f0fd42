DROP INDEX tokens_by_created;
