DROP TABLE session_revocations;
