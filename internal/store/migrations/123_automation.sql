-- Automation policies (internal/automation): each tenant's policy file as
-- applied (YAML, validated), and when each policy last ran.
CREATE TABLE automation_policies (
    tenant_id  TEXT PRIMARY KEY REFERENCES tenants(id),
    source     TEXT NOT NULL,                        -- the YAML file
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    last_runs  TEXT NOT NULL DEFAULT '{}'            -- JSON: policy name -> RFC 3339 time of its last scheduled run
);
