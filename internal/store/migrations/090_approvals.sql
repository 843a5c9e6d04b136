-- Approvals: one model for every write crossbill makes in a customer's
-- account on a person's say-so (JIT access grants, remediations,
-- commitment purchases). The feature keeps its own state machine and
-- reads its approval's state by (kind, subject). See
-- internal/store/approvals.go and internal/approval.
CREATE TABLE approvals (
    id                TEXT PRIMARY KEY,               -- apr_..., public
    tenant_id         TEXT NOT NULL REFERENCES tenants(id),
    kind              TEXT NOT NULL,                  -- access-grant, remediation, purchase
    subject           TEXT NOT NULL,                  -- the feature's lease or plan ID
    summary           TEXT NOT NULL,
    detail            TEXT NOT NULL,                  -- JSON: the plan or dry run the approver sees
    state             TEXT NOT NULL,                  -- pending, approved, denied, expired, cancelled
    required          INTEGER NOT NULL,               -- approvals needed (2: two-person rule)
    approvers         TEXT NOT NULL,                  -- JSON array of emails; [] = anyone with the approver role
    requested_by      TEXT NOT NULL,                  -- the requester's actor, as audit lines name it
    requested_person  TEXT NOT NULL DEFAULT '',       -- the requester's email (or IdP subject)
    auto_reason       TEXT NOT NULL DEFAULT '',       -- approved at once by a policy: why
    created_at        TEXT NOT NULL,
    expires_at        TEXT NOT NULL,
    decided_at        TEXT,
    UNIQUE (tenant_id, kind, subject)
);
CREATE INDEX approvals_inbox ON approvals(tenant_id, state, created_at);
CREATE INDEX approvals_expiry ON approvals(state, expires_at);

CREATE TABLE approval_decisions (
    approval_id TEXT NOT NULL REFERENCES approvals(id),
    who         TEXT NOT NULL,                        -- the decider's person key (email, else subject, else actor)
    actor       TEXT NOT NULL,
    person      TEXT NOT NULL DEFAULT '',
    approve     INTEGER NOT NULL,                     -- 1 approve, 0 deny
    reason      TEXT NOT NULL DEFAULT '',
    at          TEXT NOT NULL,
    PRIMARY KEY (approval_id, who)
);
