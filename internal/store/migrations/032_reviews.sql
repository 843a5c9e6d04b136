-- Access reviews uploaded through the API: the source document and the
-- review's result as JSON (the review package owns its shape).
CREATE TABLE reviews (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id),
    name       TEXT NOT NULL,
    source     TEXT NOT NULL,
    result     TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX reviews_tenant ON reviews(tenant_id, created_at);
