-- Where a tenant's cost queries run: absent, the local engine (DuckDB over
-- the loaded Parquet); engine 'athena', Amazon Athena over the customer's
-- CUR in place through one connection's role (the CUR stack's Athena
-- option). One row per tenant: one engine answers a tenant.
CREATE TABLE cost_engines (
    tenant_id     TEXT PRIMARY KEY REFERENCES tenants(id),
    connection_id TEXT NOT NULL,
    engine        TEXT NOT NULL,
    athena_table  TEXT NOT NULL DEFAULT '',
    workgroup     TEXT NOT NULL DEFAULT '',
    updated_at    TEXT NOT NULL
);
CREATE INDEX cost_engines_connection ON cost_engines(connection_id);
