-- Saved views: a tenant's named cost queries (analyst and up save them,
-- every role reads them). See internal/store/costviews.go.
CREATE TABLE cost_views (
    id         TEXT PRIMARY KEY,                     -- cv_..., public
    tenant_id  TEXT NOT NULL REFERENCES tenants(id),
    name       TEXT NOT NULL,
    query      TEXT NOT NULL,                        -- JSON of the query (costs.ViewQuery)
    created_by TEXT NOT NULL,                        -- the actor, as audit lines name it
    person     TEXT NOT NULL DEFAULT '',             -- the person's email (or subject) when a person saved it
    created_at TEXT NOT NULL,
    UNIQUE (tenant_id, name)
);
