// Fan-out benchmark of live progress: many graphql-ws subscribers on ONE API process, each receiving every
// replica event of a set of concurrently running backup jobs.
//
//   node --import tsx bench/subscribers.ts [--jobs 50] [--per-job 20] [--baseline-per-job 1] [--size 2097152]
//                                          [--rate 1048576] [--delay 1] [--target-p99-ms 250] [--json FILE]
//
// What it does: starts the real stack (embedded PostgreSQL, Temporal CLI dev server, one worker, one API process)
// on free loopback ports in a temp dir, with ECHELON_COPY_RATE_LIMIT so that each copy takes a few seconds and the
// worker writes a progress event every 250 ms. Then it runs the same workload in phases, each in its own freshly
// seeded tenant (3 FILESYSTEM systems, 3 copies, a short delay between copies):
//   warm-up   (a few jobs, not measured: JIT, first connections)
//   BASELINE  --jobs jobs, --baseline-per-job subscriber(s) per job (default 1: 50 subscribers)
//   LOAD      --jobs jobs, --per-job subscribers per job (default 20: 1,000 subscribers)
// In each phase: stage one tus upload per job; open every graphql-ws client (one client = one WebSocket, API-key
// authenticated at connect) and wait until each is acknowledged; then request the jobs (bounded concurrency) and,
// as soon as a requestBackup returns, start that job's subscribers:
//   subscription($jobId: ID!) { replicaProgress(jobId: $jobId) { id at jobId status bytesCopied replica { id } } }
// with afterEventId omitted, so the server replays the job's events from its first one and then goes live: no
// event can fall between the request and the subscription. When every job is terminal, the script reads each
// job's events from replica_events and waits (at most --grace seconds) until every subscriber holds all of them.
//
// What it measures, per phase:
//   lag        = client receipt time (Date.now() in the graphql-ws `next` callback) - the event's `at`. `at` is
//                stamped when the worker issues the INSERT (Prisma's @default(now()), evaluated by the client
//                before the statement is sent), so the lag covers insert + commit (incl. the tenant's hash-chain
//                lock) + NOTIFY + the API's LISTEN fan-out + the per-subscriber read and mapping + graphql-ws + the
//                client's event loop. Same machine, same clock.
//   live rule  = an event counts in the lag figures only if its `at` is later than the moment its subscriber
//                received its FIRST payload. The server registers the LISTEN callback before its first table read
//                and the first payload arrives only after that read, so such events were inserted while the
//                subscription was already established: they are delivered by the live path, not by the replay.
//                Earlier events (the PLANNED rows written by requestBackup, anything inserted while the
//                subscription was being set up) are "replayed" and only counted for completeness.
//                Also printed, for transparency: the lag of every event inserted after the client SENT its
//                subscribe message ("since subscribe"), which adds the server's subscription set-up time.
//   lag split  = this script also LISTENs on replica_events itself (one more connection, like an API process's
//                hub) and notes when each NOTIFY arrives: "insert -> NOTIFY" is the write path (worker's
//                transaction, hash-chain lock, commit), "NOTIFY -> client" is the API's fan-out to the subscriber.
//                The event-loop delay of this process is printed too: a busy client inflates receipt times.
//   lost       = events in the table for the subscriber's job that the subscriber had not received when the
//                grace period ended, split in two: "gaps" = ids below the highest id the subscriber did receive
//                (a stream delivers a job's events in id order, so these will never come) and "undelivered tail" =
//                ids above it (still queued in the API, if the subscriber was still receiving: "still draining");
//                duplicates = ids received more than once; out of order = an id not greater
//                than the previous one; errors = GraphQL/socket errors on a subscription.
//   API memory = VmRSS of the API's node process (the child of the /bin/sh guard the stack starts), sampled every
//                100 ms; the phase's peak, plus VmHWM (lifetime peak) at the end of the phase.
//   where time goes (evidence): CPU seconds of the API, PostgreSQL, worker and this process over the active
//                window (from /proc), table reads per delivered event (pg_stat_user_tables seq_scan + idx_scan
//                deltas), committed transactions, and pg_stat_activity samples classified by the query they run.
//   wall       = first requestBackup -> every subscriber complete (or grace over).
//
// The baseline, and why: these machines are noisy, so absolute numbers are printed next to ratios against a
// baseline measured in the same run on the same stack with the same jobs; only the number of subscribers per job
// differs. The load p99 / baseline p99 ratio is what the extra subscribers cost.
//
// Targets (exit status 1 when missed, naming the target): LOAD p99 live lag <= --target-p99-ms (default 250), and
// 0 events lost in every measured phase. Exit status 2: the benchmark itself could not run.
//
// Options (argv):
//   --jobs N                 concurrent jobs per phase, default 50
//   --per-job N              subscribers per job in the LOAD phase, default 20
//   --baseline-per-job N     subscribers per job in the BASELINE phase, default 1 (0 skips the baseline)
//   --warmup-jobs N          default 3 (0 skips the warm-up)
//   --size BYTES             bytes per job, default 2 MiB
//   --rate BYTES_PER_S       ECHELON_COPY_RATE_LIMIT for the worker, default 1 MiB/s
//   --delay S                delay between copies, default 1
//   --copies N               copies per job (2..3), default 3
//   --request-concurrency N  requestBackup calls in flight, default 5
//   --connect-concurrency N  graphql-ws connections being opened at once, default 25
//   --deadline S             per phase, after the last requestBackup answered, until every job is terminal;
//                            default 60 + 3 x one job's nominal duration
//   --grace S                after the jobs end, how long subscribers may still catch up, default 60
//   --requests-first         request all of a phase's jobs first, then subscribe everyone (replay from the start, as
//                            in the default order): isolates the fan-out from requestBackup calls that queue behind it
//   --stack-log FILE         write the stack's process output (API, worker, ...) to FILE
//   --stack-env KEY=VALUE    extra environment for the stack's processes (repeatable), e.g. ECHELON_LOG_LEVEL=debug
//   --no-read-probe          skip the read-cost probe (after the phases: the per-delivery reads the API does,
//                            replayed from this process with the same Prisma client, 10 lanes like the API's pool)
//   --settle S               quiet time before the pg_stat snapshots (stats are flushed lazily), default 11
//   --target-p99-ms MS       default 250
//   --json FILE              also write every figure as JSON
import { execFileSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createDb, eventsAfter, getReplica, listStorageSystems, seedTenant } from '@echelon/db';
import { gqlOk, randomData, startTestStack, type TestStack, uploadBytes } from '@echelon/stack';
import { type Client, createClient } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { type Distribution, distribution, formatMs, mapLimit, ratio, sleep, stackEnvOf, withTimeout } from './stats.js';

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;
const TERMINAL = new Set(['COMPLETED', 'PARTIAL', 'FAILED', 'CANCELLED']);
const REQUEST_TIMEOUT_MS = 60_000;
const CONNECT_TIMEOUT_MS = 120_000;
const RSS_SAMPLE_MS = 100;
const ACTIVITY_SAMPLE_MS = 250;
const TIMELINE_BUCKET_MS = 2_000;
const REQUEST_BACKUP = 'mutation($input: RequestBackupInput!) { requestBackup(input: $input) { id } }';
const SUBSCRIPTION =
  'subscription($jobId: ID!, $after: ID) { replicaProgress(jobId: $jobId, afterEventId: $after) ' +
  '{ id at jobId status bytesCopied replica { id } } }';
/** Tables whose reads per delivered event are reported. */
const TABLES = ['replica_events', 'replicas', 'storage_systems', 'backup_spaces', 'backup_jobs', 'api_keys'] as const;

// ---------------------------------------------------------------------------------------------------- options

interface Options {
  jobs: number;
  perJob: number;
  baselinePerJob: number;
  warmupJobs: number;
  sizeBytes: number;
  rate: number;
  delaySeconds: number;
  copies: number;
  requestConcurrency: number;
  connectConcurrency: number;
  deadlineSeconds: number | undefined;
  graceSeconds: number;
  settleSeconds: number;
  targetP99Ms: number;
  json: string | undefined;
  readProbe: boolean;
  requestsFirst: boolean;
  stackLog: string | undefined;
  stackEnv: Record<string, string>;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      jobs: { type: 'string' },
      'per-job': { type: 'string' },
      'baseline-per-job': { type: 'string' },
      'warmup-jobs': { type: 'string' },
      size: { type: 'string' },
      rate: { type: 'string' },
      delay: { type: 'string' },
      copies: { type: 'string' },
      'request-concurrency': { type: 'string' },
      'connect-concurrency': { type: 'string' },
      deadline: { type: 'string' },
      grace: { type: 'string' },
      settle: { type: 'string' },
      'target-p99-ms': { type: 'string' },
      json: { type: 'string' },
      'no-read-probe': { type: 'boolean' },
      'requests-first': { type: 'boolean' },
      'stack-log': { type: 'string' },
      'stack-env': { type: 'string', multiple: true },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log('see the header of bench/subscribers.ts for the options');
    process.exit(0);
  }
  const int = (name: string, raw: string | undefined, fallback: number, min: number, max = 1e12) => {
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new Error(`--${name} must be an integer from ${min} to ${max}, not ${raw}`);
    }
    return value;
  };
  return {
    jobs: int('jobs', values.jobs, 50, 1, 1000),
    perJob: int('per-job', values['per-job'], 20, 1, 200),
    baselinePerJob: int('baseline-per-job', values['baseline-per-job'], 1, 0, 200),
    warmupJobs: int('warmup-jobs', values['warmup-jobs'], 3, 0, 50),
    sizeBytes: int('size', values.size, 2 * MIB, 1, GIB),
    rate: int('rate', values.rate, MIB, 1024),
    delaySeconds: int('delay', values.delay, 1, 0, 3600),
    copies: int('copies', values.copies, 3, 2, 3),
    requestConcurrency: int('request-concurrency', values['request-concurrency'], 5, 1, 100),
    connectConcurrency: int('connect-concurrency', values['connect-concurrency'], 25, 1, 1000),
    deadlineSeconds: values.deadline === undefined ? undefined : int('deadline', values.deadline, 0, 10),
    graceSeconds: int('grace', values.grace, 60, 1, 3600),
    settleSeconds: int('settle', values.settle, 11, 0, 120),
    targetP99Ms: int('target-p99-ms', values['target-p99-ms'], 250, 1),
    json: values.json,
    readProbe: !values['no-read-probe'],
    requestsFirst: values['requests-first'] ?? false,
    stackLog: values['stack-log'],
    stackEnv: stackEnvOf(values['stack-env']),
  };
}

// ---------------------------------------------------------------------------------------------------- helpers

const ms = formatMs;
const mib = (bytes: number): string => (Number.isFinite(bytes) ? `${(bytes / MIB).toFixed(0)} MiB` : 'n/a');
const fixed = (value: number, digits = 2): string => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const log = (line: string) => console.log(`[subscribers ${new Date().toISOString().slice(11, 23)}] ${line}`);

const errorText = (error: unknown): string => {
  if (error instanceof Error) return error.message;
  if (Array.isArray(error)) return error.map(errorText).join('; ');
  if (typeof error === 'object' && error !== null && 'code' in error && 'reason' in error) {
    return `socket closed ${String((error as { code: unknown }).code)} ${String((error as { reason: unknown }).reason)}`;
  }
  return JSON.stringify(error);
};

// ---------------------------------------------------------------------------------------------------- /proc

let clockTicks = 100;
try {
  clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // Linux default
}

async function procStat(pid: number): Promise<{ ppid: number; ticks: number; comm: string } | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const fields = text.slice(close + 2).split(' ');
  return { comm, ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
}

async function statusField(pid: number, field: string): Promise<number> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

/** Nanoseconds a thread spent on a CPU and waiting on a run queue (/proc/<pid>/task/<tid>/schedstat). */
async function schedstat(pid: number, tid = pid): Promise<{ runNs: number; waitNs: number; at: number }> {
  const text = await readFile(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').catch(() => '');
  const [run, wait] = text.trim().split(/\s+/).map(Number);
  return { runNs: run ?? Number.NaN, waitNs: wait ?? Number.NaN, at: Date.now() };
}

/** The API's node process: the child of the /bin/sh guard whose command line runs apps/api/src/main.ts. */
async function apiNodePid(guardPid: number): Promise<number> {
  const children = (await readFile(`/proc/${guardPid}/task/${guardPid}/children`, 'utf8').catch(() => ''))
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);
  for (const pid of children) {
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ');
    if (cmdline.includes('apps/api/src/main.ts')) return pid;
  }
  throw new Error(`no API node process under the guard ${guardPid} (children: ${children.join(', ') || 'none'})`);
}

type CpuGroup = 'api' | 'postgres' | 'worker' | 'temporal' | 'bench' | 'other';
const CPU_GROUPS: readonly CpuGroup[] = ['api', 'postgres', 'worker', 'temporal', 'bench', 'other'];

interface CpuMark {
  at: number;
  ticks: Record<CpuGroup, number>;
  machineBusy: number;
  machineTotal: number;
}

/** CPU ticks of this process's descendants by component, and the machine's busy/total ticks. */
async function cpuMark(apiPid: number): Promise<CpuMark> {
  const stats = new Map<number, { ppid: number; ticks: number; comm: string }>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await procStat(Number(entry));
    if (stat) stats.set(Number(entry), stat);
  }
  const ticks: Record<CpuGroup, number> = { api: 0, postgres: 0, worker: 0, temporal: 0, bench: 0, other: 0 };
  for (const [pid, stat] of stats) {
    let ancestor = pid;
    let ours = false;
    for (let depth = 0; depth < 12 && ancestor > 1; depth++) {
      if (ancestor === process.pid) {
        ours = true;
        break;
      }
      ancestor = stats.get(ancestor)?.ppid ?? 0;
    }
    if (!ours) continue;
    let group: CpuGroup = 'other';
    if (pid === process.pid) group = 'bench';
    else if (pid === apiPid) group = 'api';
    else if (stat.comm === 'postgres') group = 'postgres';
    else if (stat.comm.startsWith('temporal')) group = 'temporal';
    else {
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      if (cmdline.includes('worker.ts')) group = 'worker';
      else if (cmdline.includes('start-dev')) group = 'temporal';
    }
    ticks[group] += stat.ticks;
  }
  const cpuLine = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
  const fields = cpuLine.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((sum, value) => sum + value, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { at: Date.now(), ticks, machineBusy: total - idle, machineTotal: total };
}

interface CpuUsage {
  seconds: number;
  /** CPU seconds used per component over the window. */
  cpuSeconds: Record<CpuGroup, number>;
  /** Average cores used per component (1.0 = one core fully busy). */
  cores: Record<CpuGroup, number>;
  machineBusyShare: number;
}

function cpuUsage(from: CpuMark, to: CpuMark): CpuUsage {
  const seconds = (to.at - from.at) / 1000;
  const cpuSeconds = {} as Record<CpuGroup, number>;
  const cores = {} as Record<CpuGroup, number>;
  for (const group of CPU_GROUPS) {
    // A process that exited during the window takes its ticks with it; never report a negative figure.
    cpuSeconds[group] = Math.max(0, to.ticks[group] - from.ticks[group]) / clockTicks;
    cores[group] = seconds > 0 ? cpuSeconds[group] / seconds : Number.NaN;
  }
  const total = to.machineTotal - from.machineTotal;
  return { seconds, cpuSeconds, cores, machineBusyShare: total > 0 ? (to.machineBusy - from.machineBusy) / total : 0 };
}

/** Samples VmRSS of one process until stopped; bounded by `maxSamples`. */
class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  private samples = 0;
  peak = 0;
  first = Number.NaN;
  last = Number.NaN;

  constructor(
    private readonly pid: number,
    private readonly maxSamples: number,
  ) {}

  start(): void {
    const tick = async () => {
      const rss = await statusField(this.pid, 'VmRSS');
      if (Number.isFinite(rss)) {
        if (!Number.isFinite(this.first)) this.first = rss;
        this.last = rss;
        this.peak = Math.max(this.peak, rss);
      }
      this.samples++;
      if (this.timer !== undefined && this.samples < this.maxSamples) this.timer = setTimeout(tick, RSS_SAMPLE_MS);
    };
    this.timer = setTimeout(tick, 0);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

// ---------------------------------------------------------------------------------------------------- database evidence

interface TableReads {
  scans: Record<string, number>;
  inserts: Record<string, number>;
  xactCommit: number;
}

async function tableReads(env: TestStack): Promise<TableReads> {
  // Each statement is its own transaction, so the statistics snapshot is fresh every time.
  const rows = await env.db.$queryRawUnsafe<{ relname: string; scans: bigint; inserts: bigint }[]>(
    `SELECT relname, coalesce(seq_scan, 0) + coalesce(idx_scan, 0) AS scans, n_tup_ins AS inserts
       FROM pg_stat_user_tables WHERE relname = ANY($1::text[])`,
    [...TABLES],
  );
  const database = await env.db.$queryRawUnsafe<{ xact_commit: bigint }[]>(
    'SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()',
  );
  const scans: Record<string, number> = {};
  const inserts: Record<string, number> = {};
  for (const row of rows) {
    scans[row.relname] = Number(row.scans);
    inserts[row.relname] = Number(row.inserts);
  }
  return { scans, inserts, xactCommit: Number(database[0]?.xact_commit ?? 0) };
}

function readsDelta(from: TableReads, to: TableReads): TableReads {
  const scans: Record<string, number> = {};
  const inserts: Record<string, number> = {};
  for (const table of TABLES) {
    scans[table] = (to.scans[table] ?? 0) - (from.scans[table] ?? 0);
    inserts[table] = (to.inserts[table] ?? 0) - (from.inserts[table] ?? 0);
  }
  return { scans, inserts, xactCommit: to.xactCommit - from.xactCommit };
}

/** What the database's client backends are doing, sampled: `state / wait / query kind` -> average backends. */
class ActivitySampler {
  private timer: NodeJS.Timeout | undefined;
  private samples = 0;
  private readonly sums = new Map<string, number>();
  private totalBackends = 0;

  constructor(
    private readonly env: TestStack,
    private readonly maxSamples: number,
  ) {}

  start(): void {
    const tick = async () => {
      try {
        const rows = await this.env.db.$queryRawUnsafe<
          { state: string | null; wait: string | null; query: string | null }[]
        >(
          `SELECT state, coalesce(wait_event_type || ':' || wait_event, 'CPU') AS wait, left(query, 160) AS query
             FROM pg_stat_activity
            WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()`,
        );
        this.samples++;
        this.totalBackends += rows.length;
        for (const row of rows) {
          if (row.state !== 'active' && row.state !== 'idle in transaction') continue;
          const key = `${row.state} | ${row.wait} | ${queryKind(row.query ?? '')}`;
          this.sums.set(key, (this.sums.get(key) ?? 0) + 1);
        }
      } catch {
        // a missed sample is only a missed sample
      }
      if (this.timer !== undefined && this.samples < this.maxSamples) {
        this.timer = setTimeout(tick, ACTIVITY_SAMPLE_MS);
      }
    };
    this.timer = setTimeout(tick, 0);
  }

  stop(): { samples: number; meanBackends: number; busy: { key: string; mean: number }[] } {
    clearTimeout(this.timer);
    this.timer = undefined;
    const samples = Math.max(1, this.samples);
    const busy = [...this.sums.entries()]
      .map(([key, sum]) => ({ key, mean: sum / samples }))
      .sort((a, b) => b.mean - a.mean)
      .slice(0, 12);
    return { samples: this.samples, meanBackends: this.totalBackends / samples, busy };
  }
}

function queryKind(query: string): string {
  const text = query.replace(/\s+/g, ' ').trim();
  const verb = (/^(\w+)/.exec(text)?.[1] ?? '?').toUpperCase();
  const table =
    /(?:FROM|INTO|UPDATE)\s+"public"\."(\w+)"/i.exec(text)?.[1] ?? /(?:FROM|INTO|UPDATE)\s+"?(\w+)"?/i.exec(text)?.[1];
  return table ? `${verb} ${table}` : verb;
}

/** When each replica_events NOTIFY reaches a LISTEN connection of its own (bounded by `maxEvents`). */
class NotifyProbe {
  private client: pg.Client | undefined;
  readonly arrivals = new Map<bigint, number>();

  constructor(
    private readonly databaseUrl: string,
    private readonly maxEvents: number,
  ) {}

  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl });
    client.on('notification', (message) => {
      const arrivedAt = Date.now();
      if (message.channel !== 'replica_events' || message.payload === undefined) return;
      if (this.arrivals.size >= this.maxEvents) return;
      try {
        const id = (JSON.parse(message.payload) as { id?: string }).id;
        if (id !== undefined && !this.arrivals.has(BigInt(id))) this.arrivals.set(BigInt(id), arrivedAt);
      } catch {
        // not ours
      }
    });
    client.on('error', () => undefined);
    await client.connect();
    await client.query('LISTEN replica_events');
    this.client = client;
  }

  async stop(): Promise<void> {
    await this.client?.end().catch(() => undefined);
    this.client = undefined;
  }
}

// ---------------------------------------------------------------------------------------------------- subscribers

interface Received {
  id: bigint;
  at: number;
  receivedAt: number;
}

interface Subscriber {
  index: number;
  client: Client;
  connected: Promise<void>;
  jobIndex: number;
  jobId: string | undefined;
  subscribedAt: number;
  firstReceivedAt: number;
  received: Received[];
  ids: Set<bigint>;
  lastId: bigint;
  duplicates: number;
  outOfOrder: number;
  errors: string[];
  completed: boolean;
  dispose: (() => void) | undefined;
}

interface ProgressPayload {
  id: string;
  at: string;
  jobId: string;
  status: string;
  bytesCopied: number;
  replica: { id: string } | null;
}

function openSubscriber(apiUrl: string, apiKey: string, index: number, jobIndex: number): Subscriber {
  let resolveConnected: () => void = () => undefined;
  let rejectConnected: (error: Error) => void = () => undefined;
  const connected = new Promise<void>((resolve, reject) => {
    resolveConnected = resolve;
    rejectConnected = reject;
  });
  const subscriber: Subscriber = {
    index,
    // One client = one WebSocket; the same options as the stack's wsClient helper, but opened eagerly (lazy:
    // false) so that the connection, and its API-key check, is done before the jobs are requested.
    client: createClient({
      url: `${apiUrl.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${apiKey}` },
      retryAttempts: 0,
      lazy: false,
      onNonLazyError: (error) => {
        subscriber.errors.push(`connection: ${errorText(error)}`);
        rejectConnected(new Error(errorText(error)));
      },
      on: {
        connected: () => resolveConnected(),
        closed: (event) => {
          rejectConnected(new Error(`closed before the ack: ${errorText(event)}`));
        },
      },
    }),
    connected,
    jobIndex,
    jobId: undefined,
    subscribedAt: Number.NaN,
    firstReceivedAt: Number.NaN,
    received: [],
    ids: new Set(),
    lastId: 0n,
    duplicates: 0,
    outOfOrder: 0,
    errors: [],
    completed: false,
    dispose: undefined,
  };
  connected.catch(() => undefined);
  return subscriber;
}

function subscribe(subscriber: Subscriber, jobId: string): void {
  subscriber.jobId = jobId;
  subscriber.subscribedAt = Date.now();
  subscriber.dispose = subscriber.client.subscribe<{ replicaProgress: ProgressPayload }>(
    { query: SUBSCRIPTION, variables: { jobId } },
    {
      next: (message) => {
        const receivedAt = Date.now();
        if (message.errors?.length) {
          subscriber.errors.push(message.errors.map((error) => error.message).join('; '));
          return;
        }
        const event = message.data?.replicaProgress;
        if (event === undefined || event === null) return;
        if (!Number.isFinite(subscriber.firstReceivedAt)) subscriber.firstReceivedAt = receivedAt;
        const id = BigInt(event.id);
        if (event.jobId !== jobId) subscriber.errors.push(`event ${event.id} of job ${event.jobId}, not ${jobId}`);
        if (subscriber.ids.has(id)) subscriber.duplicates++;
        else subscriber.ids.add(id);
        if (id <= subscriber.lastId) subscriber.outOfOrder++;
        else subscriber.lastId = id;
        subscriber.received.push({ id, at: Date.parse(event.at), receivedAt });
      },
      error: (error) => {
        subscriber.errors.push(errorText(error));
      },
      complete: () => {
        subscriber.completed = true;
      },
    },
  );
}

// ---------------------------------------------------------------------------------------------------- one phase

interface PhaseSpec {
  name: string;
  jobs: number;
  perJob: number;
  measured: boolean;
}

interface PhaseResult {
  name: string;
  jobs: number;
  perJob: number;
  subscribers: number;
  connectSeconds: number;
  connectFailures: number;
  requestErrors: string[];
  jobStatuses: Record<string, number>;
  /** Requested, but not terminal by the deadline. */
  unfinishedJobs: number;
  /** requestBackup calls that failed (error or timeout): their jobs have no subscribers. */
  requestFailures: number;
  /** The API's main (event-loop) thread over the active window: share of wall time on a CPU / waiting for one. */
  apiMainThread: { onCpu: number; runQueueWait: number };
  eventsInTable: number;
  /** Events in the table / second, between the first and the last event's `at`. */
  eventRate: number;
  expectedDeliveries: number;
  delivered: number;
  replayed: number;
  lost: number;
  lostGaps: number;
  undeliveredTail: number;
  /** Deliveries in the last 5 s before the cut-off: the fan-out was still working through a backlog. */
  stillDraining: number;
  requestLatency: Distribution;
  tenantId: string;
  sampleJobId: string | undefined;
  subscribersMissingEvents: number;
  duplicates: number;
  outOfOrder: number;
  subscriptionErrors: number;
  errorSamples: string[];
  lagLive: Distribution;
  lagSinceSubscribe: Distribution;
  /** Live events: the event's `at` -> its NOTIFY at this script's own LISTEN connection (write path). */
  lagInsertToNotify: Distribution;
  /** Live events: that NOTIFY -> the subscriber's receipt (the API's fan-out). */
  lagNotifyToClient: Distribution;
  /** This process's event-loop delay while receiving (ms). */
  benchLoopDelay: { p50: number; p99: number; max: number };
  /** Client sent subscribe -> first payload. */
  firstPayload: Distribution;
  /** Live lag by the event's insert time, in TIMELINE_BUCKET_MS windows from the first request. */
  timeline: { fromSeconds: number; events: number; p50: number; p99: number; max: number }[];
  /** Deliveries per second over the active window. */
  deliveryRate: number;
  wallSeconds: number;
  caughtUpSeconds: number;
  apiRssBefore: number;
  apiRssPeak: number;
  apiRssEnd: number;
  apiRssHwm: number;
  cpu: CpuUsage;
  reads: TableReads;
  activity: { samples: number; meanBackends: number; busy: { key: string; mean: number }[] };
  loadAverage: [number, number];
}

async function runPhase(env: TestStack, apiPid: number, spec: PhaseSpec, options: Options): Promise<PhaseResult> {
  const capacityBytes = Math.max(GIB, spec.jobs * options.sizeBytes * 4);
  const tenant = await seedTenant(env.db, {
    slug: `subs-${spec.name}-${Date.now()}`,
    name: `Subscribers ${spec.name}`,
    storageRoot: path.join(env.dataDir, 'storage', spec.name),
    storage: [
      { name: 'subs-primary', spaces: [{ name: 'main', capacityBytes }] },
      { name: 'subs-secondary-a', spaces: [{ name: 'main', capacityBytes: capacityBytes * 2 }] },
      { name: 'subs-secondary-b', spaces: [{ name: 'main', capacityBytes: capacityBytes * 3 }] },
    ],
    copies: options.copies,
    delaySeconds: options.delaySeconds,
    ordering: 'CAPACITY',
  });

  const uploadIds = await mapLimit(
    Array.from({ length: spec.jobs }, (_, index) => index),
    4,
    () =>
      withTimeout(
        uploadBytes(env.apiUrl, tenant.apiKey, randomData(options.sizeBytes)),
        REQUEST_TIMEOUT_MS,
        'tus upload',
      ),
  );
  log(`${spec.name}: staged ${uploadIds.length} uploads of ${options.sizeBytes} bytes`);

  const rssBefore = await statusField(apiPid, 'VmRSS');
  const subscribers: Subscriber[] = [];
  const connectStarted = Date.now();
  let connectFailures = 0;
  await mapLimit(
    Array.from({ length: spec.jobs * spec.perJob }, (_, index) => index),
    options.connectConcurrency,
    async (index) => {
      const subscriber = openSubscriber(env.apiUrl, tenant.apiKey, index, Math.floor(index / spec.perJob));
      subscribers.push(subscriber);
      try {
        await withTimeout(subscriber.connected, CONNECT_TIMEOUT_MS, `graphql-ws connection ${index}`);
      } catch (error) {
        connectFailures++;
        subscriber.errors.push(errorText(error));
      }
    },
  );
  subscribers.sort((a, b) => a.index - b.index);
  const connectSeconds = (Date.now() - connectStarted) / 1000;
  log(
    `${spec.name}: ${subscribers.length - connectFailures}/${subscribers.length} graphql-ws clients connected in ` +
      `${connectSeconds.toFixed(1)} s`,
  );
  if (connectFailures > 0 && spec.measured) {
    throw new Error(
      `${connectFailures} graphql-ws connections failed: ${subscribers.find((s) => s.errors[0])?.errors[0]}`,
    );
  }

  if (spec.measured && options.settleSeconds > 0) await sleep(options.settleSeconds * 1000);
  const readsFrom = await tableReads(env);
  const cpuFrom = await cpuMark(apiPid);
  const schedFrom = await schedstat(apiPid);
  const loadBefore = os.loadavg()[0] ?? Number.NaN;
  const deadlineSeconds =
    options.deadlineSeconds ??
    Math.ceil(
      60 +
        3 * (options.copies * (options.sizeBytes / options.rate) + (options.copies - 1) * options.delaySeconds) +
        spec.jobs / 2,
    );
  // Bounded: the requests (at most REQUEST_TIMEOUT_MS per lane-call), the deadline and the grace period.
  const activeBoundSeconds =
    Math.ceil(spec.jobs / options.requestConcurrency) * (REQUEST_TIMEOUT_MS / 1000) +
    deadlineSeconds +
    options.graceSeconds +
    60;
  const rss = new RssSampler(apiPid, Math.ceil((activeBoundSeconds * 1000) / RSS_SAMPLE_MS));
  rss.start();
  const activity = new ActivitySampler(env, Math.ceil((activeBoundSeconds * 1000) / ACTIVITY_SAMPLE_MS));
  activity.start();
  const probe = new NotifyProbe(env.stack.databaseUrl, 1_000_000);
  await probe.start();
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();

  const subscribeJob = (jobIndex: number, jobId: string) => {
    for (const subscriber of subscribers.slice(jobIndex * spec.perJob, (jobIndex + 1) * spec.perJob)) {
      subscribe(subscriber, jobId);
    }
  };
  // Request the jobs; each job's subscribers start as soon as its requestBackup has answered (or, with
  // --requests-first, once every request has).
  const firstRequest = Date.now();
  const requestErrors: string[] = [];
  const requestLatency: number[] = [];
  const jobIds = await mapLimit(uploadIds, options.requestConcurrency, async (uploadId, jobIndex) => {
    const sent = Date.now();
    try {
      const data = await withTimeout(
        gqlOk<{ requestBackup: { id: string } }>(env.apiUrl, tenant.apiKey, REQUEST_BACKUP, {
          input: { datasetKey: `subs/${spec.name}/${jobIndex}`, uploadId },
        }),
        REQUEST_TIMEOUT_MS,
        'requestBackup',
      );
      const jobId = data.requestBackup.id;
      requestLatency.push(Date.now() - sent);
      if (!options.requestsFirst) subscribeJob(jobIndex, jobId);
      return jobId;
    } catch (error) {
      requestErrors.push(errorText(error));
      return undefined;
    }
  });
  if (options.requestsFirst) {
    jobIds.forEach((jobId, jobIndex) => {
      if (jobId !== undefined) subscribeJob(jobIndex, jobId);
    });
  }
  const requested = jobIds.filter((id): id is string => id !== undefined);
  log(`${spec.name}: ${requested.length} jobs requested in ${((Date.now() - firstRequest) / 1000).toFixed(1)} s`);

  // Wait until every job is terminal (bounded by the deadline and by a poll count).
  const deadline = Date.now() + deadlineSeconds * 1000;
  let statuses: { id: string; status: string }[] = [];
  let lastLog = Date.now();
  for (let poll = 0; poll < deadlineSeconds * 2 + 10 && Date.now() < deadline; poll++) {
    statuses = await env.db.backupJob.findMany({
      where: { id: { in: requested } },
      select: { id: true, status: true },
    });
    const done = statuses.filter((job) => TERMINAL.has(job.status)).length;
    if (done === requested.length) break;
    if (Date.now() - lastLog >= 10_000) {
      lastLog = Date.now();
      const delivered = subscribers.reduce((sum, subscriber) => sum + subscriber.received.length, 0);
      log(`${spec.name}: ${done}/${requested.length} jobs terminal, ${delivered} events delivered so far`);
    }
    await sleep(500);
  }
  const jobsDone = Date.now();

  // Every event of every job, as the table holds it; then let the subscribers catch up (bounded).
  const stored = await env.db.replicaEvent.findMany({
    where: { jobId: { in: requested } },
    select: { id: true, jobId: true, at: true },
    orderBy: { id: 'asc' },
  });
  const idsByJob = new Map<string, bigint[]>();
  for (const event of stored) {
    const list = idsByJob.get(event.jobId) ?? [];
    list.push(event.id);
    idsByJob.set(event.jobId, list);
  }
  const missing = (subscriber: Subscriber): number => {
    if (subscriber.jobId === undefined) return 0;
    let count = 0;
    for (const id of idsByJob.get(subscriber.jobId) ?? []) if (!subscriber.ids.has(id)) count++;
    return count;
  };
  const graceEnd = Date.now() + options.graceSeconds * 1000;
  let caughtUpAt = Date.now();
  for (let poll = 0; poll < options.graceSeconds * 4 + 4; poll++) {
    const behind = subscribers.filter((subscriber) => missing(subscriber) > 0).length;
    caughtUpAt = Date.now();
    if (behind === 0 || Date.now() >= graceEnd) {
      if (behind > 0) log(`${spec.name}: grace over, ${behind} subscribers still miss events`);
      break;
    }
    await sleep(250);
  }
  const cpuTo = await cpuMark(apiPid);
  const schedTo = await schedstat(apiPid);
  const activityReport = activity.stop();
  loopDelay.disable();
  await probe.stop();
  const apiRssEnd = await statusField(apiPid, 'VmRSS');
  const apiRssHwm = await statusField(apiPid, 'VmHWM');
  rss.stop();
  const loadAfter = os.loadavg()[0] ?? Number.NaN;

  // Close every subscription and socket before the next phase.
  for (const subscriber of subscribers) {
    subscriber.dispose?.();
    await subscriber.client.dispose();
  }
  if (spec.measured && options.settleSeconds > 0) await sleep(options.settleSeconds * 1000);
  const readsTo = await tableReads(env);

  // Figures.
  const lagLive: number[] = [];
  const lagSinceSubscribe: number[] = [];
  const lagInsertToNotify: number[] = [];
  const lagNotifyToClient: number[] = [];
  const firstPayload: number[] = [];
  const buckets = new Map<number, number[]>();
  let delivered = 0;
  let replayed = 0;
  let lost = 0;
  let lostGaps = 0;
  let undeliveredTail = 0;
  let stillDraining = 0;
  let subscribersMissingEvents = 0;
  let duplicates = 0;
  let outOfOrder = 0;
  let subscriptionErrors = 0;
  let expectedDeliveries = 0;
  const errorSamples: string[] = [];
  for (const subscriber of subscribers) {
    if (subscriber.jobId === undefined) continue;
    expectedDeliveries += idsByJob.get(subscriber.jobId)?.length ?? 0;
    const missed = missing(subscriber);
    lost += missed;
    for (const id of idsByJob.get(subscriber.jobId) ?? []) {
      if (subscriber.ids.has(id)) continue;
      if (id < subscriber.lastId) lostGaps++;
      else undeliveredTail++;
    }
    for (const event of subscriber.received) if (event.receivedAt >= caughtUpAt - 5_000) stillDraining++;
    if (missed > 0) subscribersMissingEvents++;
    duplicates += subscriber.duplicates;
    outOfOrder += subscriber.outOfOrder;
    if (subscriber.errors.length > 0) {
      subscriptionErrors++;
      if (errorSamples.length < 5) errorSamples.push(subscriber.errors[0] ?? '');
    }
    if (Number.isFinite(subscriber.firstReceivedAt)) {
      firstPayload.push(subscriber.firstReceivedAt - subscriber.subscribedAt);
    }
    for (const event of subscriber.received) {
      delivered++;
      const lag = event.receivedAt - event.at;
      if (event.at >= subscriber.subscribedAt) lagSinceSubscribe.push(lag);
      if (event.at > subscriber.firstReceivedAt) {
        lagLive.push(lag);
        const notified = probe.arrivals.get(event.id);
        if (notified !== undefined) {
          lagInsertToNotify.push(notified - event.at);
          lagNotifyToClient.push(event.receivedAt - notified);
        }
        const bucket = Math.floor((event.at - firstRequest) / TIMELINE_BUCKET_MS);
        const list = buckets.get(bucket) ?? [];
        list.push(lag);
        buckets.set(bucket, list);
      } else {
        replayed++;
      }
    }
  }
  const timeline = [...buckets.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([bucket, lags]) => {
      const d = distribution(lags);
      return { fromSeconds: (bucket * TIMELINE_BUCKET_MS) / 1000, events: d.count, p50: d.p50, p99: d.p99, max: d.max };
    });
  const jobStatuses: Record<string, number> = {};
  for (const job of statuses) jobStatuses[job.status] = (jobStatuses[job.status] ?? 0) + 1;
  const firstAt = stored[0]?.at.getTime() ?? Number.NaN;
  const lastAt = stored.at(-1)?.at.getTime() ?? Number.NaN;
  const cpu = cpuUsage(cpuFrom, cpuTo);
  return {
    name: spec.name,
    jobs: spec.jobs,
    perJob: spec.perJob,
    subscribers: subscribers.length,
    connectSeconds,
    connectFailures,
    requestErrors,
    jobStatuses,
    unfinishedJobs: requested.length - statuses.filter((job) => TERMINAL.has(job.status)).length,
    requestFailures: spec.jobs - requested.length,
    apiMainThread: {
      onCpu: (schedTo.runNs - schedFrom.runNs) / 1e6 / Math.max(1, schedTo.at - schedFrom.at),
      runQueueWait: (schedTo.waitNs - schedFrom.waitNs) / 1e6 / Math.max(1, schedTo.at - schedFrom.at),
    },
    eventsInTable: stored.length,
    eventRate: lastAt > firstAt ? stored.length / ((lastAt - firstAt) / 1000) : Number.NaN,
    expectedDeliveries,
    delivered,
    replayed,
    lost,
    lostGaps,
    undeliveredTail,
    stillDraining,
    requestLatency: distribution(requestLatency),
    tenantId: tenant.tenant.id,
    sampleJobId: requested[0],
    subscribersMissingEvents,
    duplicates,
    outOfOrder,
    subscriptionErrors,
    errorSamples,
    lagLive: distribution(lagLive),
    lagSinceSubscribe: distribution(lagSinceSubscribe),
    lagInsertToNotify: distribution(lagInsertToNotify),
    lagNotifyToClient: distribution(lagNotifyToClient),
    benchLoopDelay: {
      p50: loopDelay.percentile(50) / 1e6,
      p99: loopDelay.percentile(99) / 1e6,
      max: loopDelay.max / 1e6,
    },
    firstPayload: distribution(firstPayload),
    timeline,
    deliveryRate: delivered / Math.max(0.001, (caughtUpAt - firstRequest) / 1000),
    wallSeconds: (caughtUpAt - firstRequest) / 1000,
    caughtUpSeconds: (caughtUpAt - jobsDone) / 1000,
    apiRssBefore: rssBefore,
    apiRssPeak: rss.peak,
    apiRssEnd,
    apiRssHwm,
    cpu,
    reads: readsDelta(readsFrom, readsTo),
    activity: activityReport,
    loadAverage: [loadBefore, loadAfter],
  };
}

// ---------------------------------------------------------------------------------------------------- read-cost probe

interface ReadCost {
  what: string;
  lanes: number;
  operations: number;
  perSecond: number;
  /** CPU of this process (Prisma client + pg driver, as in the API) per operation. */
  cpuMsPerOperation: number;
  latency: Distribution;
}

/** Runs `operation` on `lanes` lanes until `count` operations or `maxMs` have passed; CPU and latency. */
async function measureReads(
  what: string,
  lanes: number,
  count: number,
  maxMs: number,
  operation: () => Promise<unknown>,
): Promise<ReadCost> {
  const latencies: number[] = [];
  let started = 0;
  const until = Date.now() + maxMs;
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (started < count && Date.now() < until) {
        started++;
        const begin = performance.now();
        await operation();
        latencies.push(performance.now() - begin);
      }
    }),
  );
  const wall = performance.now() - wallBefore;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    what,
    lanes,
    operations: latencies.length,
    perSecond: latencies.length / (wall / 1000),
    cpuMsPerOperation: (cpu.user + cpu.system) / 1000 / Math.max(1, latencies.length),
    latency: distribution(latencies),
  };
}

/**
 * Database reads per delivery, before and after the shared feed, replayed from this process with the same Prisma
 * client and adapter against the same database. Before (session 1): every subscriber read the job's new events
 * itself, then the event's replica, then the tenant's storage systems for a fresh per-event context. Now: one read
 * per wake-up per job and API process (events joined with their replica), shared by all of the job's subscribers;
 * storage figures only when a subscriber selects them, once per read.
 */
async function readProbe(env: TestStack, tenantId: string, jobId: string): Promise<ReadCost[]> {
  const db = createDb(env.stack.databaseUrl, { max: 10 });
  try {
    const events = await eventsAfter(db, tenantId, jobId, 0n, 500);
    const middle = events[Math.floor(events.length / 2)];
    const last = events.at(-1);
    if (middle === undefined || last === undefined) return [];
    const after = last.id - 1n;
    const perDelivery = async () => {
      await eventsAfter(db, tenantId, jobId, after, 500);
      await getReplica(db, tenantId, middle.replicaId);
      await listStorageSystems(db, tenantId);
    };
    const shared = () => eventsAfter(db, tenantId, jobId, after, 500);
    await measureReads('warm-up', 10, 300, 20_000, perDelivery);
    return [
      await measureReads('before: reads per delivery, 1 lane', 1, 300, 20_000, perDelivery),
      await measureReads('before: reads per delivery, 10 lanes', 10, 3_000, 30_000, perDelivery),
      await measureReads('now: shared read per wake-up, 10 lanes', 10, 3_000, 30_000, shared),
    ];
  } finally {
    await db.$disconnect();
  }
}

// ---------------------------------------------------------------------------------------------------- report

function printPhase(result: PhaseResult): void {
  const lines: string[] = [];
  const d = (label: string, value: Distribution) =>
    lines.push(
      `  ${label.padEnd(28)} n=${value.count}  p50 ${ms(value.p50)}  p95 ${ms(value.p95)}  p99 ${ms(value.p99)}  ` +
        `max ${ms(value.max)}  mean ${ms(value.mean)} ms`,
    );
  lines.push(`== ${result.name}: ${result.jobs} jobs x ${result.perJob} subscribers = ${result.subscribers} ==`);
  lines.push(
    `  jobs: ${JSON.stringify(result.jobStatuses)}, unfinished ${result.unfinishedJobs}, failed requestBackup ` +
      `${result.requestFailures}${result.requestErrors[0] ? ` (e.g. ${result.requestErrors[0].slice(0, 160)})` : ''}; connect ${result.subscribers} sockets in ${fixed(result.connectSeconds, 1)} s`,
  );
  lines.push(
    `  events in table ${result.eventsInTable} (${fixed(result.eventRate, 1)}/s); deliveries expected ` +
      `${result.expectedDeliveries}, delivered ${result.delivered} (${result.replayed} replayed, ` +
      `${result.delivered - result.replayed} live), ${fixed(result.deliveryRate, 0)}/s`,
  );
  lines.push(
    `  LOST ${result.lost} (${result.subscribersMissingEvents} subscribers; gaps ${result.lostGaps}, undelivered ` +
      `tail ${result.undeliveredTail}, deliveries in the last 5 s ${result.stillDraining}), duplicates ${result.duplicates}, ` +
      `out of order ${result.outOfOrder}, subscriptions with errors ${result.subscriptionErrors}` +
      (result.errorSamples.length ? ` e.g. ${result.errorSamples[0]}` : ''),
  );
  d('lag live (ms)', result.lagLive);
  d('  of which insert->NOTIFY', result.lagInsertToNotify);
  d('  of which NOTIFY->client', result.lagNotifyToClient);
  d('lag since subscribe (ms)', result.lagSinceSubscribe);
  lines.push(
    `  this process's event-loop delay: p50 ${ms(result.benchLoopDelay.p50)}, p99 ${ms(result.benchLoopDelay.p99)}, ` +
      `max ${ms(result.benchLoopDelay.max)} ms`,
  );
  d('subscribe -> first payload', result.firstPayload);
  d('requestBackup latency', result.requestLatency);
  lines.push(
    `  wall ${fixed(result.wallSeconds, 1)} s (subscribers caught up ${fixed(result.caughtUpSeconds, 1)} s after ` +
      `the last job ended); load average ${fixed(result.loadAverage[0])} -> ${fixed(result.loadAverage[1])}`,
  );
  lines.push(
    `  API RSS before ${mib(result.apiRssBefore)}, peak ${mib(result.apiRssPeak)}, end ${mib(result.apiRssEnd)}, ` +
      `VmHWM ${mib(result.apiRssHwm)}`,
  );
  const cpu = result.cpu;
  lines.push(
    `  API event-loop thread: on a CPU ${(result.apiMainThread.onCpu * 100).toFixed(0)}% of the time, waiting for a ` +
      `CPU (run queue) ${(result.apiMainThread.runQueueWait * 100).toFixed(0)}%`,
  );
  lines.push(
    `  CPU over ${fixed(cpu.seconds, 1)} s (cores): ` +
      CPU_GROUPS.map((group) => `${group} ${fixed(cpu.cores[group])}`).join(', ') +
      `; machine busy ${(cpu.machineBusyShare * 100).toFixed(0)}%`,
  );
  const per = (value: number) => fixed(value / Math.max(1, result.delivered), 2);
  lines.push(
    `  per delivered event: API CPU ${fixed((cpu.cpuSeconds.api * 1000) / Math.max(1, result.delivered), 2)} ms, ` +
      `PostgreSQL CPU ${fixed((cpu.cpuSeconds.postgres * 1000) / Math.max(1, result.delivered), 2)} ms, ` +
      `transactions ${per(result.reads.xactCommit)}`,
  );
  lines.push(
    `  table reads (seq+idx scans), total / per delivered event: ` +
      TABLES.map((table) => `${table} ${result.reads.scans[table] ?? 0} / ${per(result.reads.scans[table] ?? 0)}`).join(
        ', ',
      ),
  );
  lines.push(
    `  pg_stat_activity (${result.activity.samples} samples, ${fixed(result.activity.meanBackends, 1)} client backends ` +
      `on average); busy backends, mean count by state | wait | query:`,
  );
  for (const entry of result.activity.busy.slice(0, 8)) lines.push(`    ${fixed(entry.mean)}  ${entry.key}`);
  lines.push('  live lag by insert time (window start s: events, p50/p99/max ms):');
  const cells = result.timeline.map(
    (row) => `${row.fromSeconds}s: ${row.events}, ${ms(row.p50)}/${ms(row.p99)}/${ms(row.max)}`,
  );
  for (let index = 0; index < cells.length; index += 4) lines.push(`    ${cells.slice(index, index + 4).join(' | ')}`);
  console.log(lines.join('\n'));
}

// ---------------------------------------------------------------------------------------------------- main

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const started = new Date();
  const loadAtStart = os.loadavg();
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // not a checkout
  }
  log(
    `commit ${commit}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), ${mib(os.totalmem())} RAM, ` +
      `load average ${loadAtStart.map((value) => value.toFixed(2)).join(' ')}`,
  );
  log(
    `workload: ${options.jobs} jobs x ${options.copies} copies of ${options.sizeBytes} bytes at ${options.rate} B/s, ` +
      `${options.delaySeconds} s delay; baseline ${options.baselinePerJob}/job, load ${options.perJob}/job; ` +
      (options.requestsFirst
        ? 'all jobs requested first, then subscribed'
        : 'each job subscribed when its request returns'),
  );
  if (options.stackLog) {
    // startTestStack echoes the processes' lines with console.log when ECHELON_TEST_VERBOSE is set; send those
    // (they start with "[name]") to the file and keep this script's own output on stdout.
    const sink = createWriteStream(options.stackLog, { flags: 'a' });
    const print = console.log.bind(console);
    process.env.ECHELON_TEST_VERBOSE = '1';
    console.log = (...args: unknown[]) => {
      const line = args.map(String).join(' ');
      if (line.startsWith('[') && !line.startsWith('[subscribers '))
        sink.write(`${new Date().toISOString()} ${line}\n`);
      else print(...args);
    };
  }
  const env = await startTestStack({ env: { ...options.stackEnv, ECHELON_COPY_RATE_LIMIT: String(options.rate) } });
  const results: PhaseResult[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    log('stopping the stack');
    await env.stop().catch((error: unknown) => console.error(`stopping the stack failed: ${errorText(error)}`));
  };
  const onSignal = () => {
    void stop().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const guardPid = env.stack.processes.get('api')?.child.pid;
    if (guardPid === undefined) throw new Error('the stack has no API process');
    const apiPid = await apiNodePid(guardPid);
    log(`stack up: API ${env.apiUrl} (node pid ${apiPid}), data in ${env.dataDir}`);

    if (options.warmupJobs > 0) {
      const warm = await runPhase(
        env,
        apiPid,
        { name: 'warmup', jobs: options.warmupJobs, perJob: 2, measured: false },
        options,
      );
      log(`warm-up: ${warm.delivered} events delivered, lost ${warm.lost}`);
    }
    if (options.baselinePerJob > 0) {
      const baseline = await runPhase(
        env,
        apiPid,
        { name: 'baseline', jobs: options.jobs, perJob: options.baselinePerJob, measured: true },
        options,
      );
      results.push(baseline);
      printPhase(baseline);
    }
    const load = await runPhase(
      env,
      apiPid,
      { name: 'load', jobs: options.jobs, perJob: options.perJob, measured: true },
      options,
    );
    results.push(load);
    printPhase(load);

    const baseline = results.find((result) => result.name === 'baseline');
    console.log('== summary ==');
    console.log(
      `  load ${load.subscribers} subscribers: live lag p50 ${ms(load.lagLive.p50)} / p95 ${ms(load.lagLive.p95)} / ` +
        `p99 ${ms(load.lagLive.p99)} / max ${ms(load.lagLive.max)} ms; lost ${load.lost}; duplicates ` +
        `${load.duplicates}; out of order ${load.outOfOrder}; delivered ${load.delivered}/${load.expectedDeliveries}; ` +
        `API peak RSS ${mib(load.apiRssPeak)}; wall ${fixed(load.wallSeconds, 1)} s`,
    );
    if (baseline) {
      console.log(
        `  baseline ${baseline.subscribers} subscribers: live lag p50 ${ms(baseline.lagLive.p50)} / p99 ` +
          `${ms(baseline.lagLive.p99)} ms; lost ${baseline.lost}; API peak RSS ${mib(baseline.apiRssPeak)}`,
      );
      console.log(
        `  ratios load/baseline: p50 ${ratio(load.lagLive.p50, baseline.lagLive.p50)}, p99 ` +
          `${ratio(load.lagLive.p99, baseline.lagLive.p99)}, deliveries ${ratio(load.delivered, baseline.delivered)}, ` +
          `API CPU s ${ratio(load.cpu.cpuSeconds.api, baseline.cpu.cpuSeconds.api)}, replicas reads ` +
          `${ratio(load.reads.scans.replicas ?? 0, baseline.reads.scans.replicas ?? 0)}, API peak RSS ` +
          `${ratio(load.apiRssPeak, baseline.apiRssPeak)}`,
      );
      // Same jobs in both phases, so the worker's share cancels out: what one extra delivery costs.
      const extra = load.delivered - baseline.delivered;
      if (extra > 0) {
        const marginal = (a: number, b: number) => fixed((a - b) / extra, 2);
        console.log(
          `  per extra delivered event (load - baseline): ` +
            TABLES.map(
              (table) => `${table} ${marginal(load.reads.scans[table] ?? 0, baseline.reads.scans[table] ?? 0)}`,
            ).join(', ') +
            `, transactions ${marginal(load.reads.xactCommit, baseline.reads.xactCommit)}, API CPU ` +
            `${fixed(((load.cpu.cpuSeconds.api - baseline.cpu.cpuSeconds.api) * 1000) / extra, 2)} ms, PostgreSQL CPU ` +
            `${fixed(((load.cpu.cpuSeconds.postgres - baseline.cpu.cpuSeconds.postgres) * 1000) / extra, 2)} ms`,
        );
      }
    }
    let readCosts: ReadCost[] = [];
    if (options.readProbe && load.sampleJobId !== undefined) {
      log('read-cost probe (the API is idle now)');
      readCosts = await readProbe(env, load.tenantId, load.sampleJobId);
      // The baseline's event rate is what 50 concurrently running jobs produce when the API keeps up.
      const eventRate = baseline?.eventRate ?? load.eventRate;
      const needed = eventRate * options.perJob;
      console.log('== read-cost probe (this process, same Prisma client/adapter, same database) ==');
      for (const cost of readCosts) {
        console.log(
          `  ${cost.what.padEnd(42)} ${cost.operations} ops, ${fixed(cost.perSecond, 0)}/s, client CPU ` +
            `${fixed(cost.cpuMsPerOperation, 2)} ms/op, latency p50 ${fixed(cost.latency.p50, 1)} / p99 ` +
            `${fixed(cost.latency.p99, 1)} ms`,
        );
      }
      console.log(
        `  ${baseline ? 'the baseline' : 'the load phase'} produced ${fixed(eventRate, 1)} events/s x ${options.perJob} subscribers per job = ` +
          `${fixed(needed, 0)} deliveries/s needed`,
      );
    }
    const missed: string[] = [];
    if (!(load.lagLive.p99 <= options.targetP99Ms)) {
      missed.push(`p99 live lag ${ms(load.lagLive.p99)} ms > target ${options.targetP99Ms} ms`);
    }
    for (const result of results) {
      if (result.lost > 0) {
        missed.push(
          `${result.name}: ${result.lost} events lost (target 0): ${result.lostGaps} never delivered (gaps), ` +
            `${result.undeliveredTail} not delivered within ${options.graceSeconds} s after the jobs ended`,
        );
      }
      if (result.unfinishedJobs > 0) missed.push(`${result.name}: ${result.unfinishedJobs} jobs unfinished`);
      if (result.requestFailures > 0) {
        missed.push(`${result.name}: ${result.requestFailures} requestBackup calls failed under the subscriber load`);
      }
    }
    if (options.json) {
      await writeFile(
        options.json,
        `${JSON.stringify(
          { started: started.toISOString(), commit, loadAtStart, options, results, readCosts, missed },
          (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value),
          2,
        )}\n`,
      );
    }
    console.log(
      missed.length === 0 ? '  targets met' : `  TARGETS MISSED:\n${missed.map((line) => `    - ${line}`).join('\n')}`,
    );
    return missed.length === 0 ? 0 : 1;
  } finally {
    await stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('the benchmark could not run:', error);
    process.exit(2);
  },
);
