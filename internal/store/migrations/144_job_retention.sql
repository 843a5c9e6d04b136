-- Job retention: finished jobs are pruned per key (tenant, connection,
-- kind), newest kept; this index finds a key's rows by age.
CREATE INDEX jobs_key ON jobs(tenant_id, connection_id, kind, created_at);
-- Sweeps: housekeeping that one replica of those sharing the database
-- runs per period. A replica runs a sweep when it moves next_run_at on
-- from a past value (a conditional UPDATE: one of them wins).
CREATE TABLE sweeps (
    name        TEXT PRIMARY KEY,
    owner       TEXT NOT NULL DEFAULT '',
    next_run_at TEXT NOT NULL
);
