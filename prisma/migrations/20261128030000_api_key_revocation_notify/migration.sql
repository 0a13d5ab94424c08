-- A revoked key must lose its open graphql-ws connections in every API process at once.
CREATE FUNCTION "notify_api_key_revoked"() RETURNS trigger AS $$
BEGIN
    IF NEW."revoked_at" IS NOT NULL AND OLD."revoked_at" IS NULL THEN
        PERFORM pg_notify('api_keys', json_build_object('id', NEW."id", 'tenantId', NEW."tenant_id")::text);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "api_keys_notify_revoked" AFTER UPDATE OF "revoked_at" ON "api_keys"
    FOR EACH ROW EXECUTE FUNCTION "notify_api_key_revoked"();
