-- Verifications: each run of `crossbill connect verify` against a connection,
-- kept as history (the newest one explains the connection's status).
CREATE TABLE verifications (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    connection_id TEXT NOT NULL REFERENCES connections(id),
    role_arn      TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('verified', 'failed')),
    started_at    TEXT NOT NULL,                 -- RFC 3339 UTC, millisecond precision
    finished_at   TEXT NOT NULL,
    duration_ms   INTEGER NOT NULL
);
CREATE INDEX verifications_connection ON verifications(connection_id, id);

-- One row per check of a verification, in the order they ran.
CREATE TABLE verification_checks (
    verification_id INTEGER NOT NULL REFERENCES verifications(id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    name            TEXT NOT NULL,               -- e.g. assume-role, external-id-required, probe:inventory:ec2:DescribeVolumes
    module          TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL CHECK (status IN ('pass', 'fail', 'skip')),
    class           TEXT NOT NULL DEFAULT '',    -- awsclient class of the failure
    message         TEXT NOT NULL DEFAULT '',
    advice          TEXT NOT NULL DEFAULT '',    -- the fix the customer applies
    started_at      TEXT NOT NULL,
    duration_ms     INTEGER NOT NULL,
    PRIMARY KEY (verification_id, seq)
);
