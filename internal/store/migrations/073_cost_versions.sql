-- Cluster mode's cost store: the version of each (tenant, source, billing
-- period) whose immutable files in object storage replicas read. A load
-- uploads a new version's files, then swaps this pointer in one
-- transaction, so a reader sees the old version whole or the new one.
CREATE TABLE cost_versions (
    tenant_id      TEXT NOT NULL REFERENCES tenants(id),
    source         TEXT NOT NULL,
    billing_period TEXT NOT NULL,
    version        TEXT NOT NULL UNIQUE,
    manifest       TEXT NOT NULL, -- JSON: the load's ledger fields and object keys
    committed_at   TEXT NOT NULL,
    PRIMARY KEY (tenant_id, source, billing_period)
);

-- Versions replaced by a newer one: their objects are deleted once no
-- reader can still be using them (a grace period after retirement).
CREATE TABLE cost_versions_retired (
    version        TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants(id),
    source         TEXT NOT NULL,
    billing_period TEXT NOT NULL,
    manifest       TEXT NOT NULL,
    retired_at     TEXT NOT NULL
);
CREATE INDEX cost_versions_retired_at ON cost_versions_retired(retired_at);
