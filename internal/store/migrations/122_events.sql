-- Real-time events (internal/events): each connection's events key (the
-- EventBridge API destination's API key, stored hashed) and the CloudTrail
-- management events received, one row per event ID (replays are ignored).
CREATE TABLE events_keys (
    connection_id TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    key_hash      TEXT NOT NULL UNIQUE,              -- hex SHA-256 of the key (256 random bits)
    endpoint      TEXT NOT NULL,                     -- crossbill's events URL the stack calls
    created_at    TEXT NOT NULL
);

CREATE TABLE events (
    connection_id TEXT NOT NULL,
    event_id      TEXT NOT NULL,                     -- EventBridge's event id
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    account_id    TEXT NOT NULL,
    region        TEXT NOT NULL,
    source        TEXT NOT NULL,                     -- aws.iam, aws.ec2, ...
    event_name    TEXT NOT NULL,                     -- CloudTrail eventName
    principal     TEXT NOT NULL,                     -- the caller's ARN
    event_time    TEXT NOT NULL,
    received_at   TEXT NOT NULL,
    detail        TEXT NOT NULL,                     -- JSON, the event's detail
    PRIMARY KEY (connection_id, event_id)
);
CREATE INDEX events_recent ON events(tenant_id, received_at);
