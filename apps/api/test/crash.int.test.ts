import { readdir, readFile, readlink, realpath } from 'node:fs/promises';
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
import { objectKeyFor } from '@echelon/storage';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MIB = 1024 * 1024;
/** Slow enough that a copy of a few MiB can be interrupted half-way. */
const COPY_RATE_LIMIT = 4 * MIB;
const TEMP_MARKER = '.echelon-partial-';

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

/** Polls `probe` until it returns a value (errors count as "not yet": the database may be restarting). */
async function poll<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const found = await probe();
      if (found !== undefined) return found;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${what}: not reached after ${timeoutMs} ms${lastError ? ` (last error: ${String(lastError)})` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Every file under `dir`, as absolute paths. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) => {
      const full = path.join(dir, entry.name);
      return entry.isDirectory() ? filesUnder(full) : Promise.resolve([full]);
    }),
  );
  return nested.flat();
}

/**
 * Kills the real node process of a service with SIGKILL — no handler runs, nothing is cleaned up — and waits
 * until it is gone. The service runs under a shell guard; the node process is the guard's child.
 */
async function killHard(service: ServiceProcess, entry: string): Promise<void> {
  const guardPid = service.child.pid;
  if (guardPid === undefined) throw new Error(`${service.name} has no pid`);
  const children = (await readFile(`/proc/${guardPid}/task/${guardPid}/children`, 'utf8')).trim().split(/\s+/);
  // The guard's own subshells carry the same command line; the service is the child that runs node itself.
  const node = await realpath(process.execPath);
  let target: number | undefined;
  for (const child of children) {
    const exe = await readlink(`/proc/${child}/exe`).catch(() => '');
    const cmdline = await readFile(`/proc/${child}/cmdline`, 'utf8').catch(() => '');
    if (exe === node && cmdline.includes(entry)) target = Number(child);
  }
  if (target === undefined)
    throw new Error(`no node process running ${entry} under ${service.name}'s guard ${guardPid}`);
  process.kill(target, 'SIGKILL');
  await service.exited;
  // The guard's pipe watcher may outlive it; it belongs to the dead service's process group.
  try {
    process.kill(-guardPid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

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
   * The job completed with every replica verified: checksums and bytes in the database, exactly one object per
   * replica on disk with the data's sha256 and nothing else under the tenant's storage root (no duplicate, no
   * `.echelon-partial-*` left by a killed writer), and each space's usedBytes counting each copy once.
   */
  async function expectVerified(seeded: SeededTenant, job: Job, data: Buffer, copies: number): Promise<void> {
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
    const key = objectKeyFor({ tenantId: seeded.tenant.id, datasetId: version.datasetId, version: version.number });
    const root = storageRootOf(seeded);
    const expectedFiles = job.replicas.map((replica) =>
      path.join(root, replica.storageSystem.name, replica.space?.name ?? '<no space>', key),
    );
    const files = await filesUnder(root);
    const isTemporary = (file: string) => path.basename(file).startsWith(TEMP_MARKER);
    // Soft, so that the checks below still report on the committed objects.
    expect.soft(files.filter(isTemporary), 'temporary data left behind under the storage root').toEqual([]);
    const objects = files.filter((file) => !isTemporary(file));
    expect(objects.sort()).toEqual([...expectedFiles].sort());
    for (const file of objects) expect(sha256(await readFile(file)), file).toBe(checksum);

    const spaces = await env.db.backupSpace.findMany({ where: { tenantId: seeded.tenant.id } });
    const replicas = await replicasInDb(job.id);
    for (const space of spaces) {
      const holding = job.replicas.filter((replica) => replica.space?.id === space.id).length;
      expect(Number(space.usedBytes), `usedBytes of space ${space.name}`).toBe(holding * data.length);
    }
    for (const replica of replicas) expect(Number(replica.reservedBytes)).toBe(data.length);
  }

  /** Waits until the primary is being written: COPYING, with bytes landed. */
  const primaryCopying = (jobId: string) =>
    poll('the primary copying', async () => {
      const primary = (await replicasInDb(jobId)).find((replica) => replica.order === 0);
      return primary?.status === 'COPYING' && primary.bytesCopied > 0n ? primary : undefined;
    });

  /**
   * Resolves once the primary copy in flight has ended: its temporary file is gone. While the database is down
   * that can only be a failure, since the copy must record VERIFYING before it commits the object.
   */
  async function attemptEnded(seeded: SeededTenant): Promise<void> {
    const primaryDir = path.join(storageRootOf(seeded), 'primary-ssd', 'fast');
    await poll(
      'the interrupted copy attempt ended',
      async () =>
        (await filesUnder(primaryDir)).some((file) => path.basename(file).startsWith(TEMP_MARKER)) ? undefined : true,
      30_000,
    );
  }

  it('kill -9 of the worker mid-copy of the primary: the copy is retried and every replica verified', async () => {
    const seeded = await tenant({ copies: 3, delaySeconds: 1 });
    const data = randomData(8 * MIB);
    const requested = await requestBackup(seeded, data);
    const primaryId = requested.replicas.find((replica) => replica.order === 0)?.id;
    await primaryCopying(requested.id);
    const worker = env.stack.processes.get('worker') as ServiceProcess;
    await killHard(worker, 'worker.ts');
    const atKill = (await replicasInDb(requested.id)).find((replica) => replica.id === primaryId);
    expect(atKill?.status).toBe('COPYING');
    expect(Number(atKill?.bytesCopied)).toBeLessThan(data.length);

    await env.stack.startService('worker');
    const job = await waitForFinish(seeded, requested.id);
    await expectVerified(seeded, job, data, 3);
    const byOrder = [...job.replicas].sort((a, b) => a.order - b.order);
    // The interrupted attempt counts; the copy was made again from the start, once.
    expect(byOrder.map((replica) => replica.attempts)).toEqual([2, 1, 1]);
    const events = await env.db.replicaEvent.findMany({ where: { replicaId: primaryId }, orderBy: { id: 'asc' } });
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
    const data = randomData(8 * MIB);
    const requested = await requestBackup(seeded, data);
    const replicaIds = requested.replicas.map((replica) => replica.id);
    const primaryId = requested.replicas.find((replica) => replica.order === 0)?.id;

    const first = follow(env.apiUrl, seeded.apiKey, requested.id);
    await poll('progress of the primary delivered', async () =>
      first.events.some(
        (event) => event.replica.id === primaryId && event.status === 'COPYING' && event.bytesCopied > 0,
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
    await poll('every replica COMPLETED on the resumed subscription', async () =>
      completedFor(second.events, replicaIds) ? true : undefined,
    );
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

    // Progress is throttled per replica (each copy of 8 MiB at 4 MiB/s takes about 2 s), and some is recorded.
    for (const replica of await replicasInDb(requested.id)) {
      const ticks = inDb.filter(
        (event) => event.replicaId === replica.id && event.status === 'COPYING' && event.bytesCopied > 0n,
      );
      const copyMs = (replica.completedAt?.getTime() ?? 0) - (replica.startedAt?.getTime() ?? 0);
      expect(ticks.length, `progress of replica ${replica.order}`).toBeGreaterThan(0);
      expect(ticks.length, `${ticks.length} ticks in ${copyMs} ms`).toBeLessThanOrEqual(
        Math.floor(copyMs / PROGRESS_INTERVAL_MS) + 1,
      );
    }
  });

  it('a PostgreSQL restart mid-copy: activities retry until it is back, the job completes, live delivery resumes', async () => {
    const seeded = await tenant({ copies: 2, delaySeconds: 2 });
    const data = randomData(8 * MIB);
    const requested = await requestBackup(seeded, data);
    await primaryCopying(requested.id);
    // The outage lasts until the interrupted attempt has given up: it cannot record VERIFYING without the database.
    await env.stack.restartPostgres({ whileDown: () => attemptEnded(seeded) });

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
    expect(byOrder.map((replica) => replica.attempts)).toEqual([2, 1]);
  });

  it('PostgreSQL down for longer than the copy retry budget mid-copy: the job still completes once it is back', async () => {
    // The outage's length is the scenario: 1 + 2 + 4 + 8 s of copy retries fit well inside it.
    const OUTAGE_MS = 22_000;
    const seeded = await tenant({ copies: 1, delaySeconds: 0 });
    const data = randomData(8 * MIB);
    const requested = await requestBackup(seeded, data);
    await primaryCopying(requested.id);
    const stoppedAt = Date.now();
    await env.stack.restartPostgres({
      whileDown: async () => {
        await attemptEnded(seeded);
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, stoppedAt + OUTAGE_MS - Date.now())));
      },
    });
    const job = await waitForFinish(seeded, requested.id);
    await expectVerified(seeded, job, data, 1);
  });
});
