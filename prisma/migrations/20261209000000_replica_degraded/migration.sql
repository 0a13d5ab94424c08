-- A verified copy a scrub (or verifyReplica) found damaged: a chunk missing or corrupt, or its manifest unreadable.
-- It is not a verified copy until the repair puts every bad chunk back; restores still read its good chunks.
-- PostgreSQL (12 and later) accepts ADD VALUE inside the runner's transaction; the new value may only be used once
-- that transaction has committed, so nothing in this migration uses it.
ALTER TYPE "ReplicaStatus" ADD VALUE IF NOT EXISTS 'DEGRADED';
