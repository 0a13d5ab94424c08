-- Retention rules, versioned with their template (packages/domain retention.ts): NULL everywhere keeps every
-- version; a version is kept when any rule keeps it.
ALTER TABLE "policy_template_versions"
    ADD COLUMN "retention_keep_last"        INTEGER CHECK ("retention_keep_last" >= 0),
    ADD COLUMN "retention_keep_within_days" INTEGER CHECK ("retention_keep_within_days" >= 0),
    ADD COLUMN "retention_keep_daily"       INTEGER CHECK ("retention_keep_daily" >= 0),
    ADD COLUMN "retention_keep_weekly"      INTEGER CHECK ("retention_keep_weekly" >= 0),
    ADD COLUMN "retention_keep_monthly"     INTEGER CHECK ("retention_keep_monthly" >= 0);

-- A legal hold on a dataset version: while the row exists the version is never pruned. Placing and lifting are
-- audited in the tenant's audit log; lifting deletes the row.
CREATE TABLE "legal_holds" (
    "version_id" UUID           NOT NULL PRIMARY KEY REFERENCES "dataset_versions"("id"),
    "tenant_id"  UUID           NOT NULL REFERENCES "tenants"("id"),
    "reason"     TEXT           NOT NULL CHECK (length("reason") BETWEEN 1 AND 1000),
    "placed_by"  TEXT           NOT NULL,
    "placed_at"  TIMESTAMPTZ(3) NOT NULL DEFAULT now()
);
CREATE INDEX "legal_holds_tenant_id_idx" ON "legal_holds"("tenant_id");

ALTER TABLE "legal_holds" ENABLE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "legal_holds" USING ("tenant_id" = "echelon_tenant"())
    WITH CHECK ("tenant_id" = "echelon_tenant"());
GRANT SELECT, INSERT, UPDATE, DELETE ON "legal_holds" TO "echelon_app";
