import { Context } from '@temporalio/activity';
import type { BackupActivities } from '../../src/activities/backup-activities.js';
import type { CopyResult } from '../../src/shared.js';

export type ActivityName = keyof BackupActivities;

/** One attempt of one activity, as the workflow dispatched it. */
export interface ActivityCall {
  activity: ActivityName;
  /** The replica's order, for the activities that take one (failReplica's order 0 is the primary). */
  order: number | undefined;
  attempt: number;
  /** The error text the workflow passed to failReplica. */
  error: string | undefined;
  /** The test server's clock, which time skipping moves; the workflow's `Date.now()` follows it. */
  startedAtMs: number;
  finishedAtMs: number;
  /** The worker's own wall clock, which time skipping does not move. */
  wallStartedAtMs: number;
  /**
   * A secondary dispatched ahead of its planned time: when the real activity starts moving bytes (it waits until
   * then; the backup-flow integration test checks that on the real stack). The fake only records it.
   */
  notBeforeMs?: number;
}

export interface FakeBackupOptions {
  secondaryCount: number;
  delaySeconds: number;
  /** What startRetry reports as the order of the replica being retried. */
  retryOrder?: number;
  /**
   * Whether a secondary is still there to write at `order` (markWaiting's answer, and the hand-over's answer of
   * the copy before it); default: all are.
   */
  hasReplica?: (order: number) => boolean;
  /** Thrown by the copy of `order` (0: the primary) on `attempt`, or undefined to let it succeed. */
  copyFailure?: (order: number, attempt: number) => Error | undefined;
  /** Thrown by runRestore on `attempt`, or undefined to let it succeed. */
  restoreFailure?: (attempt: number) => Error | undefined;
  /** Awaited at the start of every copy, so that a test can act while a copy is in progress. */
  beforeCopy?: (order: number) => Promise<void>;
  /** The test server's current time in ms. */
  clock: () => Promise<number>;
}

export interface FakeBackup {
  activities: BackupActivities;
  calls: ActivityCall[];
  /** The calls as `name` or `name(order)`, in dispatch order: what a test compares. */
  sequence(): string[];
  /** The attempts of copyPrimary (order 0) or copySecondary(order). */
  copies(order: number): ActivityCall[];
}

/**
 * In-memory activities that record what the workflow asked for and when. The workflow's logic is what is under
 * test here; the real activities have their own integration tests against the database and storage.
 */
export function createFakeBackup(options: FakeBackupOptions): FakeBackup {
  const calls: ActivityCall[] = [];
  const hasReplica = options.hasReplica ?? (() => true);

  async function record<T>(
    activity: ActivityName,
    details: { order?: number; error?: string },
    work: (attempt: number, call: ActivityCall) => T | Promise<T>,
  ): Promise<T> {
    const { attempt } = Context.current().info;
    const call: ActivityCall = {
      activity,
      order: details.order,
      attempt,
      error: details.error,
      startedAtMs: await options.clock(),
      finishedAtMs: Number.NaN,
      wallStartedAtMs: Date.now(),
    };
    calls.push(call);
    try {
      return await work(attempt, call);
    } finally {
      if (Number.isNaN(call.finishedAtMs)) call.finishedAtMs = await options.clock();
    }
  }

  /** A copy; with hand-over it reports its completion time (also its call's end) and whether a next one waits. */
  const copy = async (
    order: number,
    attempt: number,
    call: ActivityCall,
    handOver: boolean | undefined,
  ): Promise<CopyResult> => {
    await options.beforeCopy?.(order);
    const failure = options.copyFailure?.(order, attempt);
    if (failure !== undefined) throw failure;
    call.finishedAtMs = await options.clock();
    const completedAt = new Date(call.finishedAtMs).toISOString();
    if (!handOver) return { hasReplica: true, completedAt };
    const next = order + 1;
    return { hasReplica: true, completedAt, nextPending: next <= options.secondaryCount && hasReplica(next) };
  };

  const activities: BackupActivities = {
    startJob: (_input) =>
      record('startJob', {}, () => ({ secondaryCount: options.secondaryCount, delaySeconds: options.delaySeconds })),
    copyPrimary: (input) => record('copyPrimary', {}, (attempt, call) => copy(0, attempt, call, input.handOver)),
    markWaiting: (input) =>
      record('markWaiting', { order: input.order }, () => ({ hasReplica: hasReplica(input.order) })),
    copySecondary: (input) =>
      record('copySecondary', { order: input.order }, (attempt, call) => {
        if (input.notBefore) call.notBeforeMs = Date.parse(input.notBefore);
        return copy(input.order, attempt, call, input.handOver);
      }),
    failReplica: (input) => record('failReplica', { order: input.order, error: input.error }, () => undefined),
    startRetry: (_input) =>
      record('startRetry', {}, () => ({
        order: options.retryOrder ?? 0,
        secondaryCount: options.secondaryCount,
        delaySeconds: options.delaySeconds,
      })),
    cancelJob: (_input) => record('cancelJob', {}, () => ({ status: 'CANCELLED' })),
    finishJob: (_input) => record('finishJob', {}, () => ({ status: 'COMPLETED' })),
    runRestore: (_input) =>
      record('runRestore', {}, (attempt) => {
        const failure = options.restoreFailure?.(attempt);
        if (failure !== undefined) throw failure;
        return { status: 'COMPLETED' };
      }),
    failRestore: (input) => record('failRestore', { error: input.reason }, () => undefined),
  };

  return {
    activities,
    calls,
    sequence: () => calls.map((call) => (call.order === undefined ? call.activity : `${call.activity}(${call.order})`)),
    copies: (order) =>
      calls.filter((call) =>
        order === 0 ? call.activity === 'copyPrimary' : call.activity === 'copySecondary' && call.order === order,
      ),
  };
}
