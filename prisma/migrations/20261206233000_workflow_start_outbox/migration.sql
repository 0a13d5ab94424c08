-- requestBackup commits its job and answers; the API process starts the job's workflow right after, off the
-- request's path (the Temporal start is the slowest step under load). `workflow_started_at` records that the start
-- went through, so a job whose start was lost (the API died in between, Temporal was down) is found and started
-- by any API process's sweep.
ALTER TABLE "backup_jobs" ADD COLUMN "workflow_started_at" TIMESTAMPTZ(3);

UPDATE "backup_jobs" SET "workflow_started_at" = "created_at" WHERE "status" <> 'PENDING';

CREATE INDEX "backup_jobs_unstarted_idx" ON "backup_jobs"("created_at") WHERE "workflow_started_at" IS NULL;

-- Jobs of every tenant whose workflow start has not been recorded, created before `cutoff`, oldest first.
CREATE FUNCTION "echelon_unstarted_jobs"(cutoff timestamptz, max_rows integer)
    RETURNS TABLE ("id" uuid, "tenant_id" uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT j."id", j."tenant_id" FROM "backup_jobs" j
     WHERE j."workflow_started_at" IS NULL AND j."created_at" < cutoff
     ORDER BY j."created_at"
     LIMIT max_rows
$$;

-- Records the starts that went through, for jobs of any tenant in one statement; it sets nothing but that time.
CREATE FUNCTION "echelon_mark_workflows_started"(job_ids uuid[])
    RETURNS void
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public AS $$
    UPDATE "backup_jobs" SET "workflow_started_at" = now()
     WHERE "id" = ANY (job_ids) AND "workflow_started_at" IS NULL
$$;

REVOKE ALL ON FUNCTION "echelon_unstarted_jobs"(timestamptz, integer), "echelon_mark_workflows_started"(uuid[])
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "echelon_unstarted_jobs"(timestamptz, integer), "echelon_mark_workflows_started"(uuid[])
    TO "echelon_app";
