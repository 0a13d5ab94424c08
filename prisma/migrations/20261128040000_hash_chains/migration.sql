-- Tamper evidence: replica events and audit entries are hash-chained per tenant. A BEFORE INSERT trigger links
-- every row to the previous one of its tenant (serialised by a lock on the chain head), so no insert path can
-- skip the chain; verifyAuditChain recomputes it with the same payload functions.

-- CreateTable
CREATE TABLE "chain_heads" (
    "tenant_id" UUID NOT NULL,
    "chain" TEXT NOT NULL,
    "seq" BIGINT NOT NULL,
    "hash" TEXT NOT NULL,

    CONSTRAINT "chain_heads_pkey" PRIMARY KEY ("tenant_id", "chain")
);

-- AlterTable
ALTER TABLE "replica_events" ADD COLUMN "chain_seq" BIGINT, ADD COLUMN "prev_hash" TEXT, ADD COLUMN "row_hash" TEXT;
ALTER TABLE "audit_entries" ADD COLUMN "chain_seq" BIGINT, ADD COLUMN "prev_hash" TEXT, ADD COLUMN "row_hash" TEXT;

-- CreateIndex
CREATE INDEX "replica_events_tenant_id_chain_seq_idx" ON "replica_events"("tenant_id", "chain_seq");
CREATE INDEX "audit_entries_tenant_id_chain_seq_idx" ON "audit_entries"("tenant_id", "chain_seq");

-- The canonical text of a row: every column that matters, in a fixed order, timestamps in UTC with ms.
CREATE FUNCTION "replica_event_payload"(e "replica_events") RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT concat_ws('|', e."id"::text, e."tenant_id"::text, e."job_id"::text, e."replica_id"::text, e."status"::text,
        e."bytes_copied"::text, coalesce(e."message", '<null>'),
        to_char(e."at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), e."chain_seq"::text)
$$;

CREATE FUNCTION "audit_entry_payload"(a "audit_entries") RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT concat_ws('|', a."id"::text, coalesce(a."tenant_id"::text, '<platform>'), coalesce(a."actor_identity_id"::text, '<null>'),
        a."actor", a."action", a."object_type", a."object_id", coalesce(a."before"::text, '<null>'), coalesce(a."after"::text, '<null>'),
        to_char(a."at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), a."chain_seq"::text)
$$;

CREATE FUNCTION "chain_hash"(prev_hash text, payload text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT encode(sha256(convert_to(prev_hash || '|' || payload, 'UTF8')), 'hex')
$$;

CREATE FUNCTION "link_chain"() RETURNS trigger AS $$
DECLARE
    chain_tenant UUID := coalesce(NEW."tenant_id", '00000000-0000-0000-0000-000000000000');
    head "chain_heads"%ROWTYPE;
BEGIN
    INSERT INTO "chain_heads" ("tenant_id", "chain", "seq", "hash")
        VALUES (chain_tenant, TG_TABLE_NAME, 0, repeat('0', 64)) ON CONFLICT DO NOTHING;
    SELECT * INTO head FROM "chain_heads" WHERE "tenant_id" = chain_tenant AND "chain" = TG_TABLE_NAME FOR UPDATE;
    NEW."chain_seq" := head."seq" + 1;
    NEW."prev_hash" := head."hash";
    IF TG_TABLE_NAME = 'replica_events' THEN
        NEW."row_hash" := "chain_hash"(NEW."prev_hash", "replica_event_payload"(NEW));
    ELSE
        NEW."row_hash" := "chain_hash"(NEW."prev_hash", "audit_entry_payload"(NEW));
    END IF;
    UPDATE "chain_heads" SET "seq" = NEW."chain_seq", "hash" = NEW."row_hash"
        WHERE "tenant_id" = chain_tenant AND "chain" = TG_TABLE_NAME;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "replica_events_chain" BEFORE INSERT ON "replica_events" FOR EACH ROW EXECUTE FUNCTION "link_chain"();
CREATE TRIGGER "audit_entries_chain" BEFORE INSERT ON "audit_entries" FOR EACH ROW EXECUTE FUNCTION "link_chain"();

-- The history is append-only: no UPDATE, no DELETE, no TRUNCATE, whatever the role (only the tables' owner could
-- disable these triggers, and verifyAuditChain would then show what changed).
CREATE FUNCTION "refuse_history_change"() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "replica_events_append_only" BEFORE UPDATE OR DELETE ON "replica_events" FOR EACH ROW EXECUTE FUNCTION "refuse_history_change"();
CREATE TRIGGER "audit_entries_append_only" BEFORE UPDATE OR DELETE ON "audit_entries" FOR EACH ROW EXECUTE FUNCTION "refuse_history_change"();
CREATE TRIGGER "replica_events_no_truncate" BEFORE TRUNCATE ON "replica_events" FOR EACH STATEMENT EXECUTE FUNCTION "refuse_history_change"();
CREATE TRIGGER "audit_entries_no_truncate" BEFORE TRUNCATE ON "audit_entries" FOR EACH STATEMENT EXECUTE FUNCTION "refuse_history_change"();
