-- Remediation plans, their durable step log and mark-for-op marks. The
-- plan itself is JSON whose shape internal/remediation owns; the steps are
-- rows so that a run killed mid-plan resumes after its last finished step.
-- See internal/store/remediation.go.
CREATE TABLE remediation_plans (
    id            TEXT PRIMARY KEY,                    -- rp_..., public
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    connection_id TEXT NOT NULL,
    state         TEXT NOT NULL,                       -- remediation.State*
    requested_by  TEXT NOT NULL,                       -- the actor, as audit lines name it
    person        TEXT NOT NULL DEFAULT '',            -- the requester's email when a person asked
    plan          TEXT NOT NULL,                       -- JSON (remediation.Plan)
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX remediation_plans_tenant ON remediation_plans(tenant_id, created_at);
CREATE INDEX remediation_plans_state ON remediation_plans(state);

CREATE TABLE remediation_steps (
    plan_id     TEXT NOT NULL REFERENCES remediation_plans(id),
    tenant_id   TEXT NOT NULL,
    item        INTEGER NOT NULL,                      -- the plan item's index
    step        INTEGER NOT NULL,                      -- the step's index within the item
    op          TEXT NOT NULL,                         -- e.g. ec2:CreateSnapshot
    status      TEXT NOT NULL,                         -- started | done | failed
    output      TEXT NOT NULL DEFAULT '{}',            -- JSON: what the step made (snapshot ID...), what restores it
    started_at  TEXT NOT NULL,
    finished_at TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (plan_id, item, step)
);

CREATE TABLE remediation_marks (
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    connection_id TEXT NOT NULL,
    arn           TEXT NOT NULL,
    action        TEXT NOT NULL,
    account_id    TEXT NOT NULL,
    region        TEXT NOT NULL,
    due           TEXT NOT NULL,                       -- YYYY-MM-DD: the date the action may run from
    marked_at     TEXT NOT NULL,
    PRIMARY KEY (tenant_id, arn)
);
