-- API tokens: a token is shown once; only its SHA-256 is kept.
-- tenant_id is NULL for operator tokens (they may act on every tenant).
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,                 -- short public ID, e.g. tok_1a2b3c4d5e6f
    tenant_id    TEXT REFERENCES tenants(id),      -- NULL = operator
    name         TEXT NOT NULL,
    scope        TEXT NOT NULL CHECK (scope IN ('read', 'admin')),
    hash         TEXT NOT NULL UNIQUE,             -- hex SHA-256 of the full token
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);
CREATE INDEX api_tokens_tenant ON api_tokens(tenant_id);
