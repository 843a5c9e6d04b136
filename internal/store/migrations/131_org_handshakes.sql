-- Invitations of customer accounts into the hub's commitment-sharing
-- organization (internal/orgshare): one row per AWS handshake, its state
-- as last read from AWS Organizations.
CREATE TABLE org_handshakes (
    id           TEXT PRIMARY KEY,                    -- AWS's handshake ID, h-...
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    account_id   TEXT NOT NULL,
    state        TEXT NOT NULL,                       -- open | accepted | declined | expired | cancelled
    requested_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    created_by   TEXT NOT NULL
);
CREATE INDEX org_handshakes_tenant ON org_handshakes(tenant_id, requested_at);
