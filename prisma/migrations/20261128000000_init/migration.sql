-- CreateEnum
CREATE TYPE "Role" AS ENUM ('PLATFORM_ADMIN', 'TENANT_ADMIN', 'OPERATOR', 'AUDITOR', 'MEMBER');

-- CreateEnum
CREATE TYPE "StorageKind" AS ENUM ('FILESYSTEM', 'S3');

-- CreateEnum
CREATE TYPE "SecondaryOrdering" AS ENUM ('CAPACITY', 'FIXED');

-- CreateEnum
CREATE TYPE "ReplicaRole" AS ENUM ('PRIMARY', 'SECONDARY');

-- CreateEnum
CREATE TYPE "ReplicaStatus" AS ENUM ('PLANNED', 'WAITING', 'COPYING', 'VERIFYING', 'COMPLETED', 'FAILED', 'SKIPPED', 'CANCELLED');

-- CreateEnum
CREATE TYPE "BackupJobStatus" AS ENUM ('PENDING', 'RUNNING', 'COMPLETED', 'PARTIAL', 'FAILED', 'CANCELLED');

-- CreateTable
CREATE TABLE "tenants" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "slug" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tenants_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "identities" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "tenant_id" UUID NOT NULL,
    "external_id" TEXT NOT NULL,
    "display_name" TEXT NOT NULL,
    "roles" "Role"[],
    "groups" TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "identities_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_keys" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "tenant_id" UUID NOT NULL,
    "identity_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "secret_hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "storage_systems" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "tenant_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "kind" "StorageKind" NOT NULL,
    "config" JSONB NOT NULL,
    "healthy" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "storage_systems_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "backup_spaces" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "tenant_id" UUID NOT NULL,
    "storage_system_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "capacity_bytes" BIGINT NOT NULL,
    "used_bytes" BIGINT NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "backup_spaces_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "backup_spaces_used_within_capacity" CHECK ("used_bytes" >= 0 AND "used_bytes" <= "capacity_bytes")
);

-- CreateTable
CREATE TABLE "policy_templates" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "tenant_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "latest_version" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "policy_templates_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "policy_template_versions" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "tenant_id" UUID NOT NULL,
    "template_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "copies" INTEGER NOT NULL,
    "primary_storage_system_id" UUID NOT NULL,
    "candidate_storage_system_ids" UUID[],
    "delay_seconds" INTEGER NOT NULL,
    "ordering" "SecondaryOrdering" NOT NULL DEFAULT 'CAPACITY',
    "data_class" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "policy_template_versions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "policy_assignments" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "tenant_id" UUID NOT NULL,
    "template_id" UUID NOT NULL,
    "identity_id" UUID,
    "group" TEXT,
    "tenant_default" BOOLEAN NOT NULL DEFAULT false,
    "data_class" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "policy_assignments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "uploads" (
    "id" TEXT NOT NULL,
    "tenant_id" UUID NOT NULL,
    "identity_id" UUID NOT NULL,
    "size_bytes" BIGINT NOT NULL,
    "sha256" TEXT,
    "staging_path" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completed_at" TIMESTAMPTZ(3),

    CONSTRAINT "uploads_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "datasets" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "tenant_id" UUID NOT NULL,
    "identity_id" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "datasets_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "dataset_versions" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "tenant_id" UUID NOT NULL,
    "dataset_id" UUID NOT NULL,
    "number" INTEGER NOT NULL,
    "size_bytes" BIGINT NOT NULL,
    "sha256" TEXT NOT NULL,
    "upload_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "dataset_versions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "backup_jobs" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "tenant_id" UUID NOT NULL,
    "identity_id" UUID NOT NULL,
    "dataset_version_id" UUID NOT NULL,
    "template_version_id" UUID NOT NULL,
    "scheme" JSONB NOT NULL,
    "status" "BackupJobStatus" NOT NULL DEFAULT 'PENDING',
    "workflow_id" TEXT NOT NULL,
    "idempotency_key" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completed_at" TIMESTAMPTZ(3),

    CONSTRAINT "backup_jobs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "replicas" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "tenant_id" UUID NOT NULL,
    "job_id" UUID NOT NULL,
    "role" "ReplicaRole" NOT NULL,
    "order" INTEGER NOT NULL,
    "storage_system_id" UUID NOT NULL,
    "space_id" UUID,
    "status" "ReplicaStatus" NOT NULL DEFAULT 'PLANNED',
    "object_key" TEXT,
    "scheduled_at" TIMESTAMPTZ(3),
    "started_at" TIMESTAMPTZ(3),
    "completed_at" TIMESTAMPTZ(3),
    "bytes_total" BIGINT NOT NULL,
    "bytes_copied" BIGINT NOT NULL DEFAULT 0,
    "reserved_bytes" BIGINT NOT NULL DEFAULT 0,
    "checksum" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,

    CONSTRAINT "replicas_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "replica_events" (
    "id" BIGSERIAL NOT NULL,
    "tenant_id" UUID NOT NULL,
    "job_id" UUID NOT NULL,
    "replica_id" UUID NOT NULL,
    "status" "ReplicaStatus" NOT NULL,
    "bytes_copied" BIGINT NOT NULL,
    "message" TEXT,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "replica_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "tenants_slug_key" ON "tenants"("slug");
CREATE UNIQUE INDEX "identities_tenant_id_external_id_key" ON "identities"("tenant_id", "external_id");
CREATE UNIQUE INDEX "api_keys_prefix_key" ON "api_keys"("prefix");
CREATE INDEX "api_keys_tenant_id_idx" ON "api_keys"("tenant_id");
CREATE UNIQUE INDEX "storage_systems_tenant_id_name_key" ON "storage_systems"("tenant_id", "name");
CREATE UNIQUE INDEX "backup_spaces_storage_system_id_name_key" ON "backup_spaces"("storage_system_id", "name");
CREATE INDEX "backup_spaces_tenant_id_idx" ON "backup_spaces"("tenant_id");
CREATE UNIQUE INDEX "policy_templates_tenant_id_name_key" ON "policy_templates"("tenant_id", "name");
CREATE UNIQUE INDEX "policy_template_versions_template_id_version_key" ON "policy_template_versions"("template_id", "version");
CREATE INDEX "policy_template_versions_tenant_id_idx" ON "policy_template_versions"("tenant_id");
CREATE INDEX "policy_assignments_tenant_id_idx" ON "policy_assignments"("tenant_id");
CREATE INDEX "uploads_tenant_id_idx" ON "uploads"("tenant_id");
CREATE UNIQUE INDEX "datasets_tenant_id_identity_id_key_key" ON "datasets"("tenant_id", "identity_id", "key");
CREATE UNIQUE INDEX "dataset_versions_dataset_id_number_key" ON "dataset_versions"("dataset_id", "number");
CREATE INDEX "dataset_versions_tenant_id_idx" ON "dataset_versions"("tenant_id");
CREATE UNIQUE INDEX "backup_jobs_workflow_id_key" ON "backup_jobs"("workflow_id");
CREATE UNIQUE INDEX "backup_jobs_tenant_id_idempotency_key_key" ON "backup_jobs"("tenant_id", "idempotency_key");
CREATE INDEX "backup_jobs_tenant_id_created_at_idx" ON "backup_jobs"("tenant_id", "created_at");
CREATE UNIQUE INDEX "replicas_job_id_order_key" ON "replicas"("job_id", "order");
CREATE INDEX "replicas_tenant_id_idx" ON "replicas"("tenant_id");
CREATE INDEX "replica_events_job_id_id_idx" ON "replica_events"("job_id", "id");
CREATE INDEX "replica_events_tenant_id_id_idx" ON "replica_events"("tenant_id", "id");

-- AddForeignKey
ALTER TABLE "identities" ADD CONSTRAINT "identities_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_identity_id_fkey" FOREIGN KEY ("identity_id") REFERENCES "identities"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "storage_systems" ADD CONSTRAINT "storage_systems_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "backup_spaces" ADD CONSTRAINT "backup_spaces_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "backup_spaces" ADD CONSTRAINT "backup_spaces_storage_system_id_fkey" FOREIGN KEY ("storage_system_id") REFERENCES "storage_systems"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "policy_templates" ADD CONSTRAINT "policy_templates_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "policy_template_versions" ADD CONSTRAINT "policy_template_versions_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "policy_template_versions" ADD CONSTRAINT "policy_template_versions_template_id_fkey" FOREIGN KEY ("template_id") REFERENCES "policy_templates"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "policy_assignments" ADD CONSTRAINT "policy_assignments_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "policy_assignments" ADD CONSTRAINT "policy_assignments_template_id_fkey" FOREIGN KEY ("template_id") REFERENCES "policy_templates"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "policy_assignments" ADD CONSTRAINT "policy_assignments_identity_id_fkey" FOREIGN KEY ("identity_id") REFERENCES "identities"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "uploads" ADD CONSTRAINT "uploads_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "uploads" ADD CONSTRAINT "uploads_identity_id_fkey" FOREIGN KEY ("identity_id") REFERENCES "identities"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "datasets" ADD CONSTRAINT "datasets_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "datasets" ADD CONSTRAINT "datasets_identity_id_fkey" FOREIGN KEY ("identity_id") REFERENCES "identities"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "dataset_versions" ADD CONSTRAINT "dataset_versions_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "dataset_versions" ADD CONSTRAINT "dataset_versions_dataset_id_fkey" FOREIGN KEY ("dataset_id") REFERENCES "datasets"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "dataset_versions" ADD CONSTRAINT "dataset_versions_upload_id_fkey" FOREIGN KEY ("upload_id") REFERENCES "uploads"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "backup_jobs" ADD CONSTRAINT "backup_jobs_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "backup_jobs" ADD CONSTRAINT "backup_jobs_identity_id_fkey" FOREIGN KEY ("identity_id") REFERENCES "identities"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "backup_jobs" ADD CONSTRAINT "backup_jobs_dataset_version_id_fkey" FOREIGN KEY ("dataset_version_id") REFERENCES "dataset_versions"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "backup_jobs" ADD CONSTRAINT "backup_jobs_template_version_id_fkey" FOREIGN KEY ("template_version_id") REFERENCES "policy_template_versions"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "replicas" ADD CONSTRAINT "replicas_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "replicas" ADD CONSTRAINT "replicas_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "backup_jobs"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "replicas" ADD CONSTRAINT "replicas_storage_system_id_fkey" FOREIGN KEY ("storage_system_id") REFERENCES "storage_systems"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "replicas" ADD CONSTRAINT "replicas_space_id_fkey" FOREIGN KEY ("space_id") REFERENCES "backup_spaces"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "replica_events" ADD CONSTRAINT "replica_events_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "replica_events" ADD CONSTRAINT "replica_events_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "backup_jobs"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "replica_events" ADD CONSTRAINT "replica_events_replica_id_fkey" FOREIGN KEY ("replica_id") REFERENCES "replicas"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Replica events are the durable log behind live progress: every insert wakes the API processes that LISTEN.
CREATE FUNCTION "notify_replica_event"() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('replica_events', json_build_object('id', NEW."id"::text, 'tenantId', NEW."tenant_id", 'jobId', NEW."job_id")::text);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "replica_events_notify" AFTER INSERT ON "replica_events"
    FOR EACH ROW EXECUTE FUNCTION "notify_replica_event"();

-- Job status changes wake subscribers of backupJobUpdated in every API process.
CREATE FUNCTION "notify_backup_job"() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('backup_jobs', json_build_object('id', NEW."id", 'tenantId', NEW."tenant_id", 'status', NEW."status")::text);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "backup_jobs_notify" AFTER INSERT OR UPDATE OF "status", "completed_at" ON "backup_jobs"
    FOR EACH ROW EXECUTE FUNCTION "notify_backup_job"();
