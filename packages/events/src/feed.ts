import {
  type Db,
  eventsAfter,
  lastEventId,
  type Replica,
  type ReplicaEvent,
  type ReplicaEventWithReplica,
} from '@echelon/db';
import type { EventHub } from './hub.js';
import { InFlight, pullIterator, Signal } from './pull.js';

/**
 * Values worked out at most once for a group of deliveries and shared by every subscriber that asks for them
 * (a tenant's storage figures at the moment an event was read, say). Nothing is loaded unless asked for.
 */
export class SharedLookups {
  private readonly values = new Map<string, Promise<unknown>>();

  once<T>(key: string, load: () => Promise<T>): Promise<T> {
    let value = this.values.get(key) as Promise<T> | undefined;
    if (value === undefined) {
      value = load();
      // A failed load is not kept: the next subscriber that asks tries again.
      value.catch(() => this.values.delete(key));
      this.values.set(key, value);
    }
    return value;
  }
}

/** One delivery of a job's live feed: the event, its replica as read with it, and the lookups of its read. */
export interface FeedItem {
  event: ReplicaEvent;
  replica: Replica;
  lookups: SharedLookups;
}

/** Events read from the table per statement. */
const PAGE = 500;
/** Events a job's feed keeps for subscribers that are behind; older ones are read by those subscribers. */
const KEEP = 1000;
/** After a failed read, how long before trying again (a notice or a hub reconnect also retries at once). */
const RETRY_MS = 1000;

/**
 * One job's events as this process has read them, shared by all of its subscribers here: each new event is
 * read from the table once, however many subscribers there are, and each subscriber takes items at its own pace
 * by position (nothing is queued per subscriber).
 */
class JobFeed {
  /** Every event of the job with an id in (floor, head] is in `items`, in id order. */
  readonly items: FeedItem[] = [];
  floor: bigint;
  head: bigint;
  subscribers = 0;
  readonly changed = new Signal();
  closed = false;

  constructor(
    readonly tenantId: string,
    readonly jobId: string,
    start: bigint,
  ) {
    this.floor = start;
    this.head = start;
  }

  /** Appends a row read for this job if it is past the head; true when it was. */
  take({ replica, ...event }: ReplicaEventWithReplica, lookups: SharedLookups): boolean {
    if (event.id <= this.head) return false;
    this.items.push({ event, replica, lookups });
    this.head = event.id;
    if (this.items.length > KEEP) {
      const dropped = this.items.splice(0, this.items.length - KEEP);
      this.floor = dropped.at(-1)?.event.id ?? this.floor;
    }
    return true;
  }

  /** The first kept item after `id`, if any (ids are increasing: binary search). */
  itemAfter(id: bigint): FeedItem | undefined {
    let low = 0;
    let high = this.items.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.items[middle] as FeedItem).event.id <= id) low = middle + 1;
      else high = middle;
    }
    return this.items[low];
  }

  close(): void {
    this.closed = true;
    this.changed.fire();
  }
}

/**
 * Reads the new events of a tenant's woken feeds, all of them with one statement: when one burst of notices wakes
 * fifty jobs' feeds, that is one read instead of fifty queued for the pool's few connections. Wake-ups that
 * arrive during a read fold into the next one. A tenant's events are inserted and committed in id order (its
 * hash chain), so reading past the lowest head of the woken feeds, each feed taking only its rows past its own
 * head, misses nothing and repeats nothing.
 */
class TenantReader {
  private readonly woken = new Set<JobFeed>();
  private reading = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Db,
    private readonly tenantId: string,
    private readonly log: (message: string) => void,
  ) {}

  wake(feed: JobFeed): void {
    this.woken.add(feed);
    void this.run();
  }

  private async run(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      while (this.woken.size > 0) {
        const feeds = [...this.woken].filter((feed) => !feed.closed);
        this.woken.clear();
        if (feeds.length === 0) break;
        try {
          await this.read(feeds);
        } catch (error) {
          this.log(`reading new events failed: ${(error as Error).message}; retrying`);
          for (const feed of feeds) this.woken.add(feed);
          this.retry ??= setTimeout(() => {
            this.retry = undefined;
            void this.run();
          }, RETRY_MS);
          break;
        }
      }
    } finally {
      this.reading = false;
    }
  }

  private async read(feeds: readonly JobFeed[]): Promise<void> {
    const byJob = new Map(feeds.map((feed) => [feed.jobId, feed]));
    // biome-ignore lint/complexity/useMathMinMax: bigints (Math.min takes numbers only)
    let after = feeds.reduce((lowest, feed) => (feed.head < lowest ? feed.head : lowest), feeds[0]?.head ?? 0n);
    for (;;) {
      const page = await eventsAfter(this.db, this.tenantId, [...byJob.keys()], after, PAGE);
      const lookups = new SharedLookups();
      const changed = new Set<JobFeed>();
      for (const row of page) {
        const feed = byJob.get(row.jobId);
        if (feed !== undefined && !feed.closed && feed.take(row, lookups)) changed.add(feed);
      }
      for (const feed of changed) feed.changed.fire();
      if (page.length < PAGE) return;
      after = page.at(-1)?.id ?? after;
    }
  }

  stop(): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
    this.woken.clear();
  }
}

/**
 * The live feeds of this process, one per job being watched. One LISTEN notice wakes one feed, which reads the
 * new rows once; subscribers resume from their own position, so the switch from replay to live has neither a
 * gap nor a duplicate, and a subscriber that falls behind the kept window reads its own pages until it is back.
 */
export class JobFeeds {
  private readonly feeds = new Map<string, JobFeed>();
  private readonly readers = new Map<string, TenantReader>();
  /** The newest event id of a job whose feed is being opened: subscribers that join meanwhile share the read. */
  private readonly opening = new InFlight<string, bigint>();
  private readonly unsubscribers: (() => void)[];

  /** `dbFor(tenantId)`: the database as that tenant (row-level security), e.g. `(id) => tenantDb(db, id)`. */
  constructor(
    private readonly dbFor: (tenantId: string) => Db,
    hub: EventHub,
    private readonly log: (message: string) => void = () => undefined,
  ) {
    this.unsubscribers = [
      hub.onReplicaEvent((notice) => {
        const feed = this.feeds.get(`${notice.tenantId}/${notice.jobId}`);
        if (feed !== undefined && notice.id > feed.head) this.wake(feed);
      }),
      hub.onReconnect(() => {
        for (const feed of this.feeds.values()) this.wake(feed);
      }),
    ];
  }

  /** Has the feed's tenant reader read what was inserted since the feed's head. */
  private wake(feed: JobFeed): void {
    let reader = this.readers.get(feed.tenantId);
    if (reader === undefined) {
      reader = new TenantReader(this.dbFor(feed.tenantId), feed.tenantId, this.log);
      this.readers.set(feed.tenantId, reader);
    }
    reader.wake(feed);
  }

  /** Jobs with a feed in this process, and their subscribers (for diagnostics and tests). */
  get size(): { feeds: number; subscribers: number } {
    let subscribers = 0;
    for (const feed of this.feeds.values()) subscribers += feed.subscribers;
    return { feeds: this.feeds.size, subscribers };
  }

  /** A job's events after `afterEventId`: what the table holds, then each new one as it is inserted. */
  subscribe(input: { tenantId: string; jobId: string; afterEventId: bigint }): AsyncIterableIterator<FeedItem> {
    const key = `${input.tenantId}/${input.jobId}`;
    const feeds = this.feeds;
    const opening = this.opening;
    const wake = (feed: JobFeed) => this.wake(feed);
    const db = this.dbFor(input.tenantId);
    const log = this.log;
    let cursor = input.afterEventId;
    let closed = false;
    const closeSignal = new Signal();
    /** A page read by this subscriber alone while it is behind the feed's window. */
    let own: FeedItem[] = [];
    let jumpTo: bigint | undefined;

    const pause = () => Promise.race([new Promise((resolve) => setTimeout(resolve, RETRY_MS)), closeSignal.promise]);

    /** Joins the job's feed, creating it if this is the job's first subscriber here; undefined once closed. */
    const attach = async (): Promise<JobFeed | undefined> => {
      let existing = feeds.get(key);
      while (existing === undefined && !closed) {
        try {
          // Listening (the hub) comes before this first read, so nothing inserted meanwhile is missed. The start
          // is never beyond the job's newest event: a made-up cursor cannot hide events from other subscribers.
          const start = await opening.run(key, () => lastEventId(db, input.tenantId, input.jobId));
          existing = feeds.get(key);
          if (existing === undefined) {
            // biome-ignore lint/complexity/useMathMinMax: bigints (Math.min takes numbers only)
            const from = input.afterEventId < start ? input.afterEventId : start;
            existing = new JobFeed(input.tenantId, input.jobId, from);
            feeds.set(key, existing);
            wake(existing);
          }
        } catch (error) {
          log(`reading the events of job ${input.jobId} failed: ${(error as Error).message}; retrying`);
          await pause();
        }
      }
      if (closed || existing === undefined) return undefined;
      existing.subscribers++;
      return existing;
    };
    const ready = attach();

    const detach = () => {
      if (closed) return;
      closed = true;
      closeSignal.fire();
      void ready.then((feed) => {
        if (feed !== undefined && --feed.subscribers === 0) {
          feed.close();
          if (feeds.get(key) === feed) feeds.delete(key);
        }
      });
    };

    return pullIterator(async (): Promise<IteratorResult<FeedItem>> => {
      const feed = await ready;
      while (!closed && feed !== undefined) {
        const mine = own.shift();
        if (mine !== undefined) {
          cursor = mine.event.id;
          return { value: mine, done: false };
        }
        if (jumpTo !== undefined) {
          if (jumpTo > cursor) cursor = jumpTo;
          jumpTo = undefined;
        }
        if (cursor >= feed.floor) {
          const item = feed.itemAfter(cursor);
          if (item !== undefined) {
            cursor = item.event.id;
            return { value: item, done: false };
          }
          await Promise.race([feed.changed.promise, closeSignal.promise]);
          continue;
        }
        // Behind the kept window: read a page alone. Every event up to the floor has committed (ids commit in
        // order), so a short page holds all of them and the cursor may then move up to the floor.
        const floor = feed.floor;
        try {
          const page = await eventsAfter(db, input.tenantId, input.jobId, cursor, PAGE);
          const lookups = new SharedLookups();
          own = page.map(({ replica, ...event }) => ({ event, replica, lookups }));
          if (page.length < PAGE) jumpTo = floor;
        } catch (error) {
          log(`reading the events of job ${input.jobId} failed: ${(error as Error).message}; retrying`);
          await pause();
        }
      }
      return { value: undefined, done: true };
    }, detach);
  }

  stop(): void {
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    for (const reader of this.readers.values()) reader.stop();
    this.readers.clear();
    for (const feed of this.feeds.values()) feed.close();
    this.feeds.clear();
  }
}
