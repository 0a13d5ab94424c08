import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DomainError } from './errors.js';
import {
  assertJobTransition,
  assertReplicaTransition,
  BACKUP_JOB_STATUSES,
  type BackupJobStatus,
  canTransitionJob,
  canTransitionReplica,
  finalJobStatus,
  isReadableReplicaStatus,
  isTerminalReplicaStatus,
  isVerifiedReplicaStatus,
  jobOutcome,
  REPLICA_STATUSES,
  type ReplicaStatus,
} from './replica-state.js';

/** The replica state machine as ARCHITECTURE.md describes it, written out edge by edge. */
const ALLOWED_REPLICA = new Set<string>([
  // the happy path
  'PLANNED→WAITING',
  'WAITING→COPYING',
  'COPYING→VERIFYING',
  'VERIFYING→COMPLETED',
  // the primary has no delay to wait for
  'PLANNED→COPYING',
  // progress ticks while copying; a failed verification copies again
  'COPYING→COPYING',
  'VERIFYING→COPYING',
  // failures and cancellation while in flight
  'WAITING→FAILED',
  'COPYING→FAILED',
  'VERIFYING→FAILED',
  'PLANNED→CANCELLED',
  'WAITING→CANCELLED',
  'COPYING→CANCELLED',
  'VERIFYING→CANCELLED',
  // no capacity, decided at planning or when the copy is dispatched
  'PLANNED→SKIPPED',
  'WAITING→SKIPPED',
  // retryReplica
  'FAILED→COPYING',
  // a scrub or verifyReplica found a verified copy damaged; the repair put every bad chunk back
  'COMPLETED→DEGRADED',
  'DEGRADED→COMPLETED',
]);

const ALLOWED_JOB = new Set<string>([
  'PENDING→RUNNING',
  'PENDING→FAILED',
  'PENDING→CANCELLED',
  'RUNNING→COMPLETED',
  'RUNNING→PARTIAL',
  'RUNNING→FAILED',
  'RUNNING→CANCELLED',
  // retryReplica re-opens a job that did not fully succeed
  'PARTIAL→RUNNING',
  'FAILED→RUNNING',
]);

const pairs = <T extends string>(statuses: readonly T[]): [T, T][] =>
  statuses.flatMap((from) => statuses.map((to): [T, T] => [from, to]));

const thrownBy = (run: () => void): unknown => {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
};

describe('replica transitions', () => {
  it.each(pairs(REPLICA_STATUSES))('%s → %s', (from, to) => {
    const allowed = ALLOWED_REPLICA.has(`${from}→${to}`);
    expect(canTransitionReplica(from, to)).toBe(allowed);
    const error = thrownBy(() => assertReplicaTransition(from, to));
    if (allowed) {
      expect(error).toBeUndefined();
    } else {
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).code).toBe('CONFLICT');
      expect((error as DomainError).message).toBe(`a replica cannot go from ${from} to ${to}`);
      expect((error as DomainError).details).toEqual({ from, to });
    }
  });

  it('never completes without verifying (a repair verifies every chunk it puts back)', () => {
    for (const from of REPLICA_STATUSES.filter((s) => s !== 'VERIFYING' && s !== 'DEGRADED')) {
      expect(canTransitionReplica(from, 'COMPLETED')).toBe(false);
    }
    expect(() => assertReplicaTransition('COPYING', 'COMPLETED')).toThrow(DomainError);
  });

  it('never goes back to PLANNED', () => {
    for (const from of REPLICA_STATUSES) expect(canTransitionReplica(from, 'PLANNED')).toBe(false);
  });

  it('leaves FAILED only by copying again (retryReplica)', () => {
    expect(REPLICA_STATUSES.filter((to) => canTransitionReplica('FAILED', to))).toEqual(['COPYING']);
  });

  it('leaves COMPLETED only for DEGRADED, and DEGRADED only for COMPLETED (never the copy or retry path)', () => {
    expect(REPLICA_STATUSES.filter((to) => canTransitionReplica('COMPLETED', to))).toEqual(['DEGRADED']);
    expect(REPLICA_STATUSES.filter((to) => canTransitionReplica('DEGRADED', to))).toEqual(['COMPLETED']);
    expect(REPLICA_STATUSES.filter((from) => canTransitionReplica(from, 'DEGRADED'))).toEqual(['COMPLETED']);
  });

  it('SKIPPED and CANCELLED are final', () => {
    for (const from of ['SKIPPED', 'CANCELLED'] as const) {
      for (const to of REPLICA_STATUSES) {
        expect(canTransitionReplica(from, to)).toBe(false);
        expect(() => assertReplicaTransition(from, to)).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
      }
    }
  });

  it('terminal statuses (no copy in flight) are COMPLETED, FAILED, SKIPPED, CANCELLED and DEGRADED', () => {
    expect(REPLICA_STATUSES.filter(isTerminalReplicaStatus)).toEqual([
      'COMPLETED',
      'FAILED',
      'SKIPPED',
      'CANCELLED',
      'DEGRADED',
    ]);
  });

  it('counts only COMPLETED as verified, and COMPLETED or DEGRADED as readable', () => {
    expect(REPLICA_STATUSES.filter(isVerifiedReplicaStatus)).toEqual(['COMPLETED']);
    expect(REPLICA_STATUSES.filter(isReadableReplicaStatus)).toEqual(['COMPLETED', 'DEGRADED']);
  });

  it('every in-flight status can be cancelled', () => {
    for (const from of REPLICA_STATUSES.filter((s) => !isTerminalReplicaStatus(s))) {
      expect(canTransitionReplica(from, 'CANCELLED')).toBe(true);
    }
  });
});

describe('job transitions', () => {
  it.each(pairs(BACKUP_JOB_STATUSES))('%s → %s', (from, to) => {
    const allowed = ALLOWED_JOB.has(`${from}→${to}`);
    expect(canTransitionJob(from, to)).toBe(allowed);
    const error = thrownBy(() => assertJobTransition(from, to));
    if (allowed) {
      expect(error).toBeUndefined();
    } else {
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).code).toBe('CONFLICT');
      expect((error as DomainError).message).toBe(`a backup job cannot go from ${from} to ${to}`);
      expect((error as DomainError).details).toEqual({ from, to });
    }
  });

  it('COMPLETED and CANCELLED jobs are final', () => {
    for (const to of BACKUP_JOB_STATUSES) {
      expect(canTransitionJob('COMPLETED', to)).toBe(false);
      expect(canTransitionJob('CANCELLED', to)).toBe(false);
    }
  });
});

type ReplicaRow = { order: number; status: ReplicaStatus };
const replicas = (...statuses: ReplicaStatus[]): ReplicaRow[] => statuses.map((status, order) => ({ order, status }));

describe('finalJobStatus', () => {
  it('is COMPLETED when every replica completed', () => {
    expect(finalJobStatus(replicas('COMPLETED', 'COMPLETED', 'COMPLETED'))).toBe('COMPLETED');
  });

  it('is COMPLETED when only the primary was needed', () => {
    expect(finalJobStatus(replicas('COMPLETED'))).toBe('COMPLETED');
  });

  it('counts skipped secondaries as recorded, not failed', () => {
    expect(finalJobStatus(replicas('COMPLETED', 'SKIPPED', 'COMPLETED'))).toBe('COMPLETED');
    expect(finalJobStatus(replicas('COMPLETED', 'SKIPPED', 'SKIPPED'))).toBe('COMPLETED');
  });

  it('is FAILED when the primary failed, whatever the secondaries did', () => {
    expect(finalJobStatus(replicas('FAILED'))).toBe('FAILED');
    expect(finalJobStatus(replicas('FAILED', 'COMPLETED', 'COMPLETED'))).toBe('FAILED');
    expect(finalJobStatus(replicas('FAILED', 'SKIPPED', 'CANCELLED'))).toBe('FAILED');
  });

  it('is FAILED when the primary did not complete for another reason', () => {
    expect(finalJobStatus(replicas('SKIPPED', 'COMPLETED'))).toBe('FAILED');
    expect(finalJobStatus(replicas('PLANNED', 'PLANNED'))).toBe('FAILED');
  });

  it('is FAILED when there is no primary at all', () => {
    expect(finalJobStatus([])).toBe('FAILED');
    expect(finalJobStatus([{ order: 1, status: 'COMPLETED' }])).toBe('FAILED');
  });

  it('is PARTIAL when the primary completed and a secondary failed', () => {
    expect(finalJobStatus(replicas('COMPLETED', 'FAILED'))).toBe('PARTIAL');
    expect(finalJobStatus(replicas('COMPLETED', 'COMPLETED', 'FAILED', 'SKIPPED'))).toBe('PARTIAL');
  });

  it('is CANCELLED when the primary was cancelled', () => {
    expect(finalJobStatus(replicas('CANCELLED', 'CANCELLED'))).toBe('CANCELLED');
  });

  it('is CANCELLED when a secondary was cancelled after the primary completed', () => {
    expect(finalJobStatus(replicas('COMPLETED', 'COMPLETED', 'CANCELLED'))).toBe('CANCELLED');
    expect(finalJobStatus(replicas('COMPLETED', 'FAILED', 'CANCELLED'))).toBe('CANCELLED');
  });

  it('finds the primary by order, not by position', () => {
    const rows: ReplicaRow[] = [
      { order: 2, status: 'COMPLETED' },
      { order: 1, status: 'FAILED' },
      { order: 0, status: 'COMPLETED' },
    ];
    expect(finalJobStatus(rows)).toBe('PARTIAL');
    expect(
      finalJobStatus([
        { order: 1, status: 'COMPLETED' },
        { order: 0, status: 'FAILED' },
      ]),
    ).toBe('FAILED');
  });
});

describe('finalJobStatus properties', () => {
  const terminal: ReplicaStatus[] = ['COMPLETED', 'FAILED', 'SKIPPED', 'CANCELLED', 'DEGRADED'];
  const terminalArb = fc.constantFrom(...terminal);
  const jobArb = fc
    .tuple(terminalArb, fc.array(terminalArb, { maxLength: 6 }))
    .map(([primary, secondaries]) => replicas(primary, ...secondaries));

  it('is always one of the final job statuses', () => {
    const finals: BackupJobStatus[] = ['COMPLETED', 'PARTIAL', 'FAILED', 'CANCELLED'];
    fc.assert(
      fc.property(jobArb, (rows) => {
        expect(finals).toContain(finalJobStatus(rows));
      }),
    );
  });

  it('does not depend on the order the replicas are listed in', () => {
    fc.assert(
      fc.property(
        jobArb.chain((rows) => fc.tuple(fc.constant(rows), fc.shuffledSubarray(rows, { minLength: rows.length }))),
        ([rows, shuffled]) => {
          expect(finalJobStatus(shuffled)).toBe(finalJobStatus(rows));
        },
      ),
    );
  });

  it('matches the rules: primary failed → FAILED, cancelled → CANCELLED, secondary failed → PARTIAL', () => {
    fc.assert(
      fc.property(jobArb, (rows) => {
        const [primary, ...secondaries] = rows.map((row) => row.status);
        const expected: BackupJobStatus =
          primary === 'CANCELLED'
            ? 'CANCELLED'
            : primary !== 'COMPLETED' && primary !== 'DEGRADED'
              ? 'FAILED'
              : secondaries.includes('CANCELLED')
                ? 'CANCELLED'
                : secondaries.includes('FAILED')
                  ? 'PARTIAL'
                  : 'COMPLETED';
        expect(finalJobStatus(rows)).toBe(expected);
      }),
    );
  });

  it('is COMPLETED exactly when the primary completed and every secondary completed or was skipped', () => {
    fc.assert(
      fc.property(jobArb, (rows) => {
        const written = (status: ReplicaStatus | undefined) => status === 'COMPLETED' || status === 'DEGRADED';
        const isClean = written(rows[0]?.status) && rows.every((r) => written(r.status) || r.status === 'SKIPPED');
        expect(finalJobStatus(rows) === 'COMPLETED').toBe(isClean);
      }),
    );
  });

  it('the final status is reachable from RUNNING', () => {
    fc.assert(
      fc.property(jobArb, (rows) => {
        expect(canTransitionJob('RUNNING', finalJobStatus(rows))).toBe(true);
      }),
    );
  });
});

describe('jobOutcome with a minimum of verified copies', () => {
  const replicas = (...statuses: ReplicaStatus[]) =>
    statuses.map((status, order) => ({ order, status, lastError: null }));

  it('fails a job with fewer verified copies than required and says how many it has', () => {
    expect(jobOutcome(replicas('COMPLETED', 'FAILED', 'SKIPPED'), 2)).toEqual({
      status: 'FAILED',
      reason: 'only 1 verified copy; the policy requires at least 2',
    });
    expect(jobOutcome(replicas('COMPLETED', 'SKIPPED', 'SKIPPED'), 3).status).toBe('FAILED');
  });

  it('keeps PARTIAL or COMPLETED once the minimum is met', () => {
    expect(jobOutcome(replicas('COMPLETED', 'COMPLETED', 'FAILED'), 2).status).toBe('PARTIAL');
    expect(jobOutcome(replicas('COMPLETED', 'COMPLETED', 'COMPLETED'), 3)).toEqual({
      status: 'COMPLETED',
      reason: null,
    });
    expect(jobOutcome(replicas('COMPLETED', 'SKIPPED'), 1)).toEqual({ status: 'COMPLETED', reason: null });
  });

  it('does not count a DEGRADED copy as verified, nor fail the job for a DEGRADED primary', () => {
    expect(jobOutcome(replicas('DEGRADED', 'COMPLETED'), 1)).toEqual({ status: 'COMPLETED', reason: null });
    expect(jobOutcome(replicas('DEGRADED', 'COMPLETED'), 2)).toEqual({
      status: 'FAILED',
      reason: 'only 1 verified copy; the policy requires at least 2',
    });
    expect(jobOutcome(replicas('COMPLETED', 'DEGRADED', 'FAILED'), 1).status).toBe('PARTIAL');
  });

  it('reports the primary failure and cancellation in words', () => {
    expect(jobOutcome([{ order: 0, status: 'FAILED', lastError: 'disk full' }], 1).reason).toBe(
      'the primary copy failed: disk full',
    );
    expect(jobOutcome(replicas('COMPLETED', 'CANCELLED'), 1)).toEqual({
      status: 'CANCELLED',
      reason: 'cancelled on request',
    });
  });
});
