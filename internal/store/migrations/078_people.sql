-- People who sign in through an identity provider (OIDC), their role in
-- each tenant, their server-side sessions, and the role an API token
-- carries. See internal/store/people.go.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,               -- usr_..., public
    issuer        TEXT NOT NULL,                  -- the IdP's issuer URL; 'local' for a person named by `token create --user`
    subject       TEXT NOT NULL,                  -- the IdP's sub claim
    email         TEXT NOT NULL DEFAULT '',
    name          TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL,
    last_login_at TEXT,
    UNIQUE (issuer, subject)
);
CREATE INDEX users_email ON users(email);

-- A person's role per tenant; tenant_id '' with role 'operator' is every
-- tenant. Set from the IdP's claims at each sign-in.
CREATE TABLE user_roles (
    user_id   TEXT NOT NULL REFERENCES users(id),
    tenant_id TEXT NOT NULL DEFAULT '',
    role      TEXT NOT NULL CHECK (role IN ('viewer', 'analyst', 'approver', 'admin', 'operator')),
    PRIMARY KEY (user_id, tenant_id)
);

-- Server-side sessions; the cookie holds a secret whose SHA-256 is kept.
CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,                -- ses_..., public (audit, sign-out everywhere)
    hash         TEXT NOT NULL UNIQUE,            -- hex SHA-256 of the cookie's secret
    user_id      TEXT REFERENCES users(id),       -- NULL for a break-glass operator session
    token_id     TEXT REFERENCES api_tokens(id),  -- the operator token a break-glass session signed in with
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL,                   -- absolute timeout
    revoked_at   TEXT
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expires ON sessions(expires_at);

-- Tokens carry a role ('' before this migration: derived from the scope,
-- read = viewer, admin = admin of the tenant, operator tokens = operator)
-- and may name the person they act for.
ALTER TABLE api_tokens ADD COLUMN role TEXT NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN user_id TEXT REFERENCES users(id);

-- The audit log becomes a hash chain (audit.go): each new line carries the
-- previous line's hash and its own; audit_head holds the last line so that
-- removing lines from the end is seen too, and serialises appends.
ALTER TABLE audit_log ADD COLUMN person_subject TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN person_email TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN hash TEXT NOT NULL DEFAULT '';
CREATE TABLE audit_head (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    last_id INTEGER NOT NULL,
    hash    TEXT NOT NULL
);
INSERT INTO audit_head(id, last_id, hash) SELECT 1, COALESCE(MAX(id), 0), '' FROM audit_log;
CREATE INDEX audit_log_actor ON audit_log(actor, id);

-- An approver's acknowledgement of an access review's findings.
CREATE TABLE review_acks (
    review_id  TEXT NOT NULL REFERENCES reviews(id),
    tenant_id  TEXT NOT NULL,
    actor      TEXT NOT NULL,
    person     TEXT NOT NULL DEFAULT '',
    note       TEXT NOT NULL DEFAULT '',
    at         TEXT NOT NULL,
    PRIMARY KEY (review_id)
);
