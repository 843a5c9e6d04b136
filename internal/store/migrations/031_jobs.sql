-- Background jobs run by the scheduler (verify, ingest, ...). A periodic
-- job, once finished, enqueues its successor; the rows are the history.
CREATE TABLE jobs (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants(id),
    connection_id    TEXT NOT NULL DEFAULT '',     -- '' when the job is not about one connection
    kind             TEXT NOT NULL,                -- verify, ingest, ...
    status           TEXT NOT NULL CHECK (status IN ('queued', 'running', 'retrying', 'succeeded', 'failed', 'canceled')),
    progress         REAL NOT NULL DEFAULT 0,      -- 0..1
    message          TEXT NOT NULL DEFAULT '',     -- last progress message
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL DEFAULT 5,
    last_error       TEXT NOT NULL DEFAULT '',
    error_code       TEXT NOT NULL DEFAULT '',
    interval_seconds INTEGER NOT NULL DEFAULT 0,   -- > 0: periodic
    params           TEXT NOT NULL DEFAULT '{}',   -- JSON
    next_run_at      TEXT NOT NULL,
    started_at       TEXT,
    finished_at      TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX jobs_due ON jobs(status, next_run_at);
CREATE INDEX jobs_tenant ON jobs(tenant_id, created_at);
