-- Notifications (internal/notify): a tenant's channels, the durable outbox
-- the notify job delivers from (its rows are the delivery log), and the
-- dedup keys already sent. See internal/store/notifications.go.
CREATE TABLE notify_channels (
    id            TEXT PRIMARY KEY,                  -- nch_..., public
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,                     -- webhook, slack, email
    target        TEXT NOT NULL,                     -- what people see: host, addresses; never a secret
    topics        TEXT NOT NULL,                     -- comma-separated; '*' is every topic
    sealed        TEXT NOT NULL,                     -- AES-GCM sealed config (URL, signing secret, SMTP password)
    snoozed_until TEXT,
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    UNIQUE (tenant_id, name)
);

CREATE TABLE notify_outbox (
    id              TEXT PRIMARY KEY,                -- ntf_..., sent to receivers as the delivery ID
    tenant_id       TEXT NOT NULL REFERENCES tenants(id),
    channel_id      TEXT NOT NULL,                   -- kept when the channel is removed: the log stays readable
    channel_name    TEXT NOT NULL,
    topic           TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    data            TEXT NOT NULL,                   -- JSON
    dedup_key       TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL,                   -- pending, delivered, failed, snoozed, dropped
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    delivered_at    TEXT
);
CREATE INDEX notify_outbox_due ON notify_outbox(tenant_id, status, next_attempt_at);
CREATE INDEX notify_outbox_log ON notify_outbox(tenant_id, created_at);

CREATE TABLE notify_dedup (
    tenant_id  TEXT NOT NULL REFERENCES tenants(id),
    dedup_key  TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, dedup_key)
);
