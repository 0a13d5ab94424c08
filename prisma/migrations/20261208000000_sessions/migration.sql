-- Console sessions: a browser exchanges an API key once for a session whose secret lives only in an httpOnly
-- cookie. The row keeps a hash of that secret, never the secret. A session ends when it expires, when it is
-- revoked (sign-out), or when the API key it was opened with is revoked (the lookup below checks the key too).
CREATE TABLE "sessions" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "tenant_id" UUID NOT NULL,
    "identity_id" UUID NOT NULL,
    "api_key_id" UUID NOT NULL,
    "secret_hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "sessions_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "sessions_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE,
    CONSTRAINT "sessions_identity_id_fkey" FOREIGN KEY ("identity_id") REFERENCES "identities"("id") ON DELETE CASCADE,
    CONSTRAINT "sessions_api_key_id_fkey" FOREIGN KEY ("api_key_id") REFERENCES "api_keys"("id") ON DELETE CASCADE
);

CREATE INDEX "sessions_tenant_id_idx" ON "sessions"("tenant_id");
CREATE INDEX "sessions_api_key_id_idx" ON "sessions"("api_key_id");

GRANT SELECT, INSERT, UPDATE ON "sessions" TO "echelon_app";

ALTER TABLE "sessions" ENABLE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "sessions"
    USING ("tenant_id" = "echelon_tenant"()) WITH CHECK ("tenant_id" = "echelon_tenant"());

-- A request's cookie names its session before any tenant is known: the one read across tenants, by the session's
-- id. It returns what verifying the secret needs, with the state of the API key behind it, and nothing else.
CREATE FUNCTION "echelon_session_by_id"(session_id uuid)
    RETURNS TABLE ("id" uuid, "tenant_id" uuid, "identity_id" uuid, "api_key_id" uuid, "secret_hash" text,
        "expires_at" timestamptz, "revoked_at" timestamptz, "key_revoked_at" timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT s."id", s."tenant_id", s."identity_id", s."api_key_id", s."secret_hash", s."expires_at", s."revoked_at",
           k."revoked_at"
      FROM "sessions" s JOIN "api_keys" k ON k."id" = s."api_key_id"
     WHERE s."id" = session_id
$$;

REVOKE ALL ON FUNCTION "echelon_session_by_id"(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "echelon_session_by_id"(uuid) TO "echelon_app";
