-- Audit log: operator actions and refused bindings, one line each, never
-- changed or deleted. Deliberately generic (who, when, what, tenant,
-- detail) so that a later hash-chained audit log can take these rows over.
CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        TEXT NOT NULL,                 -- RFC 3339 UTC, millisecond precision
    actor     TEXT NOT NULL,                 -- who: token:tok_..., cli:USER, scheduler
    action    TEXT NOT NULL,                 -- what, dotted: binding.release, binding.refused
    tenant_id TEXT NOT NULL DEFAULT '',      -- the tenant acted on or for; '' when none
    subject   TEXT NOT NULL DEFAULT '',      -- the thing acted on: an account ID, a role ARN
    detail    TEXT NOT NULL DEFAULT '{}'     -- JSON
);
CREATE INDEX audit_log_tenant ON audit_log(tenant_id, id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
