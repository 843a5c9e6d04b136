-- PostgreSQL variant of 010_connections.sql (same tables and rules).
-- rowid stands in for SQLite's implicit rowid: queries order connections
-- created in the same second by it.
CREATE TABLE connections (
    id            TEXT COLLATE "C" PRIMARY KEY,
    tenant_id     TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
    external_id   TEXT COLLATE "C" NOT NULL UNIQUE,
    hub_principal TEXT COLLATE "C" NOT NULL,
    modules       TEXT COLLATE "C" NOT NULL,
    role_arn      TEXT COLLATE "C" UNIQUE,
    account_id    TEXT COLLATE "C",
    status        TEXT COLLATE "C" NOT NULL CHECK (status IN ('pending', 'verified', 'failed', 'inactive')),
    created_at    TEXT COLLATE "C" NOT NULL,
    updated_at    TEXT COLLATE "C" NOT NULL,
    rowid         BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX connections_tenant ON connections(tenant_id, created_at);

CREATE TABLE account_owners (
    account_id TEXT COLLATE "C" PRIMARY KEY,
    tenant_id  TEXT COLLATE "C" NOT NULL REFERENCES tenants(id)
);

CREATE FUNCTION connections_external_id_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'external_id is immutable';
END;
$$;
CREATE TRIGGER connections_external_id_immutable
BEFORE UPDATE OF external_id ON connections
FOR EACH ROW WHEN (NEW.external_id IS DISTINCT FROM OLD.external_id)
EXECUTE FUNCTION connections_external_id_immutable();
