import { Context } from '@temporalio/activity';
import { type BackupSpace, type Replica, reserveSpace, type StorageSystemWithSpaces, type WorkJob } from '@echelon/db';
import { DomainError } from '@echelon/domain';
import type { ActivityEnv } from './activity-support.js';

/** Where one copy attempt writes: the reservation it holds and the system and space it names. */
export interface CopyTarget {
  reserved: Replica;
  system: StorageSystemWithSpaces;
  space: BackupSpace;
}

export interface CopyTiming {
  /** A copy dispatched ahead starts moving bytes then. */
  notBefore?: Date | null;
  /** The tenant's storage systems, if already read. */
  systems?: StorageSystemWithSpaces[];
}

/**
 * The start of every copy attempt, whole object or chunks: the replica's bytes are reserved in a space of its
 * system (the full version size, re-read now), and a copy dispatched ahead of its planned time waits for it.
 */
export async function reserveAndWait(
  env: ActivityEnv,
  job: WorkJob,
  replica: Replica,
  { notBefore = null, systems }: CopyTiming,
): Promise<CopyTarget> {
  const tenantId = job.tenantId;
  const reserved = await reserveSpace(env.as(tenantId), tenantId, replica.id);
  const system = await env.systemOf(tenantId, reserved.storageSystemId, systems);
  const space = system.spaces.find((candidate) => candidate.id === reserved.spaceId);
  if (space === undefined) throw new DomainError('NOT_FOUND', `backup space ${reserved.spaceId} does not exist`);
  const context = Context.current();
  // Dispatched ahead of its planned time: everything is ready, the bytes start moving on time, never before. One
  // heartbeat per 10 s of waiting (the lead is at most 3 s: one), each a write on the Temporal server; a cancel
  // that arrives meanwhile is delivered by the copy's first heartbeat, which aborts it.
  for (let wait = notBefore === null ? 0 : notBefore.getTime() - Date.now(); wait > 0; ) {
    context.heartbeat({ waitingUntil: notBefore?.toISOString() });
    await context.sleep(Math.min(wait, 10_000));
    wait = (notBefore?.getTime() ?? 0) - Date.now();
  }
  return { reserved, system, space };
}

/**
 * Paces a copy to `bytesPerSecond` (0 or undefined: unlimited), so it does not saturate the link or the disk.
 * `take` waits until `bytes` more may pass; it is shared by the chunks a copy has in flight.
 */
export function copyPacer(bytesPerSecond: number | undefined): { take(bytes: number): Promise<void> } {
  const started = Date.now();
  let passed = 0;
  return {
    async take(bytes) {
      if (!bytesPerSecond) return;
      passed += bytes;
      const wait = started + (passed / bytesPerSecond) * 1000 - Date.now();
      // The activity's own sleep: a cancel ends it at once.
      if (wait > 0) await Context.current().sleep(wait);
    },
  };
}
