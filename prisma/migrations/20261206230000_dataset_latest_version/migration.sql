-- The number of a dataset's newest version, kept on the dataset's row: requestBackup numbers a new version with
-- one upsert of that row (which waits for any other request numbering the same dataset, then sees its result),
-- so the whole job is written by one statement.
ALTER TABLE "datasets" ADD COLUMN "latest_version" INTEGER NOT NULL DEFAULT 0;

UPDATE "datasets" d
   SET "latest_version" = COALESCE((SELECT max(v."number") FROM "dataset_versions" v WHERE v."dataset_id" = d."id"), 0);
