DELETE FROM change_versions WHERE topic = 'readiness';
