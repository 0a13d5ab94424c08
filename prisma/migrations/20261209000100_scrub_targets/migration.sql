-- What the scrub scheduler works through: every storage system of every tenant. Row-level security keeps the
-- application's role inside one tenant; this function lists only ids, and each scrub then runs as that tenant.
CREATE FUNCTION "echelon_scrub_targets"()
    RETURNS TABLE ("tenant_id" uuid, "storage_system_id" uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT s."tenant_id", s."id" FROM "storage_systems" s ORDER BY s."tenant_id", s."id"
$$;

REVOKE ALL ON FUNCTION "echelon_scrub_targets"() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "echelon_scrub_targets"() TO "echelon_app";
