import type { Db } from '@echelon/db';
import { describe, expect, it } from 'vitest';
import type { EventHub, JobNotice, ReplicaEventNotice } from './hub.js';
import { type JobUpdate, JobUpdateFeeds } from './updates.js';

/** Jobs and the LISTEN hub in memory: pure logic under test (the real stack's tests cover PostgreSQL). */
function fakeWorld() {
  const status = new Map<string, string>();
  const jobListeners = new Set<(notice: JobNotice) => void>();
  const eventListeners = new Set<(notice: ReplicaEventNotice) => void>();
  const reads: string[][] = [];
  const db = {
    backupJob: {
      findMany: async (args: { where: { id: { in: string[] }; tenantId: string } }) => {
        reads.push(args.where.id.in);
        return args.where.id.in
          .filter((id) => status.has(`${args.where.tenantId}/${id}`))
          .map((id) => ({ id, status: status.get(`${args.where.tenantId}/${id}`) }));
      },
    },
  } as unknown as Db;
  const hub = {
    onJob(listener: (notice: JobNotice) => void) {
      jobListeners.add(listener);
      return () => jobListeners.delete(listener);
    },
    onReplicaEvent(listener: (notice: ReplicaEventNotice) => void) {
      eventListeners.add(listener);
      return () => eventListeners.delete(listener);
    },
  } as unknown as EventHub;
  return {
    db,
    hub,
    reads,
    set(tenantId: string, id: string, value: string) {
      status.set(`${tenantId}/${id}`, value);
      for (const listener of jobListeners) listener({ id, tenantId });
    },
    event(tenantId: string, jobId: string) {
      for (const listener of eventListeners) listener({ id: 1n, tenantId, jobId });
    },
  };
}

const next = async (updates: AsyncIterableIterator<JobUpdate>) => {
  const result = await updates.next();
  return result.done ? undefined : { id: result.value.job.id, status: result.value.job.status };
};

describe('JobUpdateFeeds', () => {
  it('reads a burst of changes once per tenant, for every subscriber, with the newest state', async () => {
    const world = fakeWorld();
    const feeds = new JobUpdateFeeds(() => world.db, world.hub, 20);
    const subscribers = Array.from({ length: 50 }, () => feeds.subscribe('t1'));
    const elsewhere = feeds.subscribe('t2');
    world.set('t1', 'a', 'RUNNING');
    world.event('t1', 'a');
    world.set('t1', 'a', 'COMPLETED');
    world.set('t1', 'b', 'RUNNING');
    const got = await Promise.all(subscribers.map(async (updates) => [await next(updates), await next(updates)]));
    for (const pair of got) {
      expect(pair).toEqual([
        { id: 'a', status: 'COMPLETED' },
        { id: 'b', status: 'RUNNING' },
      ]);
    }
    expect(world.reads).toEqual([['a', 'b']]);
    // The other tenant's subscriber saw nothing; closing it ends its wait.
    const waiting = next(elsewhere);
    await elsewhere.return?.();
    expect(await waiting).toBeUndefined();
    await Promise.all(subscribers.map((updates) => updates.return?.()));
  });

  it('gives a slow subscriber the newest state of each job, not a backlog', async () => {
    const world = fakeWorld();
    const feeds = new JobUpdateFeeds(() => world.db, world.hub, 5);
    const updates = feeds.subscribe('t1');
    for (const status of ['PENDING', 'RUNNING', 'PARTIAL']) {
      world.set('t1', 'a', status);
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    expect(await next(updates)).toEqual({ id: 'a', status: 'PARTIAL' });
    world.set('t1', 'a', 'COMPLETED');
    expect(await next(updates)).toEqual({ id: 'a', status: 'COMPLETED' });
    await updates.return?.();
  });
});
