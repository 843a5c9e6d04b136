-- Optimization recommendations (internal/optimize). One row per
-- evaluation of a tenant's inventory (its summary as JSON), and one row
-- per recommendation keyed by its stable ID (the same rule on the same
-- resource keeps its ID across evaluations), holding the recommendation
-- as JSON (the optimize package owns its shape) beside the columns the
-- filters read. A recommendation the newest evaluation no longer makes is
-- kept as resolved, so whoever acted on its ID can still read it.
CREATE TABLE optimize_evaluations (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id),
    started_at      TEXT NOT NULL,
    finished_at     TEXT NOT NULL,
    resources       INTEGER NOT NULL,
    recommendations INTEGER NOT NULL,
    monthly_savings REAL NOT NULL,
    summary         TEXT NOT NULL
);
CREATE INDEX optimize_evaluations_tenant ON optimize_evaluations(tenant_id, finished_at);

CREATE TABLE optimize_recommendations (
    tenant_id       TEXT NOT NULL REFERENCES tenants(id),
    id              TEXT NOT NULL,
    evaluation_id   TEXT NOT NULL REFERENCES optimize_evaluations(id),
    rule            TEXT NOT NULL,
    account_id      TEXT NOT NULL,
    region          TEXT NOT NULL,
    arn             TEXT NOT NULL,
    action          TEXT NOT NULL,
    monthly_savings REAL NOT NULL,
    state           TEXT NOT NULL,
    first_seen      TEXT NOT NULL,
    last_seen       TEXT NOT NULL,
    resolved_at     TEXT NOT NULL,
    body            TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX optimize_recommendations_filter ON optimize_recommendations(tenant_id, state, rule, account_id);

-- A tenant's thresholds for one rule (JSON object of parameter values);
-- a rule without a row uses its defaults.
CREATE TABLE optimize_thresholds (
    tenant_id  TEXT NOT NULL REFERENCES tenants(id),
    rule       TEXT NOT NULL,
    params     TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (tenant_id, rule)
);
