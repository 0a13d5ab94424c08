import { type ChildProcess, spawn } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT } from '@echelon/config';
import { Connection } from '@temporalio/client';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, gqlOk, httpOk, tempDir } from '../src/index.js';

/**
 * `npm start` as a user runs it, and as the issue attacked it: kill -9 of each child, then a Ctrl-C. The launcher
 * runs in a process group of its own, and the Ctrl-C goes to that whole group, as a terminal sends it.
 */

interface Launcher {
  child: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  apiKey: string;
  dataDir: string;
  ports: Record<'api' | 'web' | 'pg' | 'temporal' | 'temporalUi', number>;
}

interface Proc {
  pid: number;
  argv: string[];
}

/** Every process below `pid`, found through /proc. */
async function descendants(pid: number): Promise<Proc[]> {
  const found: Proc[] = [];
  const walk = async (parent: number) => {
    const tasks = await readdir(`/proc/${parent}/task`).catch(() => [] as string[]);
    for (const task of tasks) {
      const children = await readFile(`/proc/${parent}/task/${task}/children`, 'utf8').catch(() => '');
      for (const child of children.trim().split(/\s+/).filter(Boolean).map(Number)) {
        const cmdline = await readFile(`/proc/${child}/cmdline`, 'utf8').catch(() => '');
        found.push({ pid: child, argv: cmdline.split('\0').filter(Boolean) });
        await walk(child);
      }
    }
  };
  await walk(pid);
  return found;
}

/** Still running: a zombie (killed, not yet reaped by whoever inherited it) is gone. */
async function isRunning(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  const state = stat?.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== undefined && state !== 'Z' && state !== 'X';
}

/** The processes of `seen` that still run a few seconds after the launcher exited. */
async function leftOver(seen: Proc[]): Promise<string[]> {
  const running = async () => {
    const left: string[] = [];
    for (const proc of seen) if (await isRunning(proc.pid)) left.push(`${proc.pid}: ${proc.argv.join(' ')}`);
    return left;
  };
  await eventually(
    'every child process gone',
    async () => ((await running()).length === 0 ? true : undefined),
    5_000,
  ).catch(() => undefined);
  return running();
}

/** Processes whose command line mentions the data directory (postgres -D, temporal --db-filename). */
async function processesUsing(dataDir: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(dataDir)) found.push(`${pid}: ${cmdline.replaceAll('\0', ' ').slice(0, 160)}`);
  }
  return found;
}

async function environOf(pid: number): Promise<Map<string, string>> {
  const text = await readFile(`/proc/${pid}/environ`, 'utf8');
  return new Map(
    text
      .split('\0')
      .filter(Boolean)
      .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );
}

async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const exited = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });

// After each test: a failed one must not leave a supervised stack running beside the next.
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Starts `command` (the launcher) in a group of its own, with a fresh data directory and free ports. */
async function launch(command: string, args: string[], extraEnv: Record<string, string> = {}): Promise<Launcher> {
  const dataDir = await tempDir('echelon-supervise-');
  const ports = {
    api: await freePort(),
    web: await freePort(),
    pg: await freePort(),
    temporal: await freePort(),
    temporalUi: await freePort(),
  };
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      // As `npm start` runs from a shell: no NODE_ENV (vitest sets `test`).
      NODE_ENV: undefined,
      DATABASE_URL: '',
      TEMPORAL_ADDRESS: '',
      ECHELON_DATA_DIR: dataDir,
      ECHELON_API_PORT: String(ports.api),
      ECHELON_WEB_PORT: String(ports.web),
      ECHELON_PG_PORT: String(ports.pg),
      ECHELON_TEMPORAL_PORT: String(ports.temporal),
      ECHELON_TEMPORAL_UI_PORT: String(ports.temporalUi),
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  // Everything below the launcher, once it is up: a test that fails half-way must not leave a supervised stack
  // behind (after npm has exited, its process group no longer names the launcher).
  let tree: Proc[] = [];
  cleanups.push(async () => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    for (const proc of tree) {
      if (await isRunning(proc.pid)) process.kill(proc.pid, 'SIGKILL');
    }
    for (const line of await processesUsing(dataDir)) process.kill(Number(line.split(':')[0]), 'SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });
  const deadline = Date.now() + 240_000;
  while (!(text.includes('Echelon is up') && text.includes('Ctrl-C stops everything'))) {
    if (child.exitCode !== null) {
      const why = /Echelon could not start: .*/.exec(text)?.[0] ?? '';
      throw new Error(`the launcher exited with ${child.exitCode}: ${why}\n${text.slice(-4000)}`);
    }
    if (Date.now() > deadline) throw new Error(`the launcher did not come up:\n${text.slice(-4000)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  tree = await descendants(child.pid as number);
  const apiKey = /API key\s+(ech_\S+)/.exec(text)?.[1];
  if (apiKey === undefined) throw new Error(`no API key printed:\n${text}`);
  return { child, output: () => text, apiKey, dataDir, ports };
}

/** Resolves once the launcher printed a line matching `pattern` after character `from` of its output. */
function printed(launcher: Launcher, pattern: RegExp, from: number, timeoutMs = 90_000): Promise<string> {
  return eventually(
    `the launcher printing ${pattern}`,
    async () => pattern.exec(launcher.output().slice(from))?.[0],
    timeoutMs,
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}\n--- its output since:\n${launcher.output().slice(from).slice(-4000)}`);
  });
}

/** The one process below the launcher that `matches`: the service itself, not its shell guard. */
async function serviceProcess(launcher: Launcher, what: string, matches: (argv: string[]) => boolean): Promise<Proc> {
  return eventually(`the ${what} process`, async () => {
    const found = (await descendants(launcher.child.pid as number)).filter((proc) => matches(proc.argv));
    return found.length === 1 ? found[0] : undefined;
  });
}

const NODE_SERVICE = (entry: string) => (argv: string[]) =>
  argv[0] === process.execPath && argv.some((arg) => arg.endsWith(entry));
const API = NODE_SERVICE('apps/api/src/main.ts');
const WORKER = NODE_SERVICE('temporal/src/worker.ts');
const WEB = NODE_SERVICE('next/dist/bin/next');
const TEMPORAL = (argv: string[]) => path.basename(argv[0] ?? '') === 'temporal' && argv[1] === 'server';

async function postmasterPid(launcher: Launcher): Promise<number> {
  const text = await readFile(path.join(launcher.dataDir, 'pg', 'postmaster.pid'), 'utf8');
  return Number.parseInt(text.split('\n')[0] ?? '', 10);
}

const demoQuery = (launcher: Launcher) =>
  gqlOk<{ viewer: { tenant: { slug: string } }; storageSystems: { name: string }[] }>(
    `http://127.0.0.1:${launcher.ports.api}`,
    launcher.apiKey,
    '{ viewer { tenant { slug } } storageSystems { name } }',
  );

async function temporalServes(launcher: Launcher): Promise<true | undefined> {
  const connection = await Connection.connect({
    address: `127.0.0.1:${launcher.ports.temporal}`,
    connectTimeout: 1_000,
  });
  try {
    await connection.workflowService.describeNamespace({ namespace: 'default' });
    return true;
  } finally {
    await connection.close();
  }
}

/** SIGKILLs `victim` and waits until the launcher says it restarts it, and then that it did. */
async function killAndExpectRestart(launcher: Launcher, name: string, victim: number): Promise<void> {
  const from = launcher.output().length;
  process.kill(victim, 'SIGKILL');
  await printed(
    launcher,
    new RegExp(String.raw`\[stack\] ${name} exited \(signal SIGKILL\); restarting in 1 s \(restart 1\)`),
    from,
  );
  await printed(launcher, new RegExp(String.raw`\[stack\] ${name} restarted`), from);
}

const SECRETS = ['ECHELON_BOOTSTRAP_TOKEN', 'ECHELON_SECRET_KEY', 'DATABASE_URL', 'ECHELON_APP_DATABASE_URL'];

const STOP_LINES = ['web', 'api', 'worker', 'temporal', 'postgres'].map((name) => `[stack] ${name} stopped`);

/** The index of each line in the output, in the order given: -1 for a missing one. */
const positions = (text: string, lines: string[]) => lines.map((line) => text.indexOf(line));

/** Every child's stop line and then `stopped.`, in that order, in the launcher's shutdown output; their positions. */
function expectStoppedInOrder(shutdown: string): number[] {
  const order = positions(shutdown, [...STOP_LINES, 'stopped.\n']);
  expect(
    order.every((position) => position >= 0),
    shutdown,
  ).toBe(true);
  expect(
    [...order].sort((a, b) => a - b),
    shutdown,
  ).toEqual(order);
  return order;
}

describe('npm start supervises its children', () => {
  it('restarts each child after kill -9 and stops all of them in order on Ctrl-C', async () => {
    const launcher = await launch(process.execPath, ['--import', 'tsx', path.join('scripts', 'start.ts')], {
      ECHELON_BOOTSTRAP_TOKEN: 'bootstrap-token-for-the-api-only',
      ECHELON_SECRET_KEY: 'b'.repeat(64),
    });
    expect((await demoQuery(launcher)).viewer.tenant.slug).toBe('demo');

    // Production for the API and the worker (no stack traces to clients); each process only its own secrets.
    const api = await serviceProcess(launcher, 'API', API);
    const worker = await serviceProcess(launcher, 'worker', WORKER);
    const web = await serviceProcess(launcher, 'web', WEB);
    const apiEnv = await environOf(api.pid);
    const workerEnv = await environOf(worker.pid);
    const webEnv = await environOf(web.pid);
    expect(apiEnv.get('NODE_ENV')).toBe('production');
    expect(workerEnv.get('NODE_ENV')).toBe('production');
    expect(webEnv.get('NODE_ENV')).toBe('development');
    expect(apiEnv.get('ECHELON_BOOTSTRAP_TOKEN')).toBe('bootstrap-token-for-the-api-only');
    expect(apiEnv.has('ECHELON_SECRET_KEY')).toBe(true);
    expect(workerEnv.has('ECHELON_BOOTSTRAP_TOKEN')).toBe(false);
    expect(workerEnv.has('ECHELON_SECRET_KEY')).toBe(true);
    expect(workerEnv.get('DATABASE_URL')).toMatch(/^postgresql:\/\/echelon_app:/);
    for (const secret of [
      'ECHELON_BOOTSTRAP_TOKEN',
      'ECHELON_SECRET_KEY',
      'DATABASE_URL',
      'ECHELON_APP_DATABASE_URL',
    ]) {
      expect(webEnv.has(secret), secret).toBe(false);
    }
    const serverEnvs = [
      await environOf((await serviceProcess(launcher, 'Temporal', TEMPORAL)).pid),
      await environOf(await postmasterPid(launcher)),
    ];
    for (const env of serverEnvs) {
      expect(SECRETS.filter((secret) => env.has(secret))).toEqual([]);
    }
    expect(webEnv.get('ECHELON_BIND_HOST')).toBe('127.0.0.1');
    expect(web.argv.slice(-2)).toEqual(['--hostname', '127.0.0.1']);

    // The API.
    await killAndExpectRestart(launcher, 'api', api.pid);
    expect((await serviceProcess(launcher, 'API', API)).pid).not.toBe(api.pid);
    expect(await httpOk(`http://127.0.0.1:${launcher.ports.api}/health`)()).toBe(true);
    expect((await demoQuery(launcher)).viewer.tenant.slug).toBe('demo');

    // The worker: polling again.
    const beforeWorker = launcher.output().length;
    await killAndExpectRestart(launcher, 'worker', worker.pid);
    await printed(launcher, /\[worker\] worker polling/, beforeWorker);

    // PostgreSQL: the postmaster itself, on the same data directory and port; the API works again.
    const postmaster = await postmasterPid(launcher);
    await killAndExpectRestart(launcher, 'postgres', postmaster);
    expect(await postmasterPid(launcher)).not.toBe(postmaster);
    const afterRestart = await eventually('the API answering from the restarted database', async () => {
      const result = await demoQuery(launcher);
      return result.storageSystems.length > 0 ? result : undefined;
    });
    expect(afterRestart.viewer.tenant.slug).toBe('demo');

    // The Temporal dev server.
    const temporal = await serviceProcess(launcher, 'Temporal', TEMPORAL);
    await killAndExpectRestart(launcher, 'temporal', temporal.pid);
    expect(await eventually('Temporal serving again', () => temporalServes(launcher))).toBe(true);

    // The web UI.
    const webNow = await serviceProcess(launcher, 'web', WEB);
    await killAndExpectRestart(launcher, 'web', webNow.pid);
    expect(await httpOk(`http://127.0.0.1:${launcher.ports.web}/login`)()).toBe(true);

    // Ctrl-C: to the whole group, as a terminal sends it.
    const running = await descendants(launcher.child.pid as number);
    expect(running.length).toBeGreaterThan(5);
    const beforeStop = launcher.output().length;
    const stoppedAt = Date.now();
    process.kill(-(launcher.child.pid as number), 'SIGINT');
    expect(await exited(launcher.child)).toEqual({ code: 0, signal: null });
    expect(Date.now() - stoppedAt).toBeLessThan(60_000);
    const shutdown = launcher.output().slice(beforeStop);
    expectStoppedInOrder(shutdown);
    expect(shutdown).not.toMatch(/restarting in/);
    expect(await leftOver(running)).toEqual([]);
    expect(await processesUsing(launcher.dataDir)).toEqual([]);
  }, 600_000);

  it('npm start itself: one Ctrl-C to the terminal group stops the children in order, PostgreSQL last', async () => {
    const launcher = await launch('npm', ['start']);
    const running = await descendants(launcher.child.pid as number);
    const beforeStop = launcher.output().length;
    process.kill(-(launcher.child.pid as number), 'SIGINT');
    const status = await exited(launcher.child);
    // The shell npm runs the script with re-raises the SIGINT it saw once its child is done, as shells do.
    expect(status.code === 0 || status.signal === 'SIGINT', JSON.stringify(status)).toBe(true);
    const shutdown = launcher.output().slice(beforeStop);
    const order = expectStoppedInOrder(shutdown);
    // PostgreSQL did not get the terminal's Ctrl-C itself: the API stopped before its database went away.
    expect(shutdown.slice(0, order[1])).not.toMatch(/administrator command|database system is shutting down/);
    expect(shutdown).not.toMatch(/killing every Echelon process/);
    expect(await leftOver(running)).toEqual([]);
    expect(await processesUsing(launcher.dataDir)).toEqual([]);
  }, 600_000);

  it('npm start itself: a SIGTERM to npm alone, which npm does not pass on, stops the children in order', async () => {
    const launcher = await launch('npm', ['start']);
    const running = await descendants(launcher.child.pid as number);
    const beforeStop = launcher.output().length;
    launcher.child.kill('SIGTERM');
    // npm ends at once; the launcher, now without it, goes on to stop everything and says so.
    await printed(launcher, /^stopped\.$/m, beforeStop, 60_000);
    const shutdown = launcher.output().slice(beforeStop);
    expect(shutdown).toMatch(/npm start has exited: stopping every Echelon process/);
    expectStoppedInOrder(shutdown);
    expect(await leftOver(running)).toEqual([]);
    expect(await processesUsing(launcher.dataDir)).toEqual([]);
  }, 600_000);
});
