-- Restores: a request to bring back one version of a dataset, served from the healthiest replica that still
-- verifies against the version's sha256.
CREATE TYPE "RestoreJobStatus" AS ENUM ('PENDING', 'RUNNING', 'COMPLETED', 'FAILED');

CREATE TABLE "restore_jobs" (
    "id"                 UUID               NOT NULL DEFAULT gen_random_uuid(),
    "tenant_id"          UUID               NOT NULL,
    "identity_id"        UUID               NOT NULL,
    "requested_by_id"    UUID               NOT NULL,
    "dataset_version_id" UUID               NOT NULL,
    "status"             "RestoreJobStatus" NOT NULL DEFAULT 'PENDING',
    "from_replica_id"    UUID,
    "last_error"         TEXT,
    "workflow_id"        TEXT               NOT NULL,
    "created_at"         TIMESTAMPTZ(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completed_at"       TIMESTAMPTZ(3),
    CONSTRAINT "restore_jobs_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "restore_jobs_workflow_id_key" ON "restore_jobs"("workflow_id");
CREATE INDEX "restore_jobs_tenant_id_created_at_idx" ON "restore_jobs"("tenant_id", "created_at");

ALTER TABLE "restore_jobs" ADD CONSTRAINT "restore_jobs_tenant_id_fkey"
    FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "restore_jobs" ADD CONSTRAINT "restore_jobs_identity_id_fkey"
    FOREIGN KEY ("identity_id") REFERENCES "identities"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "restore_jobs" ADD CONSTRAINT "restore_jobs_requested_by_id_fkey"
    FOREIGN KEY ("requested_by_id") REFERENCES "identities"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "restore_jobs" ADD CONSTRAINT "restore_jobs_dataset_version_id_fkey"
    FOREIGN KEY ("dataset_version_id") REFERENCES "dataset_versions"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "restore_jobs" ADD CONSTRAINT "restore_jobs_from_replica_id_fkey"
    FOREIGN KEY ("from_replica_id") REFERENCES "replicas"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- Row-level security, as for every tenant-owned table (migration row_level_security).
GRANT SELECT, INSERT, UPDATE ON "restore_jobs" TO "echelon_app";
ALTER TABLE "restore_jobs" ENABLE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "restore_jobs"
    USING ("tenant_id" = "echelon_tenant"()) WITH CHECK ("tenant_id" = "echelon_tenant"());

-- An API process starting up starts the restores whose workflow may never have been started, in every tenant.
CREATE FUNCTION "echelon_pending_restores"()
    RETURNS TABLE ("id" uuid, "tenant_id" uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT r."id", r."tenant_id" FROM "restore_jobs" r WHERE r."status" = 'PENDING'
$$;
REVOKE ALL ON FUNCTION "echelon_pending_restores"() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "echelon_pending_restores"() TO "echelon_app";
