-- Ids in commit order, per tenant. A row's id used to come from the column default, drawn before the trigger
-- waited for the tenant's chain head: two concurrent inserts could take ids 100 and 101 and commit 101 first, so
-- a reader resuming "after 101" never saw 100. The id is now drawn after the chain-head lock is held (it is kept
-- until commit), so within a tenant a larger id always commits later: "everything after id N" is gap-free for
-- live feeds, history cursors and exports. The default still draws a value first; the trigger replaces it.

CREATE OR REPLACE FUNCTION "link_chain"() RETURNS trigger AS $$
DECLARE
    chain_tenant UUID := coalesce(NEW."tenant_id", '00000000-0000-0000-0000-000000000000');
    head "chain_heads"%ROWTYPE;
BEGIN
    INSERT INTO "chain_heads" ("tenant_id", "chain", "seq", "hash")
        VALUES (chain_tenant, TG_TABLE_NAME, 0, repeat('0', 64)) ON CONFLICT DO NOTHING;
    SELECT * INTO head FROM "chain_heads" WHERE "tenant_id" = chain_tenant AND "chain" = TG_TABLE_NAME FOR UPDATE;
    NEW."id" := nextval(pg_get_serial_sequence(quote_ident(TG_TABLE_NAME), 'id'));
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
