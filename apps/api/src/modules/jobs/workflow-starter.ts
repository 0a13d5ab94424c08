import { type Db, markWorkflowsStarted, unstartedJobs } from '@echelon/db';
import type { BackupClient } from '@echelon/temporal';

/** Starts in flight to Temporal at once: enough to keep up with a burst, few enough not to flood it. */
const CONCURRENCY = 16;
/** A job committed this long ago without a recorded start is the sweep's (its process may have died). */
const SWEEP_AFTER_MS = 5_000;
const SWEEP_EVERY_MS = 5_000;
const SWEEP_BATCH = 1_000;
/** A failed start (Temporal unreachable) is tried again by the sweep; this keeps the log readable meanwhile. */
const FAILURE_LOG_EVERY_MS = 10_000;

export interface WorkflowStarter {
  /** Starts the job's workflow soon; the job is already committed, so nothing is lost if this process dies. */
  enqueue(job: { tenantId: string; jobId: string }): void;
  /** Starts now and waits: for a caller that is about to signal or cancel the workflow. */
  startNow(job: { tenantId: string; jobId: string }): Promise<void>;
  /** One sweep of the jobs whose start was never recorded (also run at start and every few seconds). */
  sweep(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * The workflow start of a new job, off the request's path: requestBackup commits the job and answers, and this
 * starts the workflow right after, a few at a time. Under load Temporal's start is the slowest step of a request
 * (hundreds of ms with the dev server at 40 starts a second), and a client waiting for it holds nothing the start
 * needs. Each start that went through is recorded (`workflow_started_at`, batched); a job whose start was lost,
 * because this process died or Temporal was down, is found by the sweep of any API process and started then.
 * Starting is idempotent (one workflow id per job), so two processes starting one job is harmless.
 */
export function createWorkflowStarter(options: {
  db: Db;
  backups: BackupClient;
  log: (message: string) => void;
}): WorkflowStarter {
  const { db, backups, log } = options;
  const queued = new Map<string, { tenantId: string; jobId: string }>();
  const started: string[] = [];
  let running = 0;
  let stopped = false;
  let lastFailureLog = 0;
  let recording: Promise<void> = Promise.resolve();
  const idle: (() => void)[] = [];

  const record = () => {
    if (started.length === 0) return;
    const ids = started.splice(0, started.length);
    recording = recording
      .then(() => markWorkflowsStarted(db, ids))
      .catch((error: unknown) => log(`workflow starts: recording ${ids.length} start(s) failed: ${String(error)}`));
  };

  const pump = () => {
    while (!stopped && running < CONCURRENCY && queued.size > 0) {
      const [jobId, job] = queued.entries().next().value as [string, { tenantId: string; jobId: string }];
      queued.delete(jobId);
      running += 1;
      backups
        .start(job)
        .then(
          () => {
            started.push(job.jobId);
          },
          (error: unknown) => {
            if (Date.now() - lastFailureLog > FAILURE_LOG_EVERY_MS) {
              lastFailureLog = Date.now();
              log(`workflow starts: job ${job.jobId} could not be started yet (${String(error)}); the sweep retries`);
            }
          },
        )
        .finally(() => {
          running -= 1;
          // One recording per burst: the last start of a batch in flight writes them all.
          if (running === 0 || started.length >= 100) record();
          if (running === 0 && (queued.size === 0 || stopped)) for (const resolve of idle.splice(0)) resolve();
          pump();
        });
    }
  };

  const enqueue = (job: { tenantId: string; jobId: string }) => {
    if (stopped) return;
    queued.set(job.jobId, job);
    pump();
  };

  const sweep = async () => {
    const jobs = await unstartedJobs(db, new Date(Date.now() - SWEEP_AFTER_MS), SWEEP_BATCH);
    for (const job of jobs) enqueue({ tenantId: job.tenant_id, jobId: job.id });
    return jobs.length;
  };

  let sweeping: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    sweeping = sweeping.then(sweep).catch((error: unknown) => log(`workflow starts: sweep failed: ${String(error)}`));
  }, SWEEP_EVERY_MS);
  timer.unref();

  return {
    enqueue,
    async startNow(job) {
      queued.delete(job.jobId);
      await backups.start(job);
      started.push(job.jobId);
      record();
    },
    sweep,
    async stop() {
      stopped = true;
      clearInterval(timer);
      // What is in flight finishes and is recorded; what is only queued is left to the next sweep.
      if (running > 0) await new Promise<void>((resolve) => idle.push(resolve));
      record();
      await recording;
    },
  };
}
