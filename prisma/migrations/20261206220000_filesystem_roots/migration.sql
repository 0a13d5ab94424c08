-- Whether a FILESYSTEM storage system of any tenant has one of `candidate_roots` as its root, or a root inside or
-- containing one of them: two systems sharing a directory would read and overwrite each other's backups. The
-- check must see every tenant's systems, so it runs as the owner; it answers yes or no and nothing else, so a
-- caller learns neither whose system it is nor where that system's root is.
CREATE FUNCTION "echelon_filesystem_root_taken"(candidate_roots text[])
    RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT EXISTS (
      SELECT 1
        FROM "storage_systems" s
        CROSS JOIN unnest(candidate_roots) AS c("root")
       WHERE s."kind" = 'FILESYSTEM'
         AND (s."config"->>'root' = c."root"
              -- rtrim keeps "/" containing every path: "/" || "/" would contain none.
              OR starts_with(s."config"->>'root', rtrim(c."root", '/') || '/')
              OR starts_with(c."root", rtrim(s."config"->>'root', '/') || '/'))
    )
$$;

REVOKE ALL ON FUNCTION "echelon_filesystem_root_taken"(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "echelon_filesystem_root_taken"(text[]) TO "echelon_app";
