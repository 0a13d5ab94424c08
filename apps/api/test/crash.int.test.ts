import path from 'node:path';
import { seedTenant, type SeededTenant, type StorageSeed } from '@echelon/db';
import {
  gqlOk,
  randomData,
  type ServiceProcess,
  sha256,
  startTestStack,
  type TestStack,
  uploadBytes,
  wsClient,
} from '@echelon/stack';
import { PROGRESS_INTERVAL_MS } from '@echelon/temporal';
import { Client, Connection } from '@temporalio/client';
import { killHard, poll } from './process-support.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectChunkedReplica, filesUnder, isPartialWrite } from './chunked-layout.js';

const MIB = 1024 * 1024;
/**
 * Slow enough that a copy of a few MiB can be interrupted half-way. The primary copies nothing (the tus intake
 * stored the chunks in its space), so every copy interrupted here is a secondary's.
 */
const COPY_RATE_LIMIT = 4 * MIB;

const STORAGE: StorageSeed[] = [
  { name: 'primary-ssd', spaces: [{ name: 'fast', capacityBytes: 256 * MIB }] },
  {
    name: 'large-ceph',
    spaces: [
      { name: 'bucket-a', capacityBytes: 300 * MIB },
      { name: 'bucket-b', capacityBytes: 512 * MIB },
    ],
  },
  { name: 'small-nas', spaces: [{ name: 'shelf', capacityBytes: 128 * MIB }] },
];

interface Replica {
  id: string;
  order: number;
  role: string;
  status: string;
  attempts: number;
  bytesCopied: number;
  checksum: string | null;
  lastError: string | null;
  scheduledAt: string | null;
  startedAt: string | null;
  completedAt: string | null;
  storageSystem: { name: string };
  space: { id: string; name: string; usedBytes: number } | null;
}

interface Job {
  id: string;
  status: string;
  statusReason: string | null;
  replicas: Replica[];
}

interface ProgressEvent {
  id: string;
  status: string;
  bytesCopied: number;
  replica: { id: string };
}

const JOB = `id status statusReason replicas {
  id order role status attempts bytesCopied checksum lastError scheduledAt startedAt completedAt
  storageSystem { name } space { id name usedBytes } }`;

const PROGRESS = `subscription($jobId: ID!, $after: ID) {
  replicaProgress(jobId: $jobId, afterEventId: $after) { id status bytesCopied replica { id } } }`;

/** A graphql-ws subscriber of one job's replica events that records what it receives until the link drops. */
function follow(apiUrl: string, apiKey: string, jobId: string, afterEventId?: string) {
  const client = wsClient(apiUrl, apiKey);
  const events: ProgressEvent[] = [];
  const errors: unknown[] = [];
  let isEnded = false;
  const dispose = client.subscribe<{ replicaProgress: ProgressEvent }>(
    { query: PROGRESS, variables: { jobId, after: afterEventId ?? null } },
    {
      next: (message) => {
        if (message.errors) errors.push(message.errors);
        if (message.data?.replicaProgress) events.push(message.data.replicaProgress);
      },
      error: (error) => {
        errors.push(error);
        isEnded = true;
      },
      complete: () => {
        isEnded = true;
      },
    },
  );
  return {
    events,
    errors,
    isEnded: () => isEnded,
    async close() {
      dispose();
      await client.dispose();
    },
  };
}

const completedFor = (events: ProgressEvent[], replicaIds: string[]) =>
  replicaIds.every((id) => events.some((event) => event.replica.id === id && event.status === 'COMPLETED'));

describe('crashes and restarts in the middle of a backup (real stack, kill -9)', () => {
  let env: TestStack;
  let temporal: Connection;
  let counter = 0;

  beforeAll(async () => {
    env = await startTestStack({ env: { ECHELON_COPY_RATE_LIMIT: String(COPY_RATE_LIMIT) } });
    temporal = await Connection.connect({ address: env.stack.temporalAddress });
  }, 240_000);

  afterAll(async () => {
    await temporal?.close();
    await env?.stop();
  }, 60_000);

  /** When the workflow's timers started and fired, from its Temporal history (ms since the epoch). */
  async function timersOf(workflowId: string): Promise<{ started: number[]; fired: number[] }> {
    const client = new Client({ connection: temporal, namespace: env.stack.config.temporalNamespace });
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const at = (event: { eventTime?: { seconds?: unknown; nanos?: number | null } | null }) =>
      Number(event.eventTime?.seconds ?? 0) * 1000 + Math.floor((event.eventTime?.nanos ?? 0) / 1e6);
    const events = history.events ?? [];
    return {
      started: events.filter((event) => event.timerStartedEventAttributes).map(at),
      fired: events.filter((event) => event.timerFiredEventAttributes).map(at),
    };
  }

  const storageRootOf = (seeded: SeededTenant) => path.join(env.dataDir, `storage-${seeded.tenant.slug}`);

  const tenant = (options: { copies: number; delaySeconds: number }) => {
    const slug = `crash-${Date.now()}-${counter++}`;
    return seedTenant(env.db, {
      slug,
      name: 'Crash test',
      storageRoot: path.join(env.dataDir, `storage-${slug}`),
      storage: STORAGE,
      ordering: 'CAPACITY',
      ...options,
    });
  };

  async function requestBackup(seeded: SeededTenant, data: Buffer): Promise<Job> {
    const uploadId = await uploadBytes(env.apiUrl, seeded.apiKey, data);
    return (
      await gqlOk<{ requestBackup: Job }>(
        env.apiUrl,
        seeded.apiKey,
        `mutation($input: RequestBackupInput!) { requestBackup(input: $input) { ${JOB} } }`,
        { input: { datasetKey: 'crash/data', uploadId } },
      )
    ).requestBackup;
  }

  const apiJob = async (seeded: SeededTenant, id: string) =>
    (
      await gqlOk<{ backupJob: Job }>(env.apiUrl, seeded.apiKey, `query($id: ID!) { backupJob(id: $id) { ${JOB} } }`, {
        id,
      })
    ).backupJob;

  /** The job's replicas straight from the database: usable while the API is down. */
  const replicasInDb = (jobId: string) => env.db.replica.findMany({ where: { jobId }, orderBy: { order: 'asc' } });

  const waitForFinish = (seeded: SeededTenant, id: string, timeoutMs = 120_000) =>
    poll(
      `job ${id} finished`,
      async () => {
        const job = await apiJob(seeded, id);
        return job.status === 'RUNNING' || job.status === 'PENDING' ? undefined : job;
      },
      timeoutMs,
    );

  /**
   * The job completed with every replica verified: checksums and bytes in the database; on disk, each replica's
   * committed manifest and the chunks it names, verified, in the replica's own space, and nothing else under the
   * tenant's storage root (no stray chunk, no half-written manifest, and no partial chunk unless a writer was
   * killed, whose `.partial/` file is never a chunk); each space's usedBytes counting each chunk once, and no
   * reservation left open.
   */
  async function expectVerified(
    seeded: SeededTenant,
    job: Job,
    data: Buffer,
    copies: number,
    { killedWriter = false }: { killedWriter?: boolean } = {},
  ): Promise<void> {
    const checksum = sha256(data);
    expect(job.status, JSON.stringify(job)).toBe('COMPLETED');
    expect(job.statusReason).toBeNull();
    expect(job.replicas).toHaveLength(copies);
    for (const replica of job.replicas) {
      expect(replica.status, JSON.stringify(replica)).toBe('COMPLETED');
      expect(replica.checksum).toBe(checksum);
      expect(replica.bytesCopied).toBe(data.length);
    }

    const version = await env.db.datasetVersion.findFirstOrThrow({
      where: { tenantId: seeded.tenant.id, dataset: { key: 'crash/data' } },
    });
    const expectedFiles: string[] = [];
    for (const replica of job.replicas) {
      const files = await expectChunkedReplica(env.db, {
        tenantId: seeded.tenant.id,
        replicaId: replica.id,
        datasetKey: 'crash/data',
        version: version.number,
        bytes: data,
      });
      expectedFiles.push(files.manifestFile, ...files.chunkFiles);
    }
    const files = await filesUnder(storageRootOf(seeded));
    const partial = files.filter(isPartialWrite);
    if (!killedWriter) expect.soft(partial, 'partial writes left under the storage root').toEqual([]);
    for (const file of partial) expect(file.split(path.sep), file).toContain('.partial');
    expect(files.filter((file) => !isPartialWrite(file)).sort()).toEqual([...expectedFiles].sort());

    const spaces = await env.db.backupSpace.findMany({ where: { tenantId: seeded.tenant.id } });
    for (const space of spaces) {
      const holding = job.replicas.filter((replica) => replica.space?.id === space.id).length;
      const indexed = await env.db.storedChunk.aggregate({ where: { spaceId: space.id }, _sum: { length: true } });
      expect(Number(space.usedBytes), `usedBytes of space ${space.name}`).toBe(holding * data.length);
      expect(indexed._sum.length ?? 0, `chunk bytes indexed in space ${space.name}`).toBe(holding * data.length);
    }
    // A committed chunked copy gives its reservation back: the index counts what it wrote.
    for (const replica of await replicasInDb(job.id)) expect(Number(replica.reservedBytes)).toBe(0);
  }

  /** Waits until the replica at `order` is moving bytes: COPYING, with progress recorded. */
  const copying = (jobId: string, order: number) =>
    poll(`replica ${order} copying`, async () => {
      const replica = (await replicasInDb(jobId)).find((candidate) => candidate.order === order);
      return replica?.status === 'COPYING' && replica.bytesCopied > 0n ? replica : undefined;
    });

  /** The chunk directory of the tenant in the space a replica was given. */
  const chunkDirOf = (seeded: SeededTenant, spaceId: string | null) => {
    const system = seeded.storageSystems.find((candidate) => candidate.spaces.some((space) => space.id === spaceId));
    const space = system?.spaces.find((candidate) => candidate.id === spaceId);
    if (system === undefined || space === undefined) throw new Error(`space ${spaceId} is not the tenant's`);
    return path.join(storageRootOf(seeded), system.name, space.name, 'tenants', seeded.tenant.id, 'chunks');
  };

  /**
   * Resolves once the copy writing into `chunkDir` has stopped: no chunk (nor partial write) has landed there for
   * 2 s, where a copy at COPY_RATE_LIMIT lands one every quarter second or so. While the database is down that can
   * only be a failed attempt: the copy records each batch of chunks it flushed, and VERIFYING before it commits.
   */
  async function attemptEnded(chunkDir: string): Promise<void> {
    let seen = -1;
    let since = Date.now();
    await poll(
      'the interrupted copy attempt ended',
      async () => {
        const count = (await filesUnder(chunkDir)).length;
        if (count !== seen) {
          seen = count;
          since = Date.now();
          return undefined;
        }
        return Date.now() - since >= 2000 ? true : undefined;
      },
      30_000,
    );
  }

  it('kill -9 of the worker mid-copy of a secondary: the copy is retried and every replica verified', async () => {
    const seeded = await tenant({ copies: 3, delaySeconds: 1 });
    // 4 s of copying per secondary at COPY_RATE_LIMIT.
    const data = randomData(16 * MIB);
    const requested = await requestBackup(seeded, data);
    const interrupted = await copying(requested.id, 1);
    const worker = env.stack.processes.get('worker') as ServiceProcess;
    await killHard(worker, 'worker.ts');
    const atKill = (await replicasInDb(requested.id)).find((replica) => replica.id === interrupted.id);
    expect(atKill?.status).toBe('COPYING');
    expect(Number(atKill?.bytesCopied)).toBeLessThan(data.length);

    await env.stack.startService('worker');
    const job = await waitForFinish(seeded, requested.id);
    await expectVerified(seeded, job, data, 3, { killedWriter: true });
    const byOrder = [...job.replicas].sort((a, b) => a.order - b.order);
    // The interrupted attempt counts; the copy was made again (from the chunks it had recorded), once.
    expect(byOrder.map((replica) => replica.attempts)).toEqual([1, 2, 1]);
    expect(byOrder[1]?.id).toBe(interrupted.id);
    const events = await env.db.replicaEvent.findMany({
      where: { replicaId: interrupted.id },
      orderBy: { id: 'asc' },
    });
    expect(events.filter((event) => event.status === 'COMPLETED')).toHaveLength(1);
    expect(events.some((event) => event.status === 'COPYING' && event.message?.startsWith('attempt 2:'))).toBe(true);
  });

  it('kill -9 of the worker during a delay: the durable timer survives and the secondary starts on time', async () => {
    // Long enough that the durable timer (the delay less the up-to-3 s dispatch lead) outlasts the kill.
    const DELAY_SECONDS = 8;
    const seeded = await tenant({ copies: 2, delaySeconds: DELAY_SECONDS });
    const data = randomData(2 * MIB);
    const requested = await requestBackup(seeded, data);

    const { workflowId } = await env.db.backupJob.findUniqueOrThrow({ where: { id: requested.id } });
    const waiting = await poll('the secondary waiting', async () => {
      const secondary = (await replicasInDb(requested.id)).find((replica) => replica.order === 1);
      return secondary?.status === 'WAITING' ? secondary : undefined;
    });
    // Kill once the delay is a timer on the server, not merely about to become one.
    await poll('the delay timer started', async () =>
      (await timersOf(workflowId)).started.length === 1 ? true : undefined,
    );
    const worker = env.stack.processes.get('worker') as ServiceProcess;
    await killHard(worker, 'worker.ts');
    const killedAt = Date.now();
    expect(waiting.scheduledAt?.getTime()).toBeGreaterThan(killedAt);
    await env.stack.startService('worker');

    const job = await waitForFinish(seeded, requested.id);
    await expectVerified(seeded, job, data, 2);
    const [primary, secondary] = [...job.replicas].sort((a, b) => a.order - b.order);
    const primaryDone = Date.parse(primary?.completedAt ?? '');
    const secondaryStarted = Date.parse(secondary?.startedAt ?? '');
    expect(secondaryStarted - primaryDone).toBeGreaterThanOrEqual(DELAY_SECONDS * 1000);
    expect(secondaryStarted).toBeGreaterThanOrEqual(Date.parse(secondary?.scheduledAt ?? ''));
    expect([primary?.attempts, secondary?.attempts]).toEqual([1, 1]);
    // One timer, started before the kill and fired on schedule by the server while no worker ran: the new
    // worker replayed the workflow and neither lost the timer nor started another one.
    const timers = await timersOf(workflowId);
    expect(timers.started).toHaveLength(1);
    expect(timers.fired).toHaveLength(1);
    const startedAt = timers.started[0] as number;
    const firedAt = timers.fired[0] as number;
    expect(startedAt).toBeLessThan(killedAt);
    expect(firedAt).toBeGreaterThan(killedAt);
    // The timer ends the dispatch lead (3 s) before the planned time; the copy then waits for the planned time.
    expect(firedAt - startedAt).toBeGreaterThanOrEqual((DELAY_SECONDS - 3) * 1000 - 1_000);
    expect(firedAt - startedAt).toBeLessThan((DELAY_SECONDS - 3) * 1000 + 2_000);
    expect(secondaryStarted).toBeGreaterThanOrEqual(firedAt);
  });

  it('kill -9 of the API mid-job: the worker finishes it, and a resubscriber gets every event exactly once', async () => {
    const seeded = await tenant({ copies: 2, delaySeconds: 1 });
    // 4 s of copying the secondary at COPY_RATE_LIMIT.
    const data = randomData(16 * MIB);
    const requested = await requestBackup(seeded, data);
    const replicaIds = requested.replicas.map((replica) => replica.id);

    const first = follow(env.apiUrl, seeded.apiKey, requested.id);
    // The API dies while the secondary's bytes move (the primary moves none: the intake stored them).
    const secondary = await copying(requested.id, 1);
    await poll('progress of the secondary delivered', async () =>
      first.events.some(
        (event) =>
          event.replica.id === secondary.id &&
          event.status === 'COPYING' &&
          event.bytesCopied > 0 &&
          event.bytesCopied < data.length,
      )
        ? true
        : undefined,
    );
    const api = env.stack.processes.get('api') as ServiceProcess;
    await killHard(api, 'main.ts');
    await poll('the subscriber notices the API is gone', async () => (first.isEnded() ? true : undefined));
    await first.close();
    const received = [...first.events];
    const lastId = received.at(-1)?.id as string;
    // The job moves on while no API runs.
    await poll('an event recorded while the API is down', async () =>
      (await env.db.replicaEvent.count({ where: { jobId: requested.id, id: { gt: BigInt(lastId) } } })) > 0
        ? true
        : undefined,
    );
    await env.stack.startService('api');

    const second = follow(env.apiUrl, seeded.apiKey, requested.id, lastId);
    // The primary may have completed before the kill (it moves no bytes): what both subscriptions saw counts.
    await poll('every replica COMPLETED by the end of the resumed subscription', async () =>
      completedFor([...received, ...second.events], replicaIds) ? true : undefined,
    );
    // The copy that was moving bytes at the kill finishes on the resumed subscription.
    expect(completedFor(second.events, [secondary.id])).toBe(true);
    await second.close();
    expect(second.errors).toEqual([]);

    const all = [...received, ...second.events];
    const ids = all.map((event) => BigInt(event.id));
    for (let index = 1; index < ids.length; index++) expect(ids[index]! > ids[index - 1]!).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    const inDb = await env.db.replicaEvent.findMany({ where: { jobId: requested.id }, orderBy: { id: 'asc' } });
    // Nothing missed in between: what the two subscriptions saw is exactly the job's event log.
    expect(ids.map(String)).toEqual(inDb.map((event) => event.id.toString()));
    for (const replicaId of replicaIds) {
      expect(all.filter((event) => event.replica.id === replicaId).at(-1)?.status).toBe('COMPLETED');
    }

    const job = await waitForFinish(seeded, requested.id);
    await expectVerified(seeded, job, data, 2);

    // Progress is throttled per replica (the secondary's 16 MiB at 4 MiB/s take about 4 s), and some is recorded
    // for the copy that moved bytes.
    for (const replica of await replicasInDb(requested.id)) {
      const ticks = inDb.filter(
        (event) => event.replicaId === replica.id && event.status === 'COPYING' && event.bytesCopied > 0n,
      );
      const copyMs = (replica.completedAt?.getTime() ?? 0) - (replica.startedAt?.getTime() ?? 0);
      if (replica.order > 0) expect(ticks.length, `progress of replica ${replica.order}`).toBeGreaterThan(0);
      expect(ticks.length, `${ticks.length} ticks in ${copyMs} ms`).toBeLessThanOrEqual(
        Math.floor(copyMs / PROGRESS_INTERVAL_MS) + 1,
      );
    }
  });

  it('a PostgreSQL restart mid-copy: activities retry until it is back, the job completes, live delivery resumes', async () => {
    const seeded = await tenant({ copies: 2, delaySeconds: 2 });
    // 4 s of copying the secondary at COPY_RATE_LIMIT.
    const data = randomData(16 * MIB);
    const requested = await requestBackup(seeded, data);
    const secondary = await copying(requested.id, 1);
    // The outage lasts until the interrupted attempt has given up: it cannot record the chunks it flushed, nor
    // VERIFYING, without the database.
    await env.stack.restartPostgres({ whileDown: () => attemptEnded(chunkDirOf(seeded, secondary.spaceId)) });

    // A subscription opened after the restart: replay from the newest event, then live delivery to the end.
    const newest = await poll('the newest event after the restart', () =>
      env.db.replicaEvent
        .findFirst({ where: { jobId: requested.id }, orderBy: { id: 'desc' } })
        .then((event) => event ?? undefined),
    );
    const live = follow(env.apiUrl, seeded.apiKey, requested.id, (newest.id - 1n).toString());
    await poll('the replayed event', async () => (live.events.length > 0 ? true : undefined));
    // Whatever is still to come can only arrive through the event hub's LISTEN connection, which was cut.
    const pending = (await poll('replicas after the replay', () => replicasInDb(requested.id))).filter(
      (replica) => replica.status !== 'COMPLETED',
    );
    expect(pending.length).toBeGreaterThan(0);
    await poll('every replica COMPLETED on the live subscription', async () =>
      completedFor(
        live.events,
        pending.map((replica) => replica.id),
      )
        ? true
        : undefined,
    );
    await live.close();
    expect(live.errors).toEqual([]);
    const ids = live.events.map((event) => BigInt(event.id));
    expect(new Set(ids).size).toBe(ids.length);
    for (let index = 1; index < ids.length; index++) expect(ids[index]! > ids[index - 1]!).toBe(true);
    expect(ids[0]).toBe(newest.id);

    const job = await waitForFinish(seeded, requested.id);
    await expectVerified(seeded, job, data, 2);
    // The attempt cut off by the outage failed cleanly and was retried once the database was back.
    const byOrder = [...job.replicas].sort((a, b) => a.order - b.order);
    expect(byOrder.map((replica) => replica.attempts)).toEqual([1, 2]);
  });

  it('PostgreSQL down for longer than the copy retry budget mid-copy: the job still completes once it is back', async () => {
    // The outage's length is the scenario: 1 + 2 + 4 + 8 s of copy retries fit well inside it.
    const OUTAGE_MS = 22_000;
    // Two copies: the primary copies nothing (the intake stored the chunks in its space), the secondary is cut off.
    const seeded = await tenant({ copies: 2, delaySeconds: 0 });
    const data = randomData(16 * MIB);
    const requested = await requestBackup(seeded, data);
    const secondary = await copying(requested.id, 1);
    const stoppedAt = Date.now();
    await env.stack.restartPostgres({
      whileDown: async () => {
        await attemptEnded(chunkDirOf(seeded, secondary.spaceId));
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, stoppedAt + OUTAGE_MS - Date.now())));
      },
    });
    const job = await waitForFinish(seeded, requested.id);
    await expectVerified(seeded, job, data, 2);
  });
});
