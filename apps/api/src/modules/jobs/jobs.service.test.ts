import { describe, expect, it } from 'vitest';
import type { RequestContext } from '../../context.js';
import { canSeeJob } from './jobs.service.js';

/** A caller of tenant t-1 whose database answers the owner read of every job with `ownerId` (counted). */
function callers(ownerId: string) {
  let reads = 0;
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const db = {
    backupJob: {
      findFirst: async () => {
        reads++;
        await gate;
        return { identityId: ownerId };
      },
    },
  };
  const as = (identityId: string, roles: string[]) =>
    ({
      principal: {
        kind: 'identity',
        tenant: { id: 't-1' },
        identity: { id: identityId, roles },
        apiKeyId: `key-${identityId}`,
      },
      db,
    }) as unknown as RequestContext;
  return { as, reads: () => reads, release };
}

describe('canSeeJob', () => {
  it('shares one owner read among the subscribers that join a job at once, each judged by its own roles', async () => {
    const { as, reads, release } = callers('owner');
    const owner = as('owner', ['MEMBER']);
    const stranger = as('stranger', ['MEMBER']);
    const operator = as('operator', ['OPERATOR']);
    const checks = [
      ...Array.from({ length: 10 }, () => canSeeJob(owner, 'job-1')),
      ...Array.from({ length: 5 }, () => canSeeJob(stranger, 'job-1')),
      ...Array.from({ length: 5 }, () => canSeeJob(operator, 'job-1')),
    ];
    release();
    const seen = await Promise.all(checks);
    expect(reads()).toBe(1);
    expect(seen).toEqual([...Array(10).fill(true), ...Array(5).fill(false), ...Array(5).fill(true)]);
    // Once the read settled, the next check reads again (nothing is cached).
    expect(await canSeeJob(stranger, 'job-1')).toBe(false);
    expect(reads()).toBe(2);
  });
});
