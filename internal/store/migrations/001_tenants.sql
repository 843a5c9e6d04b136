-- Tenants: one customer of a crossbill operator (or the operator itself).
CREATE TABLE tenants (
    id         TEXT PRIMARY KEY,            -- UUID
    name       TEXT NOT NULL UNIQUE,        -- human name, used on the CLI
    created_at TEXT NOT NULL                -- RFC 3339 UTC
);
