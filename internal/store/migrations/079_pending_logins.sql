-- Sign-ins started at an identity provider and not yet finished: kept in
-- the database, not in one server's memory, so that the provider's
-- redirect may reach any replica. See internal/store/logins.go.
CREATE TABLE pending_logins (
    state_hash   TEXT PRIMARY KEY,   -- hex SHA-256 of the OAuth state; the state itself is not stored
    provider     TEXT NOT NULL,
    browser_hash TEXT NOT NULL,      -- hex SHA-256 of the login cookie: the browser that started it
    sealed       TEXT NOT NULL,      -- nonce and PKCE verifier, sealed under a key derived from the state
    expires_at   TEXT NOT NULL
);
CREATE INDEX pending_logins_expires ON pending_logins(expires_at);
