-- Off-hours schedules: stop and start instances by tag and calendar. The
-- spec is JSON whose shape internal/remediation owns; last_desired is the
-- state the schedule last asked for, so it acts at each on/off change only
-- and never fights a person who started an instance after hours.
CREATE TABLE remediation_schedules (
    id            TEXT PRIMARY KEY,                    -- rs_..., public
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    connection_id TEXT NOT NULL,
    name          TEXT NOT NULL,
    spec          TEXT NOT NULL,                       -- JSON (remediation.Schedule)
    approval_id   TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    person        TEXT NOT NULL DEFAULT '',
    last_desired  TEXT NOT NULL DEFAULT '',            -- running | stopped | '' (never evaluated)
    created_at    TEXT NOT NULL,
    UNIQUE (tenant_id, name)
);
