-- AlterTable
ALTER TABLE "policy_template_versions" ADD COLUMN "min_copies" INTEGER NOT NULL DEFAULT 1;

-- AlterTable
ALTER TABLE "backup_jobs" ADD COLUMN "status_reason" TEXT;
