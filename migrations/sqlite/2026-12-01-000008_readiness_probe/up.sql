-- `/readyz` commits a real change to this row: a write that changes nothing is not written at all (SQLite
-- skips it), so only a change shows a full disk or an unwritable log.
INSERT INTO change_versions (topic, version) VALUES ('readiness', 0);
