// Scale and timing benchmark of the backup orchestration: many concurrent jobs, one worker, the dev server.
//
//   npm run bench:orchestration -- [--jobs 200] [--delay 5] [--size 65536] [--copies 3] [--baseline-jobs 10]
//
// What it does: starts the real stack (embedded PostgreSQL, Temporal CLI dev server, one worker, the API) on free
// ports in a temp dir, seeds one tenant per phase with 3 FILESYSTEM systems, and runs three phases of the same
// workload one after the other: a short warm-up (not measured), the BASELINE (few jobs, low load) and the LOAD
// (the job count under test). In each phase every job's bytes are staged with tus first; then the requestBackup
// calls go out with bounded concurrency (so the request phase is short) and the script polls the database until
// every job is terminal or the phase's deadline passes.
//
// What it measures, per secondary replica:
//   lateness        = startedAt - (previous replica's completedAt + delay): how late the copy began compared with
//                     its planned time ("delay after the previous copy finished", the product's promise);
//   vs scheduledAt  = startedAt - scheduledAt (the worker records scheduledAt when the wait starts).
// Per phase: completed / failed / unfinished jobs, p50/p95/p99/max lateness, and jobs per minute = completed jobs
// / (last job completedAt - first requestBackup call) * 60. With the workflows' Temporal histories, each lateness
// is split into its steps (see workflow-timeline.ts), and a /proc sampler records which process used the CPU.
//
// The baseline, and why: these machines are noisy, so absolute numbers are printed next to ratios against a
// baseline measured in the same run, on the same stack, with the same workload shape. The baseline is the
// workload's timing floor: the same delay, size and copies with only --baseline-jobs jobs (default 10), where
// nothing queues. Its p50 lateness is what one job's bookkeeping costs on this machine; the load's
// p99/baseline-p50 says how much of the load's tail is queueing. For throughput, a system that scales perfectly
// finishes N concurrent jobs in the same wall time as 10, so jobs/min would grow by N/10: the script prints the
// jobs/min ratio and the scaling efficiency = (jobs/min ratio) / (N / baseline N), 1.0 being perfect.
//
// Targets (exit status 1 when missed, naming the target): every load job COMPLETED, and load p99 lateness
// <= --target-p99-ms (default 1000). Exit status 2: the benchmark itself could not run.
//
// Options (argv, or the environment variable in brackets):
//   --jobs N [BENCH_JOBS]                  load jobs, default 200
//   --delay S [BENCH_DELAY_SECONDS]        delay between copies, default 5
//   --size BYTES [BENCH_SIZE_BYTES]        bytes per job, default 65536
//   --copies N [BENCH_COPIES]              copies per job (primary + secondaries), default 3, at most 3
//   --baseline-jobs N [BENCH_BASELINE_JOBS] default 10 (0 skips the baseline)
//   --warmup-jobs N [BENCH_WARMUP_JOBS]    default 3, with a 1 s delay (0 skips the warm-up)
//   --request-concurrency N                requestBackup calls in flight, default 10
//   --upload-concurrency N                 tus uploads in flight, default 8
//   --deadline S                           per phase, default 120 + 4 * (copies - 1) * delay + 2 * jobs
//   --target-p99-ms MS                     default 1000
//   --no-history                           skip the Temporal history breakdown
//   --json FILE                            also write every figure as JSON
//   --stack-env KEY=VALUE                  extra environment for the stack's processes (repeatable)
//   --tenants N [BENCH_TENANTS]            spread each phase's jobs over N tenants, default 1 (the issue's case)
//   --own-temporal                         experiments: the benchmark starts the Temporal dev server itself (the
//                                          launcher's, plus a metrics port) and reports its persistence latency;
//                                          the stack joins it through TEMPORAL_ADDRESS
//   --temporal-sqlite-pragma P=V           with --own-temporal (implied): these pragmas instead of the launcher's
//                                          (repeatable), e.g. journal_mode=delete to measure the CLI's default
//   --tuned-worker                         experiments: replace the worker by bench/tuned-worker.ts, which reads
//                                          BENCH_WORKER_* settings (pass them with --stack-env)
import { rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type SeededTenant, seedTenant } from '@echelon/db';
import {
  gqlOk,
  randomData,
  type ServiceProcess,
  startTestStack,
  startTsProcess,
  type TestStack,
  tempDir,
  uploadBytes,
} from '@echelon/stack';
import { Client, Connection } from '@temporalio/client';
import { CPU_GROUPS, CpuSampler, type CpuUsage } from './cpu-sampler.js';
import { type PgWaitReport, PgWaitSampler } from './pg-wait-sampler.js';
import { type Distribution, distribution, formatMs, mapLimit, ratio, sleep, stackEnvOf, withTimeout } from './stats.js';
import { persistenceLatency, startTemporalVariant, type TemporalVariant } from './temporal-variant.js';
import {
  ALL_STEPS,
  analyseHistory,
  emptyHistoryStats,
  type HistoryEventLike,
  type HistoryStats,
  STEPS,
  type Step,
  WFT_SPLIT,
} from './workflow-timeline.js';

const GIB = 1024 ** 3;
const TERMINAL = new Set(['COMPLETED', 'PARTIAL', 'FAILED', 'CANCELLED']);
const POLL_MS = 1_000;
const REQUEST_TIMEOUT_MS = 60_000;
const REQUEST_BACKUP = `mutation($input: RequestBackupInput!) { requestBackup(input: $input) { id } }`;

interface Options {
  jobs: number;
  delaySeconds: number;
  sizeBytes: number;
  copies: number;
  baselineJobs: number;
  warmupJobs: number;
  requestConcurrency: number;
  uploadConcurrency: number;
  deadlineSeconds: number | undefined;
  targetP99Ms: number;
  history: boolean;
  json: string | undefined;
  stackEnv: Record<string, string>;
  tunedWorker: boolean;
  tenants: number;
  ownTemporal: boolean;
  temporalSqlitePragmas: string[];
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      jobs: { type: 'string' },
      delay: { type: 'string' },
      size: { type: 'string' },
      copies: { type: 'string' },
      'baseline-jobs': { type: 'string' },
      'warmup-jobs': { type: 'string' },
      'request-concurrency': { type: 'string' },
      'upload-concurrency': { type: 'string' },
      deadline: { type: 'string' },
      'target-p99-ms': { type: 'string' },
      'no-history': { type: 'boolean' },
      json: { type: 'string' },
      'stack-env': { type: 'string', multiple: true },
      'tuned-worker': { type: 'boolean' },
      tenants: { type: 'string' },
      'own-temporal': { type: 'boolean' },
      'temporal-sqlite-pragma': { type: 'string', multiple: true },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log('see the header of bench/orchestration.ts for the options');
    process.exit(0);
  }
  const int = (name: string, raw: string | undefined, env: string | undefined, fallback: number, min = 0) => {
    const text = raw ?? (env !== undefined ? process.env[env] : undefined);
    if (text === undefined || text === '') return fallback;
    const value = Number(text);
    if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer >= ${min}, not ${text}`);
    return value;
  };
  const copies = int('copies', values.copies, 'BENCH_COPIES', 3, 2);
  if (copies > 3) throw new Error('--copies is at most 3 (the benchmark seeds 3 storage systems)');
  const stackEnv = stackEnvOf(values['stack-env']);
  return {
    jobs: int('jobs', values.jobs, 'BENCH_JOBS', 200, 1),
    delaySeconds: int('delay', values.delay, 'BENCH_DELAY_SECONDS', 5, 1),
    sizeBytes: int('size', values.size, 'BENCH_SIZE_BYTES', 64 * 1024, 1),
    copies,
    baselineJobs: int('baseline-jobs', values['baseline-jobs'], 'BENCH_BASELINE_JOBS', 10),
    warmupJobs: int('warmup-jobs', values['warmup-jobs'], 'BENCH_WARMUP_JOBS', 3),
    requestConcurrency: int('request-concurrency', values['request-concurrency'], undefined, 10, 1),
    uploadConcurrency: int('upload-concurrency', values['upload-concurrency'], undefined, 8, 1),
    deadlineSeconds: values.deadline === undefined ? undefined : int('deadline', values.deadline, undefined, 0, 10),
    targetP99Ms: int('target-p99-ms', values['target-p99-ms'], undefined, 1000, 1),
    history: !values['no-history'],
    json: values.json,
    stackEnv,
    tunedWorker: values['tuned-worker'] ?? false,
    tenants: int('tenants', values.tenants, 'BENCH_TENANTS', 1, 1),
    ownTemporal: (values['own-temporal'] ?? false) || (values['temporal-sqlite-pragma'] ?? []).length > 0,
    temporalSqlitePragmas: values['temporal-sqlite-pragma'] ?? [],
  };
}

interface PhaseSpec {
  name: string;
  jobs: number;
  delaySeconds: number;
  sizeBytes: number;
  copies: number;
}

interface PhaseResult {
  name: string;
  jobs: number;
  delaySeconds: number;
  requestErrors: string[];
  completed: number;
  failed: { id: string; status: string; reason: string | null }[];
  unfinished: string[];
  secondaries: number;
  retriedCopies: number;
  lateness: Distribution;
  vsScheduled: Distribution;
  /** Job created -> primary stamped COPYING: how long a new job queues before its first copy. */
  primaryStart: Distribution;
  /** COPYING -> COMPLETED of the secondaries. */
  copyDuration: Distribution;
  uploadSeconds: number;
  requestSeconds: number;
  /** One requestBackup call, as the client sees it (includes starting the workflow). */
  requestLatency: Distribution;
  wallSeconds: number;
  jobsPerMinute: number;
  steps: Record<Step, Distribution> | undefined;
  /** Over every workflow task of the phase's workflows. */
  workflowTasks:
    | (Omit<HistoryStats, 'wftQueue' | 'wftRun'> & { wftQueue: Distribution; wftRun: Distribution })
    | undefined;
  cpu: CpuUsage | undefined;
  pgWaits: PgWaitReport;
  /** The machine's 1-minute load average when the requests began and when the phase ended. */
  loadAverage: [number, number];
}

const log = (line: string) => console.log(`[bench ${new Date().toISOString().slice(11, 23)}] ${line}`);

async function runPhase(
  env: TestStack,
  spec: PhaseSpec,
  options: Options,
  sampler: CpuSampler,
  temporal: Client | undefined,
): Promise<PhaseResult> {
  const capacityBytes = Math.max(GIB, spec.jobs * spec.sizeBytes * 4);
  // Job i belongs to tenant i % tenants: each tenant has its own storage systems, spaces and event chain.
  const tenants: SeededTenant[] = [];
  for (let index = 0; index < Math.max(1, Math.min(options.tenants, spec.jobs)); index++) {
    tenants.push(
      await seedTenant(env.db, {
        slug: `bench-${spec.name}-${Date.now()}-${index}`,
        name: `Benchmark ${spec.name} ${index}`,
        storageRoot: path.join(env.dataDir, 'storage', spec.name, String(index)),
        storage: [
          { name: 'bench-primary', spaces: [{ name: 'main', capacityBytes }] },
          { name: 'bench-secondary-a', spaces: [{ name: 'main', capacityBytes: capacityBytes * 2 }] },
          { name: 'bench-secondary-b', spaces: [{ name: 'main', capacityBytes: capacityBytes * 3 }] },
        ],
        copies: spec.copies,
        delaySeconds: spec.delaySeconds,
        ordering: 'CAPACITY',
      }),
    );
  }
  const apiKeyOf = (index: number): string => tenants[index % tenants.length]!.apiKey;

  const uploadStarted = Date.now();
  const uploadIds = await mapLimit(
    Array.from({ length: spec.jobs }, (_, index) => index),
    options.uploadConcurrency,
    (index) =>
      withTimeout(uploadBytes(env.apiUrl, apiKeyOf(index), randomData(spec.sizeBytes)), REQUEST_TIMEOUT_MS, 'upload'),
  );
  const uploadSeconds = (Date.now() - uploadStarted) / 1000;
  log(`${spec.name}: staged ${uploadIds.length} uploads in ${uploadSeconds.toFixed(1)} s`);

  const pgSampler = new PgWaitSampler(env.db);
  pgSampler.start();
  const cpuFrom = await sampler.mark();
  const loadBefore = os.loadavg()[0] ?? Number.NaN;
  const firstRequest = Date.now();
  const requestErrors: string[] = [];
  const requestLatency: number[] = [];
  const requested = await mapLimit(uploadIds, options.requestConcurrency, async (uploadId, index) => {
    const sent = Date.now();
    try {
      const data = await withTimeout(
        gqlOk<{ requestBackup: { id: string } }>(env.apiUrl, apiKeyOf(index), REQUEST_BACKUP, {
          input: { datasetKey: `bench/${spec.name}/${index}`, uploadId },
        }),
        REQUEST_TIMEOUT_MS,
        'requestBackup',
      );
      requestLatency.push(Date.now() - sent);
      return data.requestBackup.id;
    } catch (error) {
      requestErrors.push(error instanceof Error ? error.message : String(error));
      return undefined;
    }
  });
  const jobIds = requested.filter((id): id is string => id !== undefined);
  const requestSeconds = (Date.now() - firstRequest) / 1000;
  log(`${spec.name}: ${jobIds.length} requestBackup calls answered in ${requestSeconds.toFixed(1)} s`);

  const deadlineSeconds = options.deadlineSeconds ?? 120 + 4 * (spec.copies - 1) * spec.delaySeconds + 2 * spec.jobs;
  const deadline = firstRequest + deadlineSeconds * 1000;
  let lastProgress = 0;
  for (let poll = 0; poll < deadlineSeconds * 2 && Date.now() < deadline; poll++) {
    const statuses = await env.db.backupJob.findMany({ where: { id: { in: jobIds } }, select: { status: true } });
    const done = statuses.filter((job) => TERMINAL.has(job.status)).length;
    if (done === jobIds.length) break;
    if (Date.now() - lastProgress >= 10_000) {
      lastProgress = Date.now();
      log(`${spec.name}: ${done}/${jobIds.length} jobs terminal`);
    }
    await sleep(POLL_MS);
  }
  const cpuTo = await sampler.mark();
  const pgWaits = await pgSampler.stop();

  const jobs = await env.db.backupJob.findMany({
    where: { id: { in: jobIds } },
    select: {
      id: true,
      status: true,
      statusReason: true,
      workflowId: true,
      createdAt: true,
      completedAt: true,
      replicas: {
        select: { order: true, status: true, scheduledAt: true, startedAt: true, completedAt: true, attempts: true },
        orderBy: { order: 'asc' },
      },
    },
  });
  const delayMs = spec.delaySeconds * 1000;
  const lateness: number[] = [];
  const vsScheduled: number[] = [];
  const primaryStart: number[] = [];
  const copyDuration: number[] = [];
  let retriedCopies = 0;
  for (const job of jobs) {
    for (const replica of job.replicas) {
      if (replica.attempts > 1) retriedCopies++;
      if (replica.order === 0) {
        if (replica.startedAt) primaryStart.push(replica.startedAt.getTime() - job.createdAt.getTime());
        continue;
      }
      const previous = job.replicas.find((candidate) => candidate.order === replica.order - 1);
      if (!replica.startedAt || !previous?.completedAt) continue;
      lateness.push(replica.startedAt.getTime() - (previous.completedAt.getTime() + delayMs));
      if (replica.scheduledAt) vsScheduled.push(replica.startedAt.getTime() - replica.scheduledAt.getTime());
      if (replica.completedAt) copyDuration.push(replica.completedAt.getTime() - replica.startedAt.getTime());
    }
  }
  const completedJobs = jobs.filter((job) => job.status === 'COMPLETED');
  const lastCompletion = Math.max(...completedJobs.map((job) => job.completedAt?.getTime() ?? 0));
  const wallSeconds = completedJobs.length > 0 ? (lastCompletion - firstRequest) / 1000 : Number.NaN;

  let steps: Record<Step, Distribution> | undefined;
  let workflowTasks: PhaseResult['workflowTasks'];
  if (temporal !== undefined) {
    const samples = Object.fromEntries(ALL_STEPS.map((step) => [step, [] as number[]])) as Record<Step, number[]>;
    const totals = emptyHistoryStats();
    await mapLimit(jobs, 8, async (job) => {
      const history = await withTimeout(
        temporal.workflow.getHandle(job.workflowId).fetchHistory(),
        REQUEST_TIMEOUT_MS,
        'fetchHistory',
      ).catch((error: unknown) => {
        log(`history of ${job.workflowId} unavailable: ${String(error)}`);
        return undefined;
      });
      const events = (history?.events ?? []) as unknown as HistoryEventLike[];
      const { secondaries, stats } = analyseHistory(events, job.replicas, delayMs);
      for (const times of secondaries) {
        for (const step of ALL_STEPS) samples[step].push(times[step]);
      }
      totals.workflowTasks += stats.workflowTasks;
      totals.stickyTasks += stats.stickyTasks;
      totals.timedOutTasks += stats.timedOutTasks;
      totals.failedTasks += stats.failedTasks;
      totals.wftQueue.push(...stats.wftQueue);
      totals.wftRun.push(...stats.wftRun);
    });
    steps = Object.fromEntries(ALL_STEPS.map((step) => [step, distribution(samples[step])])) as Record<
      Step,
      Distribution
    >;
    workflowTasks = { ...totals, wftQueue: distribution(totals.wftQueue), wftRun: distribution(totals.wftRun) };
  }

  return {
    name: spec.name,
    jobs: spec.jobs,
    delaySeconds: spec.delaySeconds,
    requestErrors,
    completed: completedJobs.length,
    failed: jobs
      .filter((job) => TERMINAL.has(job.status) && job.status !== 'COMPLETED')
      .map((job) => ({ id: job.id, status: job.status, reason: job.statusReason })),
    unfinished: jobs.filter((job) => !TERMINAL.has(job.status)).map((job) => job.id),
    secondaries: lateness.length,
    retriedCopies,
    lateness: distribution(lateness),
    vsScheduled: distribution(vsScheduled),
    primaryStart: distribution(primaryStart),
    copyDuration: distribution(copyDuration),
    uploadSeconds,
    requestSeconds,
    requestLatency: distribution(requestLatency),
    wallSeconds,
    jobsPerMinute: completedJobs.length > 0 && wallSeconds > 0 ? (completedJobs.length / wallSeconds) * 60 : 0,
    steps,
    workflowTasks,
    cpu: sampler.usage(cpuFrom, cpuTo),
    pgWaits,
    loadAverage: [loadBefore, os.loadavg()[0] ?? Number.NaN],
  };
}

const pad = (text: string | number, width: number) => String(text).padStart(width);
const dist = (d: Distribution) =>
  `${pad(formatMs(d.p50), 6)} ${pad(formatMs(d.p95), 6)} ${pad(formatMs(d.p99), 6)} ${pad(formatMs(d.max), 6)}`;

function printPhases(results: PhaseResult[]): void {
  console.log('');
  console.log(
    `${'phase'.padEnd(9)} ${pad('jobs', 5)} ${pad('done', 5)} ${pad('fail', 5)} ${pad('unfin', 5)}` +
      ` | lateness ms: ${pad('p50', 6)} ${pad('p95', 6)} ${pad('p99', 6)} ${pad('max', 6)}` +
      ` | vs scheduledAt: ${pad('p50', 6)} ${pad('p95', 6)} ${pad('p99', 6)} ${pad('max', 6)}` +
      ` | ${pad('jobs/min', 8)} ${pad('wall s', 7)} ${pad('req s', 6)}`,
  );
  for (const r of results) {
    console.log(
      `${r.name.padEnd(9)} ${pad(r.jobs, 5)} ${pad(r.completed, 5)} ${pad(r.failed.length + r.requestErrors.length, 5)} ${pad(r.unfinished.length, 5)}` +
        ` |              ${dist(r.lateness)} |                 ${dist(r.vsScheduled)}` +
        ` | ${pad(r.jobsPerMinute.toFixed(1), 8)} ${pad(r.wallSeconds.toFixed(1), 7)} ${pad(r.requestSeconds.toFixed(1), 6)}`,
    );
  }
  console.log('');
  for (const r of results) {
    console.log(
      `${r.name}: ${r.secondaries} secondaries measured, ${r.retriedCopies} copies retried; requestBackup latency p50/p99 ${formatMs(r.requestLatency.p50)}/${formatMs(r.requestLatency.p99)} ms; primary start after request p50/p99 ${formatMs(r.primaryStart.p50)}/${formatMs(r.primaryStart.p99)} ms; secondary copy duration p50/p99 ${formatMs(r.copyDuration.p50)}/${formatMs(r.copyDuration.p99)} ms`,
    );
  }
}

function printSteps(result: PhaseResult): void {
  if (result.steps === undefined) return;
  console.log('');
  console.log(`lateness steps, ${result.name} (ms; see bench/workflow-timeline.ts):`);
  const totalMean = STEPS.reduce((sum, step) => sum + (result.steps?.[step].mean ?? 0), 0);
  console.log(
    `  ${'step'.padEnd(15)} ${pad('p50', 7)} ${pad('p99', 7)} ${pad('max', 7)} ${pad('mean', 7)} ${pad('share', 6)}`,
  );
  const row = (step: Step, indent: string) => {
    const d = result.steps?.[step];
    if (d === undefined) return;
    const share = totalMean > 0 ? `${Math.round((d.mean / totalMean) * 100)}%` : 'n/a';
    console.log(
      `${indent}${step.padEnd(17 - indent.length)} ${pad(formatMs(d.p50), 7)} ${pad(formatMs(d.p99), 7)} ${pad(formatMs(d.max), 7)} ${pad(formatMs(d.mean), 7)} ${pad(share, 6)}`,
    );
  };
  for (const step of STEPS) row(step, '  ');
  console.log('  the three wft* steps, split:');
  for (const step of WFT_SPLIT) row(step, '    ');
  const tasks = result.workflowTasks;
  if (tasks !== undefined) {
    console.log(
      `  all ${tasks.workflowTasks} workflow tasks: ${tasks.stickyTasks} on the sticky queue, ${tasks.timedOutTasks} timed out, ${tasks.failedTasks} failed; scheduled->started p50/p99 ${formatMs(tasks.wftQueue.p50)}/${formatMs(tasks.wftQueue.p99)} ms, started->completed p50/p99 ${formatMs(tasks.wftRun.p50)}/${formatMs(tasks.wftRun.p99)} ms`,
    );
  }
}

function printPgWaits(result: PhaseResult): void {
  const { samples, sessions, blockers } = result.pgWaits;
  if (samples === 0) return;
  const average = (count: number) => (count / samples).toFixed(2);
  console.log(`postgres, ${result.name} (${samples} samples; average sessions per sample):`);
  console.log(`  by state and wait: ${sessions.map(([label, n]) => `${label} ${average(n)}`).join('; ') || 'none'}`);
  for (const [statement, n] of blockers) console.log(`  ${average(n)} blocked behind: ${statement}`);
}

function printCpu(result: PhaseResult): void {
  if (result.cpu === undefined) return;
  const cores = CPU_GROUPS.map((group) => `${group} ${result.cpu?.cores[group].toFixed(2)}`).join(', ');
  console.log(
    `cpu, ${result.name} (${result.cpu.seconds.toFixed(0)} s, ${os.cpus().length} cores): cores used: ${cores}; load average ${result.loadAverage.map((value) => value.toFixed(1)).join(' -> ')}; machine busy ${(result.cpu.machineBusyShare * 100).toFixed(0)}% (peak 1 s: ${(result.cpu.machinePeakShare * 100).toFixed(0)}%), iowait ${(result.cpu.machineIowaitShare * 100).toFixed(0)}%`,
  );
}

/** Replaces the stack's worker by bench/tuned-worker.ts; the stack then stops it in the worker's place. */
async function swapInTunedWorker(env: TestStack): Promise<void> {
  await env.stack.processes.get('worker')?.stop();
  let polling: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    polling = resolve;
  });
  const worker: ServiceProcess = startTsProcess('worker', 'bench/tuned-worker.ts', {
    env: env.stack.childEnv,
    // Its start line and the one-line summary of each failure; the rest of its output is dropped.
    log: (line) => {
      if (line.includes('worker polling')) {
        console.log(line);
        polling();
      } else if (/^\[worker\]\s+error: /.test(line)) {
        console.log(line);
      }
    },
  });
  env.stack.processes.set('worker', worker);
  await withTimeout(
    Promise.race([
      ready,
      worker.exited.then(() => Promise.reject(new Error('the tuned worker exited before it polled'))),
    ]),
    120_000,
    'starting the tuned worker',
  );
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  log(
    `orchestration benchmark: ${options.jobs} jobs, delay ${options.delaySeconds} s, ${options.sizeBytes} bytes, ${options.copies} copies; baseline ${options.baselineJobs} jobs; ${os.cpus().length} cores, ${(os.totalmem() / GIB).toFixed(1)} GiB`,
  );
  const sampler = new CpuSampler();
  let env: TestStack | undefined;
  let variant: { server: TemporalVariant; dataDir: string } | undefined;
  let connection: Connection | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await sampler.stop();
      await connection?.close().catch(() => undefined);
      if (env !== undefined) {
        log('stopping the stack');
        await withTimeout(env.stop(), 90_000, 'stopping the stack').catch((error: unknown) =>
          log(`stopping the stack failed: ${String(error)}`),
        );
      }
      if (variant !== undefined) {
        await variant.server.stop().catch((error: unknown) => log(`stopping Temporal failed: ${String(error)}`));
        await rm(variant.dataDir, { recursive: true, force: true });
      }
    })();
    return stopping;
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping`);
      void stop().finally(() => process.exit(130));
    });
  }

  try {
    const started = Date.now();
    const stackEnv = { ...options.stackEnv };
    if (options.ownTemporal) {
      const dataDir = await tempDir('echelon-bench-temporal-');
      variant = {
        dataDir,
        server: await startTemporalVariant({
          dataDir,
          namespace: 'default',
          sqlitePragmas: options.temporalSqlitePragmas,
          log: (line) => console.log(line),
        }),
      };
      stackEnv.TEMPORAL_ADDRESS = variant.server.address;
      log(
        `own Temporal dev server at ${variant.server.address}, pragmas ${options.temporalSqlitePragmas.join(' ') || 'as the launcher'}`,
      );
    }
    env = await startTestStack({ env: stackEnv });
    log(`stack up in ${((Date.now() - started) / 1000).toFixed(1)} s (api ${env.apiUrl}, data ${env.dataDir})`);
    if (options.tunedWorker) await swapInTunedWorker(env);
    let temporal: Client | undefined;
    if (options.history) {
      connection = await Connection.connect({ address: env.stack.temporalAddress });
      temporal = new Client({ connection, namespace: env.stack.config.temporalNamespace });
    }
    sampler.start();
    const shape = { delaySeconds: options.delaySeconds, sizeBytes: options.sizeBytes, copies: options.copies };
    if (options.warmupJobs > 0) {
      const warmup = await runPhase(
        env,
        { ...shape, name: 'warmup', jobs: options.warmupJobs, delaySeconds: 1 },
        options,
        sampler,
        undefined,
      );
      log(`warm-up: ${warmup.completed}/${warmup.jobs} completed`);
    }
    const results: PhaseResult[] = [];
    if (options.baselineJobs > 0) {
      results.push(
        await runPhase(env, { ...shape, name: 'baseline', jobs: options.baselineJobs }, options, sampler, temporal),
      );
    }
    const load = await runPhase(env, { ...shape, name: 'load', jobs: options.jobs }, options, sampler, temporal);
    results.push(load);
    const baseline = results.find((result) => result.name === 'baseline');

    printPhases(results);
    if (baseline !== undefined) {
      const jpmRatio = load.jobsPerMinute / baseline.jobsPerMinute;
      console.log('');
      console.log(`ratios against the baseline (${baseline.jobs} jobs) measured in this run:`);
      console.log(`  lateness p99(load) / p50(baseline)   ${ratio(load.lateness.p99, baseline.lateness.p50)}`);
      console.log(`  lateness p50(load) / p50(baseline)   ${ratio(load.lateness.p50, baseline.lateness.p50)}`);
      console.log(`  lateness p99(load) / p99(baseline)   ${ratio(load.lateness.p99, baseline.lateness.p99)}`);
      console.log(`  jobs/min load / baseline             ${ratio(load.jobsPerMinute, baseline.jobsPerMinute)}`);
      console.log(
        `  scaling efficiency                   ${Number.isFinite(jpmRatio) ? (jpmRatio / (load.jobs / baseline.jobs)).toFixed(2) : 'n/a'} (1.00 = ${load.jobs} jobs finish as fast as ${baseline.jobs})`,
      );
    }
    for (const result of results) printSteps(result);
    console.log('');
    for (const result of results) printCpu(result);
    for (const result of results) printPgWaits(result);
    const persistence = variant ? await persistenceLatency(variant.server.metricsUrl) : undefined;
    if (persistence !== undefined) {
      console.log(
        `temporal persistence (whole run): ${persistence.operations} operations, mean ${persistence.meanMs.toFixed(1)} ms; UpdateWorkflowExecution mean ${persistence.updateWorkflowMeanMs.toFixed(1)} ms`,
      );
    }

    const missed: string[] = [];
    if (load.requestErrors.length > 0) {
      missed.push(`${load.requestErrors.length} requestBackup calls failed, e.g. ${load.requestErrors[0]}`);
    }
    if (load.failed.length > 0) {
      const sample = load.failed.slice(0, 5).map((job) => `${job.id} ${job.status} (${job.reason ?? 'no reason'})`);
      missed.push(`${load.failed.length} jobs did not complete: ${sample.join('; ')}`);
    }
    if (load.unfinished.length > 0) {
      missed.push(
        `${load.unfinished.length} jobs unfinished at the deadline, e.g. ${load.unfinished.slice(0, 5).join(', ')}`,
      );
    }
    if (!(load.lateness.p99 <= options.targetP99Ms)) {
      missed.push(`p99 lateness ${formatMs(load.lateness.p99)} ms > target ${options.targetP99Ms} ms`);
    }
    console.log('');
    if (missed.length === 0) {
      console.log(
        `TARGETS MET: all ${load.jobs} jobs completed; p99 lateness ${formatMs(load.lateness.p99)} ms <= ${options.targetP99Ms} ms`,
      );
    } else {
      for (const line of missed) console.log(`TARGET MISSED: ${line}`);
    }
    if (options.json !== undefined) {
      const report = {
        date: new Date().toISOString(),
        machine: { cores: os.cpus().length, memoryGiB: os.totalmem() / GIB, cpu: os.cpus()[0]?.model },
        options,
        results,
        temporalPersistence: persistence,
        missed,
      };
      await writeFile(options.json, `${JSON.stringify(report, null, 2)}\n`);
      log(`wrote ${options.json}`);
    }
    return missed.length === 0 ? 0 : 1;
  } finally {
    await stop();
  }
}

// Exits explicitly: a client library's idle handle must not keep a finished benchmark alive.
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('benchmark failed:', error);
    process.exit(2);
  },
);
