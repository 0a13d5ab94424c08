import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { seedTenant, type SeededTenant } from '@echelon/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  collect,
  gql,
  gqlOk,
  randomData,
  sha256,
  startTestStack,
  type TestStack,
  uploadBytes,
  wsClient,
} from '@echelon/stack';
import { expectChunkedReplica, filesUnder, isPartialWrite } from './chunked-layout.js';

const MIB = 1024 * 1024;
const DELAY_SECONDS = 2;

const JOB_FIELDS = `
  id datasetKey version status createdAt completedAt
  identity { externalId }
  scheme {
    matchedBy copies delaySeconds templateVersion plannedOffsetsSeconds
    primary { name } secondaries { name } skipped { storageSystem { name } reason }
  }
  replicas {
    id order role status bytesTotal bytesCopied checksum attempts lastError
    scheduledAt startedAt completedAt storageSystem { id name } space { id name usedBytes }
  }`;

interface ReplicaResult {
  id: string;
  order: number;
  role: string;
  status: string;
  bytesTotal: number;
  bytesCopied: number;
  checksum: string | null;
  attempts: number;
  scheduledAt: string | null;
  startedAt: string | null;
  completedAt: string | null;
  storageSystem: { id: string; name: string };
  space: { id: string; name: string; usedBytes: number } | null;
}

interface JobResult {
  id: string;
  datasetKey: string;
  version: number;
  status: string;
  scheme: {
    matchedBy: string;
    copies: number;
    delaySeconds: number;
    plannedOffsetsSeconds: number[];
    primary: { name: string };
    secondaries: { name: string }[];
    skipped: { storageSystem: { name: string }; reason: string }[];
  };
  replicas: ReplicaResult[];
}

interface EventResult {
  id: string;
  jobId: string;
  status: string;
  bytesCopied: number;
  message: string | null;
  replica: { id: string; order: number };
}

describe('one backup end to end (real PostgreSQL, Temporal dev server, worker, API, filesystem storage)', () => {
  let env: TestStack;
  let tenant: SeededTenant;

  beforeAll(async () => {
    env = await startTestStack();
    tenant = await seedTenant(env.db, {
      slug: `flow-${Date.now()}`,
      name: 'Flow test',
      storageRoot: path.join(env.dataDir, 'storage'),
      copies: 3,
      delaySeconds: DELAY_SECONDS,
      ordering: 'CAPACITY',
      storage: [
        { name: 'primary-ssd', spaces: [{ name: 'fast', capacityBytes: 512 * MIB }] },
        // Template order is small, tiny, large; capacity order must put large first and skip tiny.
        { name: 'small-nas', spaces: [{ name: 'shelf', capacityBytes: 64 * MIB }] },
        { name: 'tiny-usb', spaces: [{ name: 'stick', capacityBytes: 1 * MIB }] },
        {
          name: 'large-ceph',
          spaces: [
            { name: 'bucket-a', capacityBytes: 100 * MIB },
            { name: 'bucket-b', capacityBytes: 900 * MIB },
          ],
        },
      ],
    });
  }, 240_000);

  afterAll(async () => {
    await env?.stop();
  }, 60_000);

  it('refuses bad requests with typed errors and writes nothing', async () => {
    const anonymous = await gql(env.apiUrl, undefined, '{ backupJobs { totalCount } }');
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const wrongKey = await gql(
      env.apiUrl,
      'ech_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      '{ viewer { identity { id } } }',
    );
    expect(wrongKey.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    const request = `mutation($input: RequestBackupInput!) { requestBackup(input: $input) { id } }`;
    const unknownUpload = await gql(env.apiUrl, tenant.apiKey, request, {
      input: { datasetKey: 'reports', uploadId: 'no-such-upload' },
    });
    expect(unknownUpload.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const badKey = await gql(env.apiUrl, tenant.apiKey, request, {
      input: { datasetKey: '../../etc/passwd', uploadId: 'x' },
    });
    expect(badKey.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const both = await gql(env.apiUrl, tenant.apiKey, request, {
      input: {
        datasetKey: 'reports',
        uploadId: 'x',
        source: { storageSystemId: tenant.storageSystems[0]?.id, path: '/x' },
      },
    });
    expect(both.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const wrongType = await gql(env.apiUrl, tenant.apiKey, request, { input: { datasetKey: 42 } });
    expect(wrongType.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    expect(await env.db.backupJob.count({ where: { tenantId: tenant.tenant.id } })).toBe(0);
    expect(await env.db.dataset.count({ where: { tenantId: tenant.tenant.id } })).toBe(0);
  });

  it('uploads with tus, writes the primary, then each secondary after the delay in capacity order, verified', async () => {
    const data = randomData(5 * MIB + 123);
    const checksum = sha256(data);
    const uploadId = await uploadBytes(env.apiUrl, tenant.apiKey, data);

    const { requestBackup: job } = await gqlOk<{ requestBackup: JobResult }>(
      env.apiUrl,
      tenant.apiKey,
      `mutation($input: RequestBackupInput!) { requestBackup(input: $input) { ${JOB_FIELDS} } }`,
      { input: { datasetKey: 'finance/ledger', uploadId, idempotencyKey: `ledger-${uploadId}` } },
    );
    expect(job.datasetKey).toBe('finance/ledger');
    expect(job.version).toBe(1);
    expect(job.scheme.matchedBy).toContain('tenant default');
    expect(job.scheme.primary.name).toBe('primary-ssd');
    expect(job.scheme.secondaries.map((system) => system.name)).toEqual(['large-ceph', 'small-nas']);
    const tiny = job.scheme.skipped.find((skip) => skip.storageSystem.name === 'tiny-usb');
    expect(tiny?.reason).toMatch(/no backup space of tiny-usb can hold 5243003 bytes/);
    expect(job.scheme.plannedOffsetsSeconds).toHaveLength(3);
    expect(job.scheme.plannedOffsetsSeconds[0]).toBe(0);
    expect(job.scheme.plannedOffsetsSeconds[1]).toBeGreaterThanOrEqual(DELAY_SECONDS);

    // A second request with the same idempotency key returns the same job.
    const again = await gqlOk<{ requestBackup: { id: string } }>(
      env.apiUrl,
      tenant.apiKey,
      `mutation($input: RequestBackupInput!) { requestBackup(input: $input) { id } }`,
      { input: { datasetKey: 'finance/ledger', uploadId, idempotencyKey: `ledger-${uploadId}` } },
    );
    expect(again.requestBackup.id).toBe(job.id);
    // The same upload cannot be consumed twice without the key.
    const reused = await gql(
      env.apiUrl,
      tenant.apiKey,
      `mutation($input: RequestBackupInput!) { requestBackup(input: $input) { id } }`,
      {
        input: { datasetKey: 'finance/ledger', uploadId },
      },
    );
    expect(reused.errors?.[0]?.extensions?.code).toBe('CONFLICT');

    // Subscribe after the job started: everything from the first event on is replayed, then streamed live.
    const client = wsClient(env.apiUrl, tenant.apiKey);
    const replicaIds = job.replicas.map((replica) => replica.id);
    const events = await collect<EventResult>(
      client,
      `subscription($jobId: ID!) { replicaProgress(jobId: $jobId) { id jobId status bytesCopied message replica { id order } } }`,
      { jobId: job.id },
      (items) =>
        replicaIds.every((id) => items.some((event) => event.replica.id === id && event.status === 'COMPLETED')),
      120_000,
    );
    await client.dispose();

    const ids = events.map((event) => BigInt(event.id));
    expect(new Set(ids.map(String)).size).toBe(ids.length);
    for (let index = 1; index < ids.length; index++) expect(ids[index]! > ids[index - 1]!).toBe(true);
    for (const replicaId of replicaIds) {
      const statuses = events.filter((event) => event.replica.id === replicaId).map((event) => event.status);
      const distinct = statuses.filter((status, index) => status !== statuses[index - 1]);
      const expected =
        replicaId === replicaIds[0]
          ? ['PLANNED', 'COPYING', 'VERIFYING', 'COMPLETED']
          : ['PLANNED', 'WAITING', 'COPYING', 'VERIFYING', 'COMPLETED'];
      expect(distinct).toEqual(expected);
    }

    // The job's final state, as the API reports it.
    let final: JobResult | null = null;
    for (let attempt = 0; attempt < 50; attempt++) {
      final = (
        await gqlOk<{ backupJob: JobResult }>(
          env.apiUrl,
          tenant.apiKey,
          `query($id: ID!) { backupJob(id: $id) { ${JOB_FIELDS} } }`,
          { id: job.id },
        )
      ).backupJob;
      if (final.status !== 'RUNNING') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(final?.status).toBe('COMPLETED');
    const replicas = [...(final as JobResult).replicas].sort((a, b) => a.order - b.order);
    expect(replicas.map((replica) => replica.storageSystem.name)).toEqual(['primary-ssd', 'large-ceph', 'small-nas']);
    expect(replicas.map((replica) => replica.role)).toEqual(['PRIMARY', 'SECONDARY', 'SECONDARY']);
    // The data goes to the space with the most room.
    expect(replicas[1]?.space?.name).toBe('bucket-b');
    for (const replica of replicas) {
      expect(replica.status).toBe('COMPLETED');
      expect(replica.checksum).toBe(checksum);
      expect(replica.bytesCopied).toBe(data.length);
      expect(replica.attempts).toBe(1);
      expect(replica.space?.usedBytes).toBe(data.length);
    }
    // Copy k+1 starts at least delaySeconds after copy k finished.
    for (let order = 1; order < replicas.length; order++) {
      const previousDone = Date.parse(replicas[order - 1]?.completedAt ?? '');
      const started = Date.parse(replicas[order]?.startedAt ?? '');
      expect(started - previousDone).toBeGreaterThanOrEqual(DELAY_SECONDS * 1000);
      // The planned time is exactly the previous copy's completion plus the delay: the delay is not counted from
      // some later bookkeeping step, and the copy starts soon after it.
      const scheduled = Date.parse(replicas[order]?.scheduledAt ?? '');
      expect(scheduled).toBe(previousDone + DELAY_SECONDS * 1000);
      expect(started - scheduled).toBeLessThan(5000);
    }

    // The bytes on storage: every copy a committed manifest and its chunks, each verified, in its own space, and
    // nothing half-written left beside them.
    for (const replica of replicas) {
      const files = await expectChunkedReplica(env.db, {
        tenantId: tenant.tenant.id,
        replicaId: replica.id,
        datasetKey: 'finance/ledger',
        version: 1,
        bytes: data,
      });
      const onDisk = await filesUnder(files.tenantDir);
      expect(onDisk.filter(isPartialWrite), `partial writes on ${replica.storageSystem.name}`).toEqual([]);
      expect(onDisk.sort()).toEqual([files.manifestFile, ...files.chunkFiles].sort());
    }
    // Nothing of the upload was staged on the API host: tus streamed it into the primary's space.
    const upload = await env.db.upload.findUniqueOrThrow({ where: { id: uploadId } });
    expect(upload.stagingPath).toBeNull();
    expect(upload.intakeSpaceId).toBe(replicas[0]?.space?.id);
    const staged = await readdir(env.stack.config.stagingDir).catch(() => [] as string[]);
    expect(staged.filter((file) => file.startsWith(uploadId))).toEqual([]);
  }, 180_000);

  it('lists the job and replays events after a given id without duplicates', async () => {
    const list = await gqlOk<{ backupJobs: { totalCount: number; edges: { node: { id: string; status: string } }[] } }>(
      env.apiUrl,
      tenant.apiKey,
      '{ backupJobs(first: 10) { totalCount edges { cursor node { id status } } pageInfo { hasNextPage endCursor } } }',
    );
    expect(list.backupJobs.totalCount).toBe(1);
    const jobId = list.backupJobs.edges[0]?.node.id as string;
    const all = await env.db.replicaEvent.findMany({ where: { jobId }, orderBy: { id: 'asc' } });
    const middle = all[Math.floor(all.length / 2)];
    const client = wsClient(env.apiUrl, tenant.apiKey);
    const rest = await collect<EventResult>(
      client,
      `subscription($jobId: ID!, $after: ID) { replicaProgress(jobId: $jobId, afterEventId: $after) { id status } }`,
      { jobId, after: middle?.id.toString() },
      (items) => items.length >= all.filter((event) => event.id > (middle?.id ?? 0n)).length,
    );
    await client.dispose();
    expect(rest.map((event) => event.id)).toEqual(
      all.filter((event) => event.id > (middle?.id ?? 0n)).map((event) => event.id.toString()),
    );

    // Another tenant's job is NOT_FOUND, never FORBIDDEN.
    const other = await seedTenant(env.db, {
      slug: `other-${Date.now()}`,
      name: 'Other',
      storageRoot: path.join(env.dataDir, 'other-storage'),
      storage: [{ name: 'only', spaces: [{ name: 's', capacityBytes: MIB }] }],
    });
    const foreign = await gql<{ backupJob: null }>(
      env.apiUrl,
      other.apiKey,
      'query($id: ID!) { backupJob(id: $id) { id } }',
      { id: jobId },
    );
    expect(foreign.data?.backupJob).toBeNull();
    const foreignClient = wsClient(env.apiUrl, other.apiKey);
    await expect(
      collect(
        foreignClient,
        'subscription($jobId: ID!) { replicaProgress(jobId: $jobId) { id } }',
        { jobId },
        () => true,
        10_000,
      ),
    ).rejects.toThrow(/NOT_FOUND|does not exist/);
    await foreignClient.dispose();
  }, 60_000);
});
