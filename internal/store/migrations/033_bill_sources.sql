-- Where a connection's bill (CUR 2.0 export) is read from, as registered by
-- Flexera-style bill connects: account, bucket and path prefix.
CREATE TABLE bill_sources (
    connection_id   TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id),
    bill_account_id TEXT NOT NULL,
    bucket          TEXT NOT NULL,
    path            TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX bill_sources_tenant ON bill_sources(tenant_id);
