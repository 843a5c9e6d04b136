-- Cost Explorer per connection: the day-zero cost load's progress and its
-- monthly request budget (every request costs the customer $0.01).
CREATE TABLE cost_explorer_state (
    connection_id  TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants(id),
    budget         INTEGER NOT NULL DEFAULT 0, -- requests a month; 0: the default
    loaded_from    TEXT NOT NULL DEFAULT '',   -- first day loaded, YYYY-MM-DD
    loaded_through TEXT NOT NULL DEFAULT '',   -- last day loaded, YYYY-MM-DD
    loaded_at      TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL DEFAULT '',
    message        TEXT NOT NULL DEFAULT '',
    updated_at     TEXT NOT NULL
);
CREATE INDEX cost_explorer_state_tenant ON cost_explorer_state(tenant_id);

-- Requests sent, per connection, month (YYYY-MM, UTC) and operation.
CREATE TABLE cost_explorer_requests (
    connection_id TEXT NOT NULL,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    month         TEXT NOT NULL,
    operation     TEXT NOT NULL,
    requests      INTEGER NOT NULL,
    PRIMARY KEY (connection_id, month, operation)
);
