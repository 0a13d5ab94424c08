import { type Db, eventsAfter, type ReplicaEvent } from '@echelon/db';
import { Channel } from './channel.js';
import type { EventHub } from './hub.js';

/**
 * A job's replica events after `afterEventId`: first what the table already holds, then each new one as it
 * is inserted. Every delivery is read from the table by id, after the last id delivered, so the switch from
 * replay to live has neither a gap nor a duplicate.
 */
export function streamReplicaEvents(
  db: Db,
  hub: EventHub,
  input: { tenantId: string; jobId: string; afterEventId: bigint },
): AsyncIterableIterator<ReplicaEvent> {
  let lastId = input.afterEventId;
  let draining = false;
  let again = false;
  const unsubscribers: (() => void)[] = [];
  const channel = new Channel<ReplicaEvent>(() => {
    for (const unsubscribe of unsubscribers) unsubscribe();
  });
  const drain = async (): Promise<void> => {
    if (draining) {
      again = true;
      return;
    }
    draining = true;
    try {
      do {
        again = false;
        for (;;) {
          const batch = await eventsAfter(db, input.tenantId, input.jobId, lastId, 500);
          for (const event of batch) {
            channel.push(event);
            lastId = event.id;
          }
          if (batch.length < 500) break;
        }
      } while (again);
    } catch {
      // A failed read is retried on the next wake-up; the cursor has not moved past anything undelivered.
      again = false;
    } finally {
      draining = false;
    }
  };
  // Listen before the first read so nothing inserted in between is missed.
  unsubscribers.push(
    hub.onReplicaEvent((notice) => {
      if (notice.jobId === input.jobId && notice.tenantId === input.tenantId && notice.id > lastId) void drain();
    }),
    hub.onReconnect(() => void drain()),
  );
  void drain();
  return channel;
}

/** Ids of the tenant's jobs as they change (status or any replica event). */
export function streamJobChanges(hub: EventHub, tenantId: string): AsyncIterableIterator<string> {
  const unsubscribers: (() => void)[] = [];
  const channel = new Channel<string>(() => {
    for (const unsubscribe of unsubscribers) unsubscribe();
  });
  unsubscribers.push(
    hub.onJob((notice) => {
      if (notice.tenantId === tenantId) channel.push(notice.id);
    }),
    hub.onReplicaEvent((notice) => {
      if (notice.tenantId === tenantId) channel.push(notice.jobId);
    }),
  );
  return channel;
}
