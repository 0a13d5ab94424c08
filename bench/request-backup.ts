// Request-rate benchmark of the API's busiest mutation: requestBackup at a steady rate against the running stack.
//
//   npm run bench:request-backup -- [--rate 100] [--duration 60] [--copies 3] [--baseline-rate 2]
//
// What it does: starts the real stack (embedded PostgreSQL, the Temporal CLI dev server, one worker, the API) on
// free ports in a temp dir and seeds --tenants tenants (default 1), each with 3 FILESYSTEM systems and a template of --copies copies and
// --delay seconds. For each phase it first stages one tiny upload (--size bytes, tus) per request it will send,
// then sends requestBackup open-loop: request i leaves at start + i / rate whatever the earlier ones are doing, and
// its latency is measured from that planned instant (so a stalled client or server cannot hide queueing). Each
// phase waits for its last answer; the jobs go on running in the worker meanwhile, as they would in production.
//
// The baseline, and why: these machines are noisy, so the load's figures are printed next to a baseline measured
// in the same run on the same stack: --baseline-rate requests per second (default 2) for --baseline-duration
// seconds (default 10), where nothing queues. Its p50 is what one call costs here; load p99 / baseline p50 says
// how much of the tail is queueing.
//
// What it prints, per phase: sent, answered, errors (with the first few messages), p50/p95/p99/max latency, the
// achieved rate, and the CPU each process used (cores, /proc sampling), the API's in particular.
//
// Targets (exit status 1 when missed, naming the target): 0 errors and load p99 <= --target-p99-ms (default 150).
// Exit status 2: the benchmark itself could not run.
//
// Options (argv):
//   --rate N              requests per second in the load phase, default 100
//   --duration S          load phase length, default 60
//   --baseline-rate N     default 2 (0 skips the baseline)
//   --baseline-duration S default 10
//   --copies N            copies per job (1-3), default 3
//   --delay S             delay between copies, default 30 (the secondaries run after the phase, mostly)
//   --size BYTES          bytes per upload, default 64
//   --upload-concurrency  tus uploads in flight while staging, default 16
//   --target-p99-ms MS    default 150
//   --tenants N           spread the requests over N tenants, round robin (default 1: one tenant's hash chain
//                         takes every event, the hardest case)
//   --pg-waits            also print what PostgreSQL's sessions waited for during the load phase (pg_stat_activity
//                         sampled twice a second; blocked sessions by the statement blocking them)
//   --pg-statements       also print the statements PostgreSQL spent the load phase's time on (pg_stat_statements,
//                         loaded by restarting the embedded PostgreSQL once before the phases)
//   --json FILE           also write every figure as JSON
//   --stack-env KEY=VALUE extra environment for the stack's processes (repeatable)
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type SeededTenant, seedTenant } from '@echelon/db';
import { randomData, startTestStack, type TestStack, uploadBytes } from '@echelon/stack';
import { CPU_GROUPS, CpuSampler, type CpuUsage } from './cpu-sampler.js';
import { type PgWaitReport, PgWaitSampler } from './pg-wait-sampler.js';
import { type Distribution, distribution, formatMs, mapLimit, ratio, sleep, stackEnvOf } from './stats.js';

const REQUEST_BACKUP = 'mutation($input: RequestBackupInput!) { requestBackup(input: $input) { id status } }';
const REQUEST_TIMEOUT_MS = 30_000;

interface Options {
  rate: number;
  durationSeconds: number;
  baselineRate: number;
  baselineSeconds: number;
  copies: number;
  delaySeconds: number;
  sizeBytes: number;
  uploadConcurrency: number;
  tenants: number;
  pgStatements: boolean;
  pgWaits: boolean;
  targetP99Ms: number;
  json: string | undefined;
  stackEnv: Record<string, string>;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      rate: { type: 'string' },
      duration: { type: 'string' },
      'baseline-rate': { type: 'string' },
      'baseline-duration': { type: 'string' },
      copies: { type: 'string' },
      delay: { type: 'string' },
      size: { type: 'string' },
      'upload-concurrency': { type: 'string' },
      tenants: { type: 'string' },
      'pg-statements': { type: 'boolean' },
      'pg-waits': { type: 'boolean' },
      'target-p99-ms': { type: 'string' },
      json: { type: 'string' },
      'stack-env': { type: 'string', multiple: true },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log('see the header of bench/request-backup.ts for the options');
    process.exit(0);
  }
  const int = (name: string, raw: string | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) => {
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new Error(`--${name} must be an integer from ${min} to ${max}, not ${raw}`);
    }
    return value;
  };
  return {
    rate: int('rate', values.rate, 100, 1, 2000),
    durationSeconds: int('duration', values.duration, 60, 1, 3600),
    baselineRate: int('baseline-rate', values['baseline-rate'], 2, 0, 100),
    baselineSeconds: int('baseline-duration', values['baseline-duration'], 10, 1, 600),
    copies: int('copies', values.copies, 3, 1, 3),
    delaySeconds: int('delay', values.delay, 30, 0, 3600),
    sizeBytes: int('size', values.size, 64, 1, 1024 * 1024),
    uploadConcurrency: int('upload-concurrency', values['upload-concurrency'], 16, 1, 256),
    tenants: int('tenants', values.tenants, 1, 1, 100),
    pgStatements: values['pg-statements'] ?? false,
    pgWaits: values['pg-waits'] ?? false,
    targetP99Ms: int('target-p99-ms', values['target-p99-ms'], 150, 1),
    json: values.json,
    stackEnv: stackEnvOf(values['stack-env']),
  };
}

interface PhaseResult {
  name: string;
  rate: number;
  seconds: number;
  sent: number;
  answered: number;
  errors: string[];
  latency: Distribution;
  achievedRate: number;
  stagingSeconds: number;
  cpu: CpuUsage | undefined;
}

/** One upload per request, staged by request i's tenant (tenants[i % tenants.length]). */
async function stage(env: TestStack, tenants: SeededTenant[], count: number, options: Options): Promise<string[]> {
  const bytes = randomData(options.sizeBytes);
  return mapLimit(
    Array.from({ length: count }, (_, index) => index),
    options.uploadConcurrency,
    (index) => uploadBytes(env.apiUrl, (tenants[index % tenants.length] as SeededTenant).apiKey, bytes),
  );
}

async function requestOnce(env: TestStack, apiKey: string, datasetKey: string, uploadId: string): Promise<string> {
  const response = await fetch(`${env.apiUrl}/graphql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query: REQUEST_BACKUP, variables: { input: { datasetKey, uploadId } } }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const body = (await response.json()) as {
    data?: { requestBackup?: { id: string } };
    errors?: { message: string; extensions?: { code?: string } }[];
  };
  if (body.errors?.length || body.data?.requestBackup?.id === undefined) {
    const first = body.errors?.[0];
    throw new Error(`HTTP ${response.status} ${first?.extensions?.code ?? ''} ${first?.message ?? 'no job id'}`);
  }
  return body.data.requestBackup.id;
}

async function runPhase(
  env: TestStack,
  tenants: SeededTenant[],
  name: string,
  rate: number,
  seconds: number,
  options: Options,
  sampler: CpuSampler,
  pgWaits?: PgWaitSampler,
): Promise<PhaseResult> {
  const count = rate * seconds;
  console.log(`[bench] ${name}: staging ${count} uploads of ${options.sizeBytes} bytes…`);
  const stagingStart = Date.now();
  const uploads = await stage(env, tenants, count, options);
  const stagingSeconds = (Date.now() - stagingStart) / 1000;
  console.log(`[bench] ${name}: sending ${count} requestBackup calls at ${rate}/s for ${seconds} s…`);
  // A short settle after staging, so the phase starts on a quiet API.
  await sleep(1_000);
  const cpuFrom = await sampler.mark();
  pgWaits?.start();
  const latencies: number[] = [];
  const errors: string[] = [];
  const start = performance.now() + 50;
  const calls: Promise<void>[] = [];
  for (let index = 0; index < count; index++) {
    const planned = start + (index * 1000) / rate;
    const wait = planned - performance.now();
    if (wait > 1) await sleep(wait);
    const uploadId = uploads[index] as string;
    calls.push(
      requestOnce(env, (tenants[index % tenants.length] as SeededTenant).apiKey, `${name}/${index}`, uploadId).then(
        () => {
          latencies.push(performance.now() - planned);
        },
        (error: unknown) => {
          errors.push(error instanceof Error ? error.message : String(error));
        },
      ),
    );
  }
  await Promise.all(calls);
  const elapsed = (performance.now() - start) / 1000;
  const cpuTo = await sampler.mark();
  if (pgWaits) printWaits(await pgWaits.stop());
  return {
    name,
    rate,
    seconds,
    sent: count,
    answered: latencies.length,
    errors,
    latency: distribution(latencies),
    achievedRate: latencies.length / elapsed,
    stagingSeconds,
    cpu: sampler.usage(cpuFrom, cpuTo),
  };
}

function print(result: PhaseResult, baseline: PhaseResult | undefined): void {
  const l = result.latency;
  console.log(
    `${result.name}: ${result.sent} sent at ${result.rate}/s, ${result.answered} answered (${result.achievedRate.toFixed(1)}/s), ${result.errors.length} errors; latency ms p50 ${formatMs(l.p50)} p95 ${formatMs(l.p95)} p99 ${formatMs(l.p99)} max ${formatMs(l.max)}` +
      (baseline ? `; p99 / baseline p50 ${ratio(l.p99, baseline.latency.p50)}` : ''),
  );
  if (result.errors.length > 0) console.log(`  first errors: ${result.errors.slice(0, 3).join(' | ')}`);
  if (result.cpu) {
    const cores = CPU_GROUPS.map((group) => `${group} ${(result.cpu?.cores[group] ?? 0).toFixed(2)}`).join(', ');
    console.log(
      `  cpu over ${result.cpu.seconds.toFixed(0)} s (${os.cpus().length} cores): ${cores}; machine busy ${(result.cpu.machineBusyShare * 100).toFixed(0)}%`,
    );
    console.log(
      `  API cpu per request: ${((result.cpu.cores.api * result.cpu.seconds * 1000) / Math.max(1, result.answered)).toFixed(2)} ms`,
    );
  }
}

function printWaits(report: PgWaitReport): void {
  console.log(`postgres sessions over ${report.samples} samples (average sessions: state: wait):`);
  for (const [label, count] of report.sessions)
    console.log(`  ${(count / report.samples).toFixed(2).padStart(6)}  ${label}`);
  console.log('blocked sessions by blocker (average):');
  for (const [label, count] of report.blockers)
    console.log(`  ${(count / report.samples).toFixed(2).padStart(6)}  ${label}`);
}

/** Where PostgreSQL spent the phase: the statements with the most total execution time. */
async function printTopStatements(env: TestStack): Promise<void> {
  const rows = await env.db.$queryRawUnsafe<{ calls: bigint; total: number; mean: number; query: string }[]>(
    `SELECT calls, total_exec_time AS total, mean_exec_time AS mean, query FROM pg_stat_statements
      ORDER BY total_exec_time DESC LIMIT 12`,
  );
  console.log('postgres, load phase: total ms, calls, mean ms, statement');
  for (const row of rows) {
    const text = row.query.replace(/\s+/g, ' ').slice(0, 110);
    console.log(
      `  ${row.total.toFixed(0).padStart(7)} ${String(row.calls).padStart(7)} ${row.mean.toFixed(2).padStart(7)}  ${text}`,
    );
  }
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  console.log(
    `[bench] requestBackup at ${options.rate}/s for ${options.durationSeconds} s over ${options.tenants} tenant(s); ${options.copies} copies, delay ${options.delaySeconds} s`,
  );
  const env = await startTestStack({ env: options.stackEnv });
  const sampler = new CpuSampler();
  try {
    const tenants: SeededTenant[] = [];
    for (let index = 0; index < options.tenants; index++) {
      tenants.push(
        await seedTenant(env.db, {
          slug: `bench-requests-${index}`,
          name: `Request benchmark ${index}`,
          storageRoot: path.join(env.dataDir, 'storage', `bench-requests-${index}`),
          copies: options.copies,
          delaySeconds: options.delaySeconds,
          storage: ['one', 'two', 'three'].map((name) => ({
            name,
            spaces: [{ name: 'main', capacityBytes: 64 * 1024 ** 3 }],
          })),
        }),
      );
    }
    if (options.pgStatements) {
      await env.db.$executeRawUnsafe("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'");
      await env.stack.restartPostgres();
      await env.db.$executeRawUnsafe('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    }
    sampler.start();
    // Warm-up: the first calls compile code paths and fill caches; not measured.
    await runPhase(env, tenants, 'warmup', 5, 2, options, sampler);
    const baseline =
      options.baselineRate > 0
        ? await runPhase(env, tenants, 'baseline', options.baselineRate, options.baselineSeconds, options, sampler)
        : undefined;
    if (options.pgStatements) await env.db.$executeRawUnsafe('SELECT pg_stat_statements_reset()');
    const load = await runPhase(
      env,
      tenants,
      'load',
      options.rate,
      options.durationSeconds,
      options,
      sampler,
      options.pgWaits ? new PgWaitSampler(env.db) : undefined,
    );
    if (options.pgStatements) await printTopStatements(env);
    console.log('');
    if (baseline) print(baseline, undefined);
    print(load, baseline);
    if (options.json) await writeFile(options.json, JSON.stringify({ options, baseline, load }, null, 2));
    const missed: string[] = [];
    if (load.errors.length > 0) missed.push(`0 errors (got ${load.errors.length})`);
    if (!(load.latency.p99 <= options.targetP99Ms)) {
      missed.push(`p99 <= ${options.targetP99Ms} ms (got ${formatMs(load.latency.p99)})`);
    }
    console.log(missed.length === 0 ? 'TARGETS MET' : `TARGETS MISSED: ${missed.join('; ')}`);
    return missed.length === 0 ? 0 : 1;
  } finally {
    await sampler.stop();
    await env.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('[bench] could not run:', error);
    process.exit(2);
  },
);
