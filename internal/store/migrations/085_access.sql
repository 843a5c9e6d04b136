-- Access governance (internal/access): one row per sync of a connection's
-- identities and entitlements, holding the whole snapshot as JSON (the
-- access package owns its shape), and the changes each sync found against
-- the previous one, so that "what changed since yesterday" is one query
-- on access_changes.
CREATE TABLE access_syncs (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    connection_id TEXT NOT NULL REFERENCES connections(id),
    started_at    TEXT NOT NULL,
    finished_at   TEXT NOT NULL,
    accounts      INTEGER NOT NULL,
    errors        INTEGER NOT NULL,
    snapshot      TEXT NOT NULL
);
CREATE INDEX access_syncs_connection ON access_syncs(tenant_id, connection_id, started_at);

CREATE TABLE access_changes (
    sync_id       TEXT NOT NULL REFERENCES access_syncs(id),
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    connection_id TEXT NOT NULL,
    at            TEXT NOT NULL,
    kind          TEXT NOT NULL,
    principal     TEXT NOT NULL,
    account       TEXT NOT NULL,
    entitlement   TEXT NOT NULL,
    detail        TEXT NOT NULL
);
CREATE INDEX access_changes_tenant ON access_changes(tenant_id, at);
