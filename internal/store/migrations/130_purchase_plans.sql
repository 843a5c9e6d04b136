-- Commitment purchase plans (internal/purchase): a plan is kept as JSON
-- (the purchase package owns its shape) with its state; each tranche is a
-- row whose state is the durable step state of its purchase, so a retried
-- or crashed execution knows what it already bought. client_token is the
-- token sent with the purchase: unique, so two tranches never share one.
CREATE TABLE purchase_plans (
    id            TEXT PRIMARY KEY,                   -- pp_..., public
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    connection_id TEXT NOT NULL,
    kind          TEXT NOT NULL,                      -- purchase | renewal | sale
    state         TEXT NOT NULL,
    spec          TEXT NOT NULL,                      -- JSON of purchase.Plan
    created_by    TEXT NOT NULL,                      -- the actor, as audit lines name it
    person        TEXT NOT NULL DEFAULT '',           -- the author's email when a person wrote it
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX purchase_plans_tenant ON purchase_plans(tenant_id, created_at);

CREATE TABLE purchase_tranches (
    plan_id       TEXT NOT NULL REFERENCES purchase_plans(id),
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    idx           INTEGER NOT NULL,
    due           TEXT NOT NULL,                      -- when the tranche starts (queued until then)
    client_token  TEXT NOT NULL UNIQUE,
    state         TEXT NOT NULL,                      -- planned | buying | bought | done | cancelled | failed
    commitment_id TEXT NOT NULL DEFAULT '',
    error         TEXT NOT NULL DEFAULT '',
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (plan_id, idx)
);

-- A tenant's purchase guardrails; 0 means no limit.
CREATE TABLE purchase_guardrails (
    tenant_id            TEXT PRIMARY KEY REFERENCES tenants(id),
    max_hourly_per_month REAL NOT NULL,
    max_upfront          REAL NOT NULL,
    min_utilization      REAL NOT NULL,
    updated_by           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);
