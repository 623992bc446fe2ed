-- One-time sign-in links (`keepstar admin link`, `serve --demo`): only the token's SHA-256 is kept;
-- a link works once, until it expires.
CREATE TABLE admin_sign_in_links (
    id            INTEGER PRIMARY KEY,
    token_hash    BLOB NOT NULL UNIQUE,
    admin_user_id INTEGER NOT NULL REFERENCES admin_users (id) ON DELETE CASCADE,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    used_at       INTEGER
);
CREATE INDEX admin_sessions_user ON admin_sessions (admin_user_id);
