import { type Db, eventsAfter, lastEventId, type Replica, type ReplicaEvent } from '@echelon/db';
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
  private reading = false;
  private again = false;
  private retry: NodeJS.Timeout | undefined;
  closed = false;

  constructor(
    private readonly db: Db,
    readonly tenantId: string,
    readonly jobId: string,
    start: bigint,
    private readonly log: (message: string) => void,
  ) {
    this.floor = start;
    this.head = start;
  }

  /** Reads what was inserted since the last read; concurrent calls fold into one more read. */
  async refresh(): Promise<void> {
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = true;
    try {
      do {
        this.again = false;
        for (;;) {
          const page = await eventsAfter(this.db, this.tenantId, this.jobId, this.head, PAGE);
          if (this.closed) return;
          if (page.length === 0) break;
          const lookups = new SharedLookups();
          for (const { replica, ...event } of page) this.items.push({ event, replica, lookups });
          this.head = page.at(-1)?.id ?? this.head;
          if (this.items.length > KEEP) {
            const dropped = this.items.splice(0, this.items.length - KEEP);
            this.floor = dropped.at(-1)?.event.id ?? this.floor;
          }
          this.changed.fire();
          if (page.length < PAGE) break;
        }
      } while (this.again);
    } catch (error) {
      this.log(`reading the events of job ${this.jobId} failed: ${(error as Error).message}; retrying`);
      this.retry ??= setTimeout(() => {
        this.retry = undefined;
        void this.refresh();
      }, RETRY_MS);
    } finally {
      this.reading = false;
    }
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
    if (this.retry) clearTimeout(this.retry);
    this.changed.fire();
  }
}

/**
 * The live feeds of this process, one per job being watched. One LISTEN notice wakes one feed, which reads the
 * new rows once; subscribers resume from their own position, so the switch from replay to live has neither a
 * gap nor a duplicate, and a subscriber that falls behind the kept window reads its own pages until it is back.
 */
export class JobFeeds {
  private readonly feeds = new Map<string, JobFeed>();
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
        if (feed !== undefined && notice.id > feed.head) void feed.refresh();
      }),
      hub.onReconnect(() => {
        for (const feed of this.feeds.values()) void feed.refresh();
      }),
    ];
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
            existing = new JobFeed(db, input.tenantId, input.jobId, from, log);
            feeds.set(key, existing);
            void existing.refresh();
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
    for (const feed of this.feeds.values()) feed.close();
    this.feeds.clear();
  }
}
