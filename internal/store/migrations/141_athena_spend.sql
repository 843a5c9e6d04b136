-- What the Athena cost engine spent in the customer's account, per tenant
-- and month (UTC): queries Athena billed, bytes they scanned and bytes
-- billed (each query rounded up to a whole MB, 10 MB at least; $5 per TB).
-- Counted as queries end; a month's row is added to, never rewritten.
CREATE TABLE athena_spend (
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    month         TEXT NOT NULL,
    queries       BIGINT NOT NULL DEFAULT 0,
    scanned_bytes BIGINT NOT NULL DEFAULT 0,
    billed_bytes  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, month)
);
