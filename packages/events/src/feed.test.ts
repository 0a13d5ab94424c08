import type { Db } from '@echelon/db';
import { describe, expect, it } from 'vitest';
import { type FeedItem, JobFeeds } from './feed.js';
import type { EventHub, ReplicaEventNotice } from './hub.js';

const TENANT = 't';
const JOB = 'j';

/**
 * The table and the LISTEN hub, in memory: only the two reads the feed makes (a page after an id, the newest
 * id). Pure logic under test; the real stack's tests cover PostgreSQL.
 */
function fakeWorld() {
  const rows: { id: bigint; tenantId: string; jobId: string; replicaId: string }[] = [];
  const listeners = new Set<(notice: ReplicaEventNotice) => void>();
  let reads = 0;
  let newestReads = 0;
  let nextId = 1n;
  type Where = { tenantId: string; jobId: string | { in: string[] }; id?: { gt: bigint } };
  const matches = (row: (typeof rows)[number], where: Where) =>
    row.tenantId === where.tenantId &&
    (typeof where.jobId === 'string' ? row.jobId === where.jobId : where.jobId.in.includes(row.jobId)) &&
    (where.id === undefined || row.id > where.id.gt);
  const db = {
    replicaEvent: {
      findMany: async (args: { where: Where; take: number }) => {
        reads++;
        await Promise.resolve();
        return rows
          .filter((row) => matches(row, args.where))
          .slice(0, args.take)
          .map((row) => ({ ...row, replica: { id: row.replicaId } }));
      },
      findFirst: async (args: { where: { tenantId: string; jobId: string } }) => {
        newestReads++;
        await Promise.resolve();
        const found = rows.filter((row) => matches(row, args.where));
        return found.length === 0 ? null : { id: (found.at(-1) as (typeof rows)[number]).id };
      },
    },
  } as unknown as Db;
  const hub = {
    onReplicaEvent(listener: (notice: ReplicaEventNotice) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onReconnect() {
      return () => undefined;
    },
  } as unknown as EventHub;
  return {
    db,
    hub,
    get reads() {
      return reads;
    },
    get newestReads() {
      return newestReads;
    },
    /** Inserts n events of a job and sends one notice per event, as the trigger does. */
    insert(n: number, jobId = JOB) {
      for (let index = 0; index < n; index++) {
        const row = { id: nextId++, tenantId: TENANT, jobId, replicaId: 'r' };
        rows.push(row);
        for (const listener of listeners) listener({ id: row.id, tenantId: TENANT, jobId });
      }
    },
  };
}

/** Takes `count` items from a subscription. */
async function take(items: AsyncIterableIterator<FeedItem>, count: number): Promise<bigint[]> {
  const ids: bigint[] = [];
  while (ids.length < count) {
    const next = await items.next();
    if (next.done) break;
    ids.push(next.value.event.id);
  }
  return ids;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => BigInt(from + index));

describe('JobFeeds', () => {
  it('replays what the table holds, then goes live, without gap or duplicate', async () => {
    const world = fakeWorld();
    const feeds = new JobFeeds(() => world.db, world.hub);
    world.insert(3);
    const items = feeds.subscribe({ tenantId: TENANT, jobId: JOB, afterEventId: 0n });
    expect(await take(items, 3)).toEqual(range(1, 3));
    world.insert(2);
    expect(await take(items, 2)).toEqual(range(4, 5));
    const resumed = feeds.subscribe({ tenantId: TENANT, jobId: JOB, afterEventId: 4n });
    expect(await take(resumed, 1)).toEqual([5n]);
    await items.return?.();
    await resumed.return?.();
  });

  it("opens a job's feed with one read however many subscribers join at once, each from its own position", async () => {
    const world = fakeWorld();
    const feeds = new JobFeeds(() => world.db, world.hub);
    world.insert(5);
    const fromStart = Array.from({ length: 50 }, () =>
      feeds.subscribe({ tenantId: TENANT, jobId: JOB, afterEventId: 0n }),
    );
    const resumed = Array.from({ length: 50 }, () =>
      feeds.subscribe({ tenantId: TENANT, jobId: JOB, afterEventId: 3n }),
    );
    const [early, late] = await Promise.all([
      Promise.all(fromStart.map((items) => take(items, 5))),
      Promise.all(resumed.map((items) => take(items, 2))),
    ]);
    expect(early.every((ids) => ids.join() === range(1, 5).join())).toBe(true);
    expect(late.every((ids) => ids.join() === range(4, 5).join())).toBe(true);
    expect(world.newestReads).toBe(1);
    expect(feeds.size).toEqual({ feeds: 1, subscribers: 100 });
    world.insert(1);
    const live = await Promise.all([...fromStart, ...resumed].map((items) => take(items, 1)));
    expect(live.every((ids) => ids[0] === 6n)).toBe(true);
    await Promise.all([...fromStart, ...resumed].map((items) => items.return?.()));
    // Once closed, the next subscriber opens the feed afresh.
    const again = feeds.subscribe({ tenantId: TENANT, jobId: JOB, afterEventId: 5n });
    expect(await take(again, 1)).toEqual([6n]);
    expect(world.newestReads).toBe(2);
    await again.return?.();
  });

  it('reads each new event once for all subscribers of the job', async () => {
    const world = fakeWorld();
    const feeds = new JobFeeds(() => world.db, world.hub);
    const subscribers = Array.from({ length: 200 }, () =>
      feeds.subscribe({ tenantId: TENANT, jobId: JOB, afterEventId: 0n }),
    );
    const first = await Promise.all(subscribers.map((items) => take(items, 0)));
    expect(first).toHaveLength(200);
    const before = world.reads;
    for (let round = 0; round < 10; round++) {
      world.insert(1);
      const got = await Promise.all(subscribers.map((items) => take(items, 1)));
      expect(got.every((ids) => ids[0] === BigInt(round + 1))).toBe(true);
    }
    // One read per notice (the 200 subscribers share it), not one per subscriber per event.
    expect(world.reads - before).toBeLessThanOrEqual(10);
    expect(feeds.size).toEqual({ feeds: 1, subscribers: 200 });
    await Promise.all(subscribers.map((items) => items.return?.()));
    expect(feeds.size).toEqual({ feeds: 0, subscribers: 0 });
  });

  it('lets a slow subscriber fall behind the kept window and still get every event once, in order', async () => {
    const world = fakeWorld();
    const feeds = new JobFeeds(() => world.db, world.hub);
    const fast = feeds.subscribe({ tenantId: TENANT, jobId: JOB, afterEventId: 0n });
    const slow = feeds.subscribe({ tenantId: TENANT, jobId: JOB, afterEventId: 0n });
    world.insert(10);
    expect(await take(slow, 5)).toEqual(range(1, 5));
    // 3,000 more events while the slow one takes nothing: the feed keeps only the newest 1,000.
    world.insert(3000);
    expect(await take(fast, 3010)).toEqual(range(1, 3010));
    expect(await take(slow, 3005)).toEqual(range(6, 3010));
    // A newcomer from the start reads the early pages alone, then joins the shared window.
    const late = feeds.subscribe({ tenantId: TENANT, jobId: JOB, afterEventId: 0n });
    world.insert(1);
    expect(await take(late, 3011)).toEqual(range(1, 3011));
    await Promise.all([fast, slow, late].map((items) => items.return?.()));
  });

  it('does not let a made-up cursor hide events from the job’s other subscribers', async () => {
    const world = fakeWorld();
    const feeds = new JobFeeds(() => world.db, world.hub);
    world.insert(4);
    const bogus = feeds.subscribe({ tenantId: TENANT, jobId: JOB, afterEventId: 10n ** 18n });
    const pending = bogus.next();
    await new Promise((resolve) => setTimeout(resolve, 10));
    const honest = feeds.subscribe({ tenantId: TENANT, jobId: JOB, afterEventId: 0n });
    world.insert(1);
    expect(await take(honest, 5)).toEqual(range(1, 5));
    await bogus.return?.();
    expect(await pending).toEqual({ value: undefined, done: true });
    await honest.return?.();
  });

  it('keeps jobs apart and ends a waiting subscriber when it is closed', async () => {
    const world = fakeWorld();
    const feeds = new JobFeeds(() => world.db, world.hub);
    const other = feeds.subscribe({ tenantId: TENANT, jobId: 'other', afterEventId: 0n });
    const mine = feeds.subscribe({ tenantId: TENANT, jobId: JOB, afterEventId: 0n });
    world.insert(2, 'other');
    world.insert(1);
    expect(await take(mine, 1)).toEqual([3n]);
    expect(await take(other, 2)).toEqual(range(1, 2));
    const waiting = mine.next();
    await mine.return?.();
    expect(await waiting).toEqual({ value: undefined, done: true });
    expect(await mine.next()).toEqual({ value: undefined, done: true });
    await other.return?.();
    expect(feeds.size.feeds).toBe(0);
  });

  it("reads the new events of many woken jobs with one statement, each job's rows to its own feed", async () => {
    const world = fakeWorld();
    const feeds = new JobFeeds(() => world.db, world.hub);
    const jobs = Array.from({ length: 50 }, (_, index) => `job-${index}`);
    const subscriptions = jobs.map((jobId) => feeds.subscribe({ tenantId: TENANT, jobId, afterEventId: 0n }));
    // Every feed open and caught up (nothing to read yet).
    await new Promise((resolve) => setTimeout(resolve, 10));
    const before = world.reads;
    // One burst: an event for each job, each with its notice.
    for (const jobId of jobs) world.insert(1, jobId);
    const received = await Promise.all(subscriptions.map((items) => take(items, 1)));
    expect(received).toEqual(jobs.map((_, index) => [BigInt(index + 1)]));
    // The first notice starts a read; the 49 that arrive during it fold into one more.
    expect(world.reads - before).toBeLessThanOrEqual(2);
    // A job far ahead (more than a page) and one with a single event, woken together: all of each, in order.
    world.insert(700, 'job-0');
    world.insert(1, 'job-1');
    expect(await take(subscriptions[0] as AsyncIterableIterator<FeedItem>, 700)).toEqual(range(51, 750));
    expect(await take(subscriptions[1] as AsyncIterableIterator<FeedItem>, 1)).toEqual([751n]);
    for (const items of subscriptions) await items.return?.();
    expect(feeds.size.feeds).toBe(0);
  });
});
