-- Just-in-time access (internal/jit). Eligibility policies are kept whole
-- as JSON (the jit package owns their shape), one per tenant and name.
CREATE TABLE jit_policies (
    tenant_id  TEXT NOT NULL REFERENCES tenants(id),
    name       TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

-- A lease is one request for one grant; its state machine is moved with a
-- compare-and-set on version, so that two workers (or a worker and a
-- restarted one) never apply the same step twice. Overlapping leases on
-- the same (principal_id, target_key) share the AWS grant: it is removed
-- only when no other lease of the pair is live.
CREATE TABLE jit_leases (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants(id),
    connection_id  TEXT NOT NULL,
    policy         TEXT NOT NULL,
    requester      TEXT NOT NULL,
    actor          TEXT NOT NULL,
    principal_type TEXT NOT NULL,
    principal_id   TEXT NOT NULL,
    principal_name TEXT NOT NULL,
    target_key     TEXT NOT NULL,
    target         TEXT NOT NULL,
    reason         TEXT NOT NULL,
    duration_s     INTEGER NOT NULL,
    state          TEXT NOT NULL,
    break_glass    INTEGER NOT NULL,
    approval_id    TEXT NOT NULL,
    extends        TEXT NOT NULL,
    requested_at   TEXT NOT NULL,
    decide_by      TEXT NOT NULL,
    granted_at     TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    ended_at       TEXT NOT NULL,
    attempts       INTEGER NOT NULL,
    last_error     TEXT NOT NULL,
    aws_request    TEXT NOT NULL,
    next_at        TEXT NOT NULL,
    version        INTEGER NOT NULL
);
CREATE INDEX jit_leases_due ON jit_leases(next_at);
CREATE INDEX jit_leases_tenant ON jit_leases(tenant_id, requested_at);
CREATE INDEX jit_leases_pair ON jit_leases(tenant_id, target_key, principal_id);
