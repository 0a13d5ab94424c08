import { type ChildProcess, spawn } from 'node:child_process';
import { readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT } from '@echelon/config';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, gqlOk, isPortFree, recoverStalePostmaster, tempDir } from '../src/index.js';

interface Started {
  child: ChildProcess;
  output: () => string;
  apiKey: string;
}

/** `npm start`'s script, as a user runs it, with its own data directory and ports. */
async function npmStart(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'scripts', 'start.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env, DATABASE_URL: '', TEMPORAL_ADDRESS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  const deadline = Date.now() + 240_000;
  while (!text.includes('Ctrl-C stops everything')) {
    if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${text.slice(-4000)}`);
    if (Date.now() > deadline) throw new Error(`npm start did not come up:\n${text.slice(-4000)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const apiKey = /API key\s+(ech_\S+)/.exec(text)?.[1];
  if (apiKey === undefined) throw new Error(`no API key printed:\n${text}`);
  return { child, output: () => text, apiKey };
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });

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

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('npm start', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('brings everything up with a demo login, stops every process on Ctrl-C, keeps the data, survives kill -9', async () => {
    const dataDir = await tempDir('echelon-start-');
    const ports = {
      ECHELON_API_PORT: await freePort(),
      ECHELON_WEB_PORT: await freePort(),
      ECHELON_PG_PORT: await freePort(),
      ECHELON_TEMPORAL_PORT: await freePort(),
      ECHELON_TEMPORAL_UI_PORT: await freePort(),
    };
    const env = {
      ECHELON_DATA_DIR: dataDir,
      ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    };
    const started: ChildProcess[] = [];
    cleanups.push(async () => {
      for (const child of started) child.kill('SIGKILL');
      for (const line of await processesUsing(dataDir)) process.kill(Number(line.split(':')[0]), 'SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    });

    const first = await npmStart(env);
    started.push(first.child);
    expect(first.output()).toContain(`http://localhost:${ports.ECHELON_WEB_PORT}`);
    expect(first.output()).toContain(`http://localhost:${ports.ECHELON_API_PORT}/graphql`);
    expect(first.output()).toContain(`http://localhost:${ports.ECHELON_TEMPORAL_UI_PORT}`);
    const apiUrl = `http://127.0.0.1:${ports.ECHELON_API_PORT}`;
    const viewer = await gqlOk<{ viewer: { tenant: { slug: string } }; storageSystems: { name: string }[] }>(
      apiUrl,
      first.apiKey,
      '{ viewer { tenant { slug } } storageSystems { name } }',
    );
    expect(viewer.viewer.tenant.slug).toBe('demo');
    expect(viewer.storageSystems).toHaveLength(3);
    expect((await fetch(`http://127.0.0.1:${ports.ECHELON_WEB_PORT}/login`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${ports.ECHELON_TEMPORAL_UI_PORT}/`)).status).toBe(200);

    first.child.kill('SIGINT');
    expect(await exited(first.child)).toBe(0);
    expect(await processesUsing(dataDir)).toEqual([]);
    for (const port of Object.values(ports)) expect(await isPortFree(port)).toBe(true);

    // A second start keeps the data: the same tenant and the same demo login.
    const second = await npmStart(env);
    started.push(second.child);
    expect(second.apiKey).toBe(first.apiKey);
    expect(second.output()).not.toContain('seeded the demo tenant');

    // kill -9 leaves nobody to stop the children: they must stop themselves.
    second.child.kill('SIGKILL');
    await exited(second.child);
    await eventually(
      'every child process stopping after kill -9',
      async () => (await processesUsing(dataDir)).length === 0,
    );
    for (const port of Object.values(ports)) await eventually(`port ${port} free`, () => isPortFree(port));

    const third = await npmStart(env);
    started.push(third.child);
    expect(third.apiKey).toBe(first.apiKey);
    third.child.kill('SIGINT');
    expect(await exited(third.child)).toBe(0);
  }, 600_000);

  it('recovers from a stale postmaster.pid that names a dead process', async () => {
    const dataDir = await tempDir('echelon-pid-');
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    await mkdir(path.join(dataDir, 'pg'));
    const pidFile = path.join(dataDir, 'pg', 'postmaster.pid');
    await writeFile(pidFile, '999999\n/some/dir\n');
    const logged: string[] = [];
    await recoverStalePostmaster(path.join(dataDir, 'pg'), (line) => logged.push(line));
    await expect(readFile(pidFile)).rejects.toThrow();
    expect(logged.join('\n')).toMatch(/stale postmaster.pid/);
  });
});
