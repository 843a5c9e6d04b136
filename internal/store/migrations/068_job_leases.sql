-- Job leases, so that several `crossbill serve` replicas can share the
-- queue: a claimed job belongs to lease_owner (a replica ID) until
-- lease_until, which that replica's heartbeats push forward; a running job
-- whose lease has passed is taken over by another replica. lease_token
-- grows with every claim: a replica's writes to the job carry the token it
-- claimed with, so a replica that lost its lease cannot record an outcome.
ALTER TABLE jobs ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN lease_until TEXT;
ALTER TABLE jobs ADD COLUMN lease_token INTEGER NOT NULL DEFAULT 0;
-- One live job per key (tenant, connection, kind): replicas enqueueing the
-- same scheduled tick together get one job. Live duplicates that a race
-- left before this index are cancelled, the oldest kept.
UPDATE jobs SET status = 'canceled', message = 'duplicate of an older live job of the same kind'
WHERE status IN ('queued', 'retrying', 'running') AND EXISTS (
    SELECT 1 FROM jobs o
    WHERE o.tenant_id = jobs.tenant_id AND o.connection_id = jobs.connection_id AND o.kind = jobs.kind
      AND o.status IN ('queued', 'retrying', 'running')
      AND (o.created_at < jobs.created_at OR (o.created_at = jobs.created_at AND o.id < jobs.id)));
CREATE UNIQUE INDEX jobs_one_live ON jobs(tenant_id, connection_id, kind) WHERE status IN ('queued', 'retrying', 'running');
