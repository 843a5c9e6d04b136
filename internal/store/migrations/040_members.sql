-- Members: the accounts of the AWS Organization a connection's role can
-- list (management account or delegated administrator), and whether the
-- members StackSet put a working crossbill role into each of them.
-- Accounts that left the organization keep their row with gone_at set, so
-- their history is not lost silently.
CREATE TABLE connection_members (
    connection_id TEXT NOT NULL REFERENCES connections(id),
    account_id    TEXT NOT NULL,
    name          TEXT NOT NULL DEFAULT '',
    email         TEXT NOT NULL DEFAULT '',
    state         TEXT NOT NULL DEFAULT '',          -- ACTIVE, SUSPENDED, PENDING_CLOSURE...
    joined_method TEXT NOT NULL DEFAULT '',          -- CREATED or INVITED
    joined_at     TEXT NOT NULL DEFAULT '',          -- RFC 3339 UTC, '' when unknown
    role_arn      TEXT NOT NULL,                     -- the role the members stack puts there
    check_status  TEXT NOT NULL CHECK (check_status IN ('pending', 'verified', 'failed', 'skipped', 'conflict')),
    checked_at    TEXT NOT NULL DEFAULT '',          -- RFC 3339 UTC, '' until checked
    duration_ms   INTEGER NOT NULL DEFAULT 0,        -- of the last check
    failure_class TEXT NOT NULL DEFAULT '',          -- awsclient class of the first failed check
    message       TEXT NOT NULL DEFAULT '',          -- why it failed or was skipped (AWS's words, no secrets)
    fix           TEXT NOT NULL DEFAULT '',          -- what the customer changes
    first_seen    TEXT NOT NULL,
    last_seen     TEXT NOT NULL,
    gone_at       TEXT,                              -- set when the account no longer appears in the organization
    PRIMARY KEY (connection_id, account_id)
);
