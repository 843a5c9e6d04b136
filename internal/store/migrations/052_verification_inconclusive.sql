-- A verification whose every failing check was a passing fault (throttled,
-- unavailable, unreachable, timed out) is inconclusive: it could not check,
-- so it leaves the connection's status alone. SQLite cannot change a CHECK
-- constraint: both tables are rebuilt, the checks first pointed at the old
-- table by the rename, then copied to a table that references the new one.
ALTER TABLE verifications RENAME TO verifications_old;
CREATE TABLE verifications (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    connection_id TEXT NOT NULL REFERENCES connections(id),
    role_arn      TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('verified', 'failed', 'inconclusive')),
    started_at    TEXT NOT NULL,                 -- RFC 3339 UTC, millisecond precision
    finished_at   TEXT NOT NULL,
    duration_ms   INTEGER NOT NULL
);
INSERT INTO verifications SELECT * FROM verifications_old;
CREATE TABLE verification_checks_new (
    verification_id INTEGER NOT NULL REFERENCES verifications(id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    name            TEXT NOT NULL,
    module          TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL CHECK (status IN ('pass', 'fail', 'skip')),
    class           TEXT NOT NULL DEFAULT '',
    message         TEXT NOT NULL DEFAULT '',
    advice          TEXT NOT NULL DEFAULT '',
    started_at      TEXT NOT NULL,
    duration_ms     INTEGER NOT NULL,
    PRIMARY KEY (verification_id, seq)
);
INSERT INTO verification_checks_new SELECT * FROM verification_checks;
DROP TABLE verification_checks;
DROP TABLE verifications_old;
ALTER TABLE verification_checks_new RENAME TO verification_checks;
DROP INDEX IF EXISTS verifications_connection;
CREATE INDEX verifications_connection ON verifications(connection_id, id);
