import { type Db, getJobs, type JobWithRelations } from '@echelon/db';
import { SharedLookups } from './feed.js';
import type { EventHub } from './hub.js';
import { pullIterator, Signal } from './pull.js';

/** A job as it is after a change, with the lookups shared by every subscriber of the read that found it. */
export interface JobUpdate {
  job: JobWithRelations;
  lookups: SharedLookups;
}

const RETRY_MS = 1000;

/** One subscriber: the newest state of each job that changed since it last took one (bounded by the jobs). */
class UpdateInbox {
  readonly latest = new Map<string, JobUpdate>();
  readonly changed = new Signal();
  closed = false;
}

/** One tenant's changes in this process: gathered for a moment, then each changed job read once for everyone. */
class TenantUpdates {
  readonly inboxes = new Set<UpdateInbox>();
  private readonly pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private reading = false;

  constructor(
    private readonly db: Db,
    private readonly tenantId: string,
    private readonly coalesceMs: number,
    private readonly log: (message: string) => void,
  ) {}

  touch(jobId: string): void {
    this.pending.add(jobId);
    this.schedule(this.coalesceMs);
  }

  private schedule(delay: number): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delay);
  }

  private async flush(): Promise<void> {
    if (this.reading) return this.schedule(this.coalesceMs);
    const ids = [...this.pending];
    this.pending.clear();
    if (ids.length === 0 || this.inboxes.size === 0) return;
    this.reading = true;
    try {
      const jobs = await getJobs(this.db, this.tenantId, ids);
      const lookups = new SharedLookups();
      for (const job of jobs) {
        const update = { job, lookups };
        for (const inbox of this.inboxes) {
          inbox.latest.delete(job.id);
          inbox.latest.set(job.id, update);
          inbox.changed.fire();
        }
      }
    } catch (error) {
      this.log(`reading changed jobs failed: ${(error as Error).message}; retrying`);
      for (const id of ids) this.pending.add(id);
      this.schedule(RETRY_MS);
    } finally {
      this.reading = false;
    }
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}

/**
 * `backupJobUpdated` for every subscriber of this process: a job's status change or replica event marks it
 * changed; after `coalesceMs` each changed job is read once per tenant, not once per subscriber, and every
 * subscriber gets its newest state (a slow subscriber skips states it had not taken yet, never the last one).
 */
export class JobUpdateFeeds {
  private readonly tenants = new Map<string, TenantUpdates>();
  private readonly unsubscribers: (() => void)[];

  /** `dbFor(tenantId)`: the database as that tenant (row-level security), e.g. `(id) => tenantDb(db, id)`. */
  constructor(
    private readonly dbFor: (tenantId: string) => Db,
    hub: EventHub,
    private readonly coalesceMs = 150,
    private readonly log: (message: string) => void = () => undefined,
  ) {
    this.unsubscribers = [
      hub.onJob((notice) => this.tenants.get(notice.tenantId)?.touch(notice.id)),
      hub.onReplicaEvent((notice) => this.tenants.get(notice.tenantId)?.touch(notice.jobId)),
    ];
  }

  subscribe(tenantId: string): AsyncIterableIterator<JobUpdate> {
    let tenant = this.tenants.get(tenantId);
    if (tenant === undefined) {
      tenant = new TenantUpdates(this.dbFor(tenantId), tenantId, this.coalesceMs, this.log);
      this.tenants.set(tenantId, tenant);
    }
    const inbox = new UpdateInbox();
    tenant.inboxes.add(inbox);
    const owner = tenant;
    const tenants = this.tenants;
    return pullIterator(
      async (): Promise<IteratorResult<JobUpdate>> => {
        while (!inbox.closed) {
          const first = inbox.latest.entries().next();
          if (!first.done) {
            const [jobId, update] = first.value;
            inbox.latest.delete(jobId);
            return { value: update, done: false };
          }
          await inbox.changed.promise;
        }
        return { value: undefined, done: true };
      },
      () => {
        inbox.closed = true;
        inbox.changed.fire();
        owner.inboxes.delete(inbox);
        if (owner.inboxes.size === 0 && tenants.get(tenantId) === owner) {
          owner.close();
          tenants.delete(tenantId);
        }
      },
    );
  }

  stop(): void {
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    for (const tenant of this.tenants.values()) tenant.close();
    this.tenants.clear();
  }
}
