-- Staged uploads that were never backed up, in every tenant, oldest first: the API's expiry sweep acts for no
-- tenant, so this read crosses them (a security-definer function that returns what removing them needs and
-- nothing else). Each removal is then made under the upload's own tenant.
CREATE FUNCTION "echelon_abandoned_uploads"(cutoff timestamptz, max_rows integer)
    RETURNS TABLE ("id" text, "tenant_id" uuid, "staging_path" text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT u."id", u."tenant_id", u."staging_path"
      FROM "uploads" u
     WHERE u."created_at" < cutoff
       AND NOT EXISTS (SELECT 1 FROM "dataset_versions" v WHERE v."upload_id" = u."id")
     ORDER BY u."created_at"
     LIMIT max_rows
$$;

-- Which of the files in the staging directory belong to an upload row, and whether a backup uses it: the sweep
-- removes files no row claims, and the tus metadata of uploads already backed up.
CREATE FUNCTION "echelon_staged_upload_states"(upload_ids text[])
    RETURNS TABLE ("id" text, "used" boolean)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT u."id", EXISTS (SELECT 1 FROM "dataset_versions" v WHERE v."upload_id" = u."id")
      FROM "uploads" u
     WHERE u."id" = ANY (upload_ids)
$$;

REVOKE ALL ON FUNCTION "echelon_abandoned_uploads"(timestamptz, integer), "echelon_staged_upload_states"(text[])
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "echelon_abandoned_uploads"(timestamptz, integer), "echelon_staged_upload_states"(text[])
    TO "echelon_app";

CREATE INDEX "uploads_created_at_idx" ON "uploads"("created_at");
