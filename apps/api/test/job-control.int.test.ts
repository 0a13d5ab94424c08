import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { seedTenant, type SeededTenant, type StorageSeed } from '@echelon/db';
import { gql, gqlOk, randomData, sha256, startTestStack, type TestStack, uploadBytes } from '@echelon/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MIB = 1024 * 1024;

const STORAGE: StorageSeed[] = [
  { name: 'primary-ssd', spaces: [{ name: 'fast', capacityBytes: 256 * MIB }] },
  { name: 'large-ceph', spaces: [{ name: 'bucket', capacityBytes: 512 * MIB }] },
  { name: 'small-nas', spaces: [{ name: 'shelf', capacityBytes: 128 * MIB }] },
];

interface Job {
  id: string;
  status: string;
  statusReason: string | null;
  replicas: {
    id: string;
    order: number;
    status: string;
    attempts: number;
    lastError: string | null;
    checksum: string | null;
    storageSystem: { name: string };
    space: { usedBytes: number } | null;
  }[];
}

const JOB = `id status statusReason replicas { id order status attempts lastError checksum storageSystem { name } space { usedBytes } }`;

describe('controlling running jobs (real stack)', () => {
  let env: TestStack;
  let counter = 0;

  beforeAll(async () => {
    env = await startTestStack();
  }, 240_000);
  afterAll(async () => {
    await env?.stop();
  }, 60_000);

  const tenant = (options: { delaySeconds: number; minCopies?: number }) => {
    const index = counter++;
    return seedTenant(env.db, {
      slug: `control-${Date.now()}-${index}`,
      name: 'Control',
      storageRoot: path.join(env.dataDir, `storage-${index}`),
      storage: STORAGE,
      copies: 3,
      ordering: 'CAPACITY',
      ...options,
    });
  };

  const job = async (seeded: SeededTenant, id: string) =>
    (
      await gqlOk<{ backupJob: Job }>(env.apiUrl, seeded.apiKey, `query($id: ID!) { backupJob(id: $id) { ${JOB} } }`, {
        id,
      })
    ).backupJob;

  async function waitFor(
    seeded: SeededTenant,
    id: string,
    done: (job: Job) => boolean,
    timeoutMs = 90_000,
  ): Promise<Job> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const current = await job(seeded, id);
      if (done(current)) return current;
      if (Date.now() > deadline)
        throw new Error(`job ${id} never reached the expected state: ${JSON.stringify(current)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  async function requestBackup(seeded: SeededTenant, bytes: Buffer, datasetKey = 'control/data'): Promise<Job> {
    const uploadId = await uploadBytes(env.apiUrl, seeded.apiKey, bytes);
    return (
      await gqlOk<{ requestBackup: Job }>(
        env.apiUrl,
        seeded.apiKey,
        `mutation($input: RequestBackupInput!) { requestBackup(input: $input) { ${JOB} } }`,
        { input: { datasetKey, uploadId } },
      )
    ).requestBackup;
  }

  /** Makes a backup space unusable the way a broken mount is: its directory is a file. */
  async function breakSpace(seeded: SeededTenant, system: string, space: string): Promise<() => Promise<void>> {
    const dir = path.join(env.dataDir, `storage-${seeded.tenant.slug.split('-').pop()}`, system, space);
    await rm(dir, { recursive: true, force: true });
    await writeFile(dir, 'not a directory');
    return async () => {
      await rm(dir, { force: true });
      await mkdir(dir, { recursive: true });
    };
  }

  it('fails a secondary on broken storage (PARTIAL, with the reason), then retryReplica completes it', async () => {
    const seeded = await tenant({ delaySeconds: 0 });
    const repair = await breakSpace(seeded, 'small-nas', 'shelf');
    const data = randomData(MIB);
    const requested = await requestBackup(seeded, data);
    const partial = await waitFor(
      seeded,
      requested.id,
      (current) => current.status !== 'RUNNING' && current.status !== 'PENDING',
    );
    expect(partial.status).toBe('PARTIAL');
    expect(partial.statusReason).toMatch(/secondary #2 failed/);
    const failed = partial.replicas.find((replica) => replica.storageSystem.name === 'small-nas');
    expect(failed?.status).toBe('FAILED');
    // In plain words, naming the storage as the tenant knows it, and no path on the worker's host.
    expect(failed?.lastError).toMatch(
      /^cannot write to small-nas\/shelf: a part of its path is a file, not a directory/,
    );
    expect(failed?.lastError).not.toContain(env.dataDir);
    expect(failed?.lastError).not.toMatch(/\/tmp\/|tenants\//);
    // A refusing storage is not retried: the first attempt was the only one.
    expect(failed?.attempts).toBe(1);
    expect(failed?.space?.usedBytes).toBe(0);

    // Retrying while storage is still broken fails again; retrying a non-failed replica is a CONFLICT.
    const completed = partial.replicas.find((replica) => replica.status === 'COMPLETED');
    const conflict = await gql(env.apiUrl, seeded.apiKey, 'mutation($id: ID!) { retryReplica(id: $id) { id } }', {
      id: completed?.id,
    });
    expect(conflict.errors?.[0]?.extensions?.code).toBe('CONFLICT');

    await repair();
    const retried = await gqlOk<{ retryReplica: { id: string } }>(
      env.apiUrl,
      seeded.apiKey,
      'mutation($id: ID!) { retryReplica(id: $id) { id status } }',
      { id: failed?.id },
    );
    expect(retried.retryReplica.id).toBe(failed?.id);
    const done = await waitFor(seeded, requested.id, (current) => current.status === 'COMPLETED');
    const again = done.replicas.find((replica) => replica.id === failed?.id);
    expect(again?.status).toBe('COMPLETED');
    expect(again?.attempts).toBe(2);
    expect(again?.checksum).toBe(sha256(data));
    expect(again?.space?.usedBytes).toBe(data.length);
    expect(done.statusReason).toBeNull();
  });

  it('fails the job when fewer copies than the minimum are verified, and says why', async () => {
    const seeded = await tenant({ delaySeconds: 0, minCopies: 3 });
    await breakSpace(seeded, 'large-ceph', 'bucket');
    const requested = await requestBackup(seeded, randomData(256 * 1024));
    const failed = await waitFor(
      seeded,
      requested.id,
      (current) => current.status !== 'RUNNING' && current.status !== 'PENDING',
    );
    expect(failed.status).toBe('FAILED');
    expect(failed.statusReason).toBe('only 2 verified copies; the policy requires at least 3');
  });

  it('replicateNow ends an hour-long delay at once', async () => {
    const seeded = await tenant({ delaySeconds: 3600 });
    const requested = await requestBackup(seeded, randomData(128 * 1024));
    await waitFor(seeded, requested.id, (current) => current.replicas.some((replica) => replica.status === 'WAITING'));
    const started = Date.now();
    await gqlOk(env.apiUrl, seeded.apiKey, 'mutation($id: ID!) { replicateNow(id: $id) { id } }', { id: requested.id });
    const done = await waitFor(seeded, requested.id, (current) => current.status === 'COMPLETED', 30_000);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(done.replicas.every((replica) => replica.status === 'COMPLETED')).toBe(true);
  });

  it('cancelBackup during a delay cancels the unwritten replicas and gives their space back', async () => {
    const seeded = await tenant({ delaySeconds: 3600 });
    const requested = await requestBackup(seeded, randomData(128 * 1024));
    await waitFor(seeded, requested.id, (current) => current.replicas.some((replica) => replica.status === 'WAITING'));
    await gqlOk(env.apiUrl, seeded.apiKey, 'mutation($id: ID!) { cancelBackup(id: $id) { id } }', { id: requested.id });
    const cancelled = await waitFor(seeded, requested.id, (current) => current.status === 'CANCELLED', 30_000);
    const byOrder = [...cancelled.replicas].sort((a, b) => a.order - b.order);
    expect(byOrder.map((replica) => replica.status)).toEqual(['COMPLETED', 'CANCELLED', 'CANCELLED']);
    for (const replica of byOrder.slice(1)) expect(replica.space?.usedBytes ?? 0).toBe(0);
    expect(cancelled.statusReason).toBe('cancelled on request');
    const twice = await gql(env.apiUrl, seeded.apiKey, 'mutation($id: ID!) { cancelBackup(id: $id) { id } }', {
      id: requested.id,
    });
    expect(twice.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const unknown = await gql(env.apiUrl, seeded.apiKey, 'mutation($id: ID!) { cancelBackup(id: $id) { id } }', {
      id: '00000000-0000-4000-8000-000000000000',
    });
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});
