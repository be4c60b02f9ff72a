-- Revoked password-login sessions: one row per logout (`jti` set), or one row revoking
-- every session of a user issued up to `revoked_at` (`jti` NULL). A row can be dropped
-- once `expires_at` (the last moment a token it revokes could still be valid) has passed.
CREATE TABLE session_revocations (
    id TEXT PRIMARY KEY,
    jti TEXT UNIQUE,
    user_id TEXT NOT NULL,
    revoked_by TEXT NOT NULL,
    revoked_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

CREATE INDEX session_revocations_user ON session_revocations (user_id, revoked_at);
