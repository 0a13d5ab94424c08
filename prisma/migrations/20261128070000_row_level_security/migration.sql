-- The second wall between tenants: PostgreSQL row-level security.
--
-- The API and the worker connect as the role "echelon_app": not a superuser, not the owner of any table, so every
-- policy below applies to it. Each statement and each transaction of theirs runs on a connection that names its
-- tenant (packages/db/src/client.ts),
--     SELECT set_config('echelon.tenant_id', '<tenant uuid>', false)
-- and then sees and writes that tenant's rows only; with no tenant named it sees no tenant-owned row at all. A
-- platform administrator's also sets 'echelon.platform' = 'on', which opens the tenants table, the audit entries
-- that belong to no tenant, and reading identities and API keys of every tenant. The owner (the role that runs
-- these migrations) is not subject to the policies; it seeds data and runs the tests' checks.
--
-- The launcher gives the role LOGIN and a password (packages/db/src/app-role.ts); a DBA may do that instead.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'echelon_app') THEN
        CREATE ROLE "echelon_app" NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
    END IF;
END
$$;

CREATE FUNCTION "echelon_tenant"() RETURNS uuid LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('echelon.tenant_id', true), '')::uuid
$$;

CREATE FUNCTION "echelon_platform"() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting('echelon.platform', true), '') = 'on'
$$;

GRANT USAGE ON SCHEMA public TO "echelon_app";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "echelon_app";
GRANT EXECUTE ON FUNCTION "echelon_tenant"(), "echelon_platform"() TO "echelon_app";

-- Tenant-owned tables the application changes.
GRANT SELECT, INSERT, UPDATE, DELETE ON
    "identities", "api_keys", "storage_systems", "backup_spaces", "policy_templates", "policy_template_versions",
    "policy_assignments", "uploads", "datasets", "dataset_versions", "backup_jobs", "replicas"
    TO "echelon_app";
-- History is append-only for the application: the privilege is missing, before any trigger is reached.
GRANT SELECT, INSERT ON "replica_events", "audit_entries" TO "echelon_app";
-- Chain heads are written only by the chain trigger (which runs as the owner); the application may read its own.
GRANT SELECT ON "chain_heads" TO "echelon_app";
GRANT SELECT, INSERT ON "tenants" TO "echelon_app";

ALTER TABLE "tenants" ENABLE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "tenants"
    USING ("id" = "echelon_tenant"() OR "echelon_platform"())
    WITH CHECK ("echelon_platform"());

ALTER TABLE "audit_entries" ENABLE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "audit_entries"
    USING ("tenant_id" = "echelon_tenant"() OR ("tenant_id" IS NULL AND "echelon_platform"()))
    WITH CHECK ("tenant_id" = "echelon_tenant"() OR ("tenant_id" IS NULL AND "echelon_platform"()));

ALTER TABLE "chain_heads" ENABLE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "chain_heads"
    USING ("tenant_id" = "echelon_tenant"()
        OR ("tenant_id" = '00000000-0000-0000-0000-000000000000' AND "echelon_platform"()));

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['identities', 'api_keys', 'storage_systems', 'backup_spaces', 'policy_templates',
        'policy_template_versions', 'policy_assignments', 'uploads', 'datasets', 'dataset_versions', 'backup_jobs',
        'replicas', 'replica_events']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY "tenant_isolation" ON %I USING ("tenant_id" = "echelon_tenant"()) '
            'WITH CHECK ("tenant_id" = "echelon_tenant"())', t);
    END LOOP;
END
$$;

-- A platform administrator finds the tenant of an identity or an API key it names (to act in that tenant); it
-- changes them only with that tenant named.
CREATE POLICY "platform_read" ON "identities" FOR SELECT USING ("echelon_platform"());
CREATE POLICY "platform_read" ON "api_keys" FOR SELECT USING ("echelon_platform"());

-- The chain trigger keeps the heads for every tenant, so it runs as the owner.
ALTER FUNCTION "link_chain"() SECURITY DEFINER SET search_path = public;

-- Signing in happens before a tenant is known: the one lookup across tenants, by the key's public prefix. It
-- returns what verifying the secret needs and nothing else.
CREATE FUNCTION "echelon_api_key_by_prefix"(key_prefix text)
    RETURNS TABLE ("id" uuid, "tenant_id" uuid, "identity_id" uuid, "secret_hash" text, "revoked_at" timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT k."id", k."tenant_id", k."identity_id", k."secret_hash", k."revoked_at"
    FROM "api_keys" k WHERE k."prefix" = key_prefix
$$;

-- An API process starting up resumes the jobs whose workflow may not have been started, in every tenant.
CREATE FUNCTION "echelon_pending_jobs"()
    RETURNS TABLE ("id" uuid, "tenant_id" uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT j."id", j."tenant_id" FROM "backup_jobs" j WHERE j."status" = 'PENDING'
$$;

REVOKE ALL ON FUNCTION "echelon_api_key_by_prefix"(text), "echelon_pending_jobs"() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "echelon_api_key_by_prefix"(text), "echelon_pending_jobs"() TO "echelon_app";
