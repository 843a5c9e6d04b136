-- PostgreSQL variant of 052_verification_inconclusive.sql: PostgreSQL can
-- change a CHECK constraint in place, no rebuild needed.
ALTER TABLE verifications DROP CONSTRAINT IF EXISTS verifications_status_check;
ALTER TABLE verifications ADD CONSTRAINT verifications_status_check
    CHECK (status IN ('verified', 'failed', 'inconclusive'));
