-- Resource inventory (internal/inventory): the newest state of every
-- resource a tenant's connections showed, keyed by ARN within the tenant;
-- data is the resource as JSON (the inventory package owns its shape), the
-- other columns are what lists filter on. A resource not seen again by a
-- sync that read its (account, region, service) is removed; one whose read
-- failed keeps its last state and fetched time.
CREATE TABLE inventory_resources (
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    arn           TEXT NOT NULL,
    connection_id TEXT NOT NULL,
    account_id    TEXT NOT NULL,
    region        TEXT NOT NULL,
    service       TEXT NOT NULL,
    type          TEXT NOT NULL,
    fetched_at    TEXT NOT NULL,
    data          TEXT NOT NULL,
    PRIMARY KEY (tenant_id, arn)
);
CREATE INDEX inventory_resources_scope ON inventory_resources(tenant_id, account_id, service, type);

-- The utilization series of a resource over the sync's window, as JSON.
CREATE TABLE inventory_utilization (
    tenant_id  TEXT NOT NULL REFERENCES tenants(id),
    arn        TEXT NOT NULL,
    from_at    TEXT NOT NULL,
    to_at      TEXT NOT NULL,
    data       TEXT NOT NULL,
    PRIMARY KEY (tenant_id, arn)
);

-- One row per sync: counts and the parts that could not be read, per
-- (account, region, service), as JSON.
CREATE TABLE inventory_syncs (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    connection_id TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    finished_at   TEXT NOT NULL,
    accounts      INTEGER NOT NULL,
    regions       INTEGER NOT NULL,
    resources     INTEGER NOT NULL,
    failures      TEXT NOT NULL
);
CREATE INDEX inventory_syncs_tenant ON inventory_syncs(tenant_id, started_at);
