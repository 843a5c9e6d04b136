-- Alert rules (internal/alerts): what to watch and when to tell the
-- tenant's channels. See internal/store/alertrules.go.
CREATE TABLE alert_rules (
    id             TEXT PRIMARY KEY,                 -- alr_..., public
    tenant_id      TEXT NOT NULL REFERENCES tenants(id),
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL,                    -- budget, anomaly, commitment-expiry, commitment-utilization, savings, access-finding
    params         TEXT NOT NULL,                    -- JSON (alerts.Params)
    created_by     TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    last_run_at    TEXT,
    last_fired     INTEGER NOT NULL DEFAULT 0,       -- firings of the last evaluation (new or already sent)
    last_error     TEXT NOT NULL DEFAULT '',
    UNIQUE (tenant_id, name)
);
