-- The content-addressed data plane (docs/data-layout.md). A version is a list of chunks; each backup space holds a
-- tenant's chunks once, and this index says which space holds which chunk, so copies send only what a space lacks.

-- One chunk stored in one backup space. `location` is where inside the space when the store packs chunks (S3:
-- "<pack object>@<offset>"); NULL for one file per chunk (FILESYSTEM). A row exists only once the chunk's bytes are
-- durable and were verified when written.
CREATE TABLE "stored_chunks" (
    "space_id"  UUID         NOT NULL REFERENCES "backup_spaces"("id") ON DELETE CASCADE,
    "hash"      CHAR(64)     NOT NULL CHECK ("hash" ~ '^[0-9a-f]{64}$'),
    "tenant_id" UUID         NOT NULL REFERENCES "tenants"("id"),
    "length"    INTEGER      NOT NULL CHECK ("length" > 0 AND "length" <= 4194304),
    "location"  TEXT,
    "stored_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    PRIMARY KEY ("space_id", "hash")
);
CREATE INDEX "stored_chunks_tenant_id_hash_idx" ON "stored_chunks"("tenant_id", "hash");

-- The chunks of an upload in stream order, recorded as the intake stores them (a tus upload's offset resumes after
-- the last one recorded).
CREATE TABLE "upload_chunks" (
    "upload_id" TEXT     NOT NULL REFERENCES "uploads"("id") ON DELETE CASCADE,
    "seq"       INTEGER  NOT NULL CHECK ("seq" >= 0),
    "tenant_id" UUID     NOT NULL REFERENCES "tenants"("id"),
    "hash"      CHAR(64) NOT NULL,
    "length"    INTEGER  NOT NULL CHECK ("length" > 0 AND "length" <= 4194304),
    PRIMARY KEY ("upload_id", "seq")
);
CREATE INDEX "upload_chunks_tenant_id_idx" ON "upload_chunks"("tenant_id");

-- Where an upload's chunks land (the primary its identity's policy names), and, once complete, what it holds:
-- { kind: "object" | "tree", entries: [{ path, mode, mtime, size, sha256, chunks: [[hash, length], …] }] }. A
-- version whose upload has no contents is a whole object of the first data plane (staging_path, object_key).
ALTER TABLE "uploads" ADD COLUMN "intake_space_id" UUID REFERENCES "backup_spaces"("id");
ALTER TABLE "uploads" ADD COLUMN "contents" JSONB;
ALTER TABLE "uploads" ALTER COLUMN "staging_path" DROP NOT NULL;

-- The id (sha256 of the canonical file) of the manifest a replica committed: the commit point of a chunked copy.
ALTER TABLE "replicas" ADD COLUMN "manifest_id" CHAR(64);

ALTER TABLE "stored_chunks" ENABLE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "stored_chunks" USING ("tenant_id" = "echelon_tenant"())
    WITH CHECK ("tenant_id" = "echelon_tenant"());
ALTER TABLE "upload_chunks" ENABLE ROW LEVEL SECURITY;
CREATE POLICY "tenant_isolation" ON "upload_chunks" USING ("tenant_id" = "echelon_tenant"())
    WITH CHECK ("tenant_id" = "echelon_tenant"());
GRANT SELECT, INSERT, UPDATE, DELETE ON "stored_chunks", "upload_chunks" TO "echelon_app";
