import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '@echelon/config';

export type LogSink = (line: string) => void;

/** The platform's secrets: each process gets only those it uses (stack.ts `serviceEnv`), a server none of them. */
export const PLATFORM_SECRETS = [
  'DATABASE_URL',
  'ECHELON_APP_DATABASE_URL',
  'ECHELON_SECRET_KEY',
  'ECHELON_BOOTSTRAP_TOKEN',
] as const;

/** This process's environment without the platform's secrets, for a server of the stack (PostgreSQL, Temporal). */
export function environmentWithoutSecrets(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const rest: NodeJS.ProcessEnv = { ...env };
  for (const secret of PLATFORM_SECRETS) delete rest[secret];
  return rest;
}

/**
 * Runs "$@" and forwards SIGTERM/SIGINT to it; a watcher reading our stdin pipe stops it when the pipe closes,
 * which happens when the launching process is gone. Exits with the child's status.
 */
export const PARENT_DEATH_GUARD = `
exec 3<&0
"$@" </dev/null &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM INT HUP
( cat <&3 >/dev/null; kill -TERM "$child" 2>/dev/null; sleep 15; kill -KILL "$child" 2>/dev/null ) &
watcher=$!
exec 3<&-
status=0
while kill -0 "$child" 2>/dev/null; do
  wait "$child"
  status=$?
done
kill "$watcher" 2>/dev/null
exit "$status"
`;

/**
 * Sends `pid` the signal (SIGINT: PostgreSQL's fast shutdown) once this process is gone, for servers that run
 * without the guard above: a detached watcher holding our pipe, like the guard's.
 */
export function stopWhenParentDies(pid: number, signal: NodeJS.Signals = 'SIGINT'): { release(): void } {
  const watcher = spawn('/bin/sh', ['-c', `cat >/dev/null; kill -${signal.replace(/^SIG/, '')} ${pid} 2>/dev/null`], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  watcher.unref();
  return {
    release() {
      killGroup(watcher.pid, 'SIGKILL');
    },
  };
}

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  /** Resolves with the exit code once the process is gone. */
  exited: Promise<number | null>;
  /** True once `stop` was called: an exit after that is no crash. */
  readonly stopRequested: boolean;
  /** How the process ended, for a log line: `code 1`, `signal SIGKILL`; undefined while it runs. */
  exitDescription(): string | undefined;
  /** Asks the process to stop (its stop signal), and kills its process group if it is not gone in time. */
  stop(timeoutMs?: number): Promise<void>;
}

/** Every child started here that still runs, for a forced stop. */
const running = new Set<ServiceProcess>();

/** SIGKILLs the process group of every child started here that still runs: the second Ctrl-C. */
export function killEveryStartedProcess(): void {
  for (const service of running) killGroup(service.child.pid, 'SIGKILL');
}

const SIGNAL_NAMES = new Map(Object.entries(osConstants.signals).map(([name, number]) => [number, name]));

export interface StartProcessOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  log?: LogSink;
  /**
   * false: no shell guard, for a server that must get `stopSignal` itself and that other processes of its own
   * follow (PostgreSQL's backends); a detached watcher then stops it if this process dies.
   */
  guard?: boolean;
  /** What `stop` sends first: SIGTERM, or a server's own fast shutdown (PostgreSQL: SIGINT). */
  stopSignal?: NodeJS.Signals;
  uid?: number;
  gid?: number;
}

/** Starts a child whose output is relayed line by line with a name prefix. */
export function startProcess(
  name: string,
  command: string,
  args: readonly string[],
  options: StartProcessOptions = {},
): ServiceProcess {
  const log = options.log ?? ((line) => process.stdout.write(`${line}\n`));
  const guarded = options.guard !== false;
  const stopSignal = options.stopSignal ?? 'SIGTERM';
  // Its own process group: a Ctrl-C in the terminal reaches only the launcher, which stops the children in order
  // (the app processes before the servers they use); a child in the terminal's group would stop at once.
  const spawnOptions = {
    cwd: options.cwd ?? REPO_ROOT,
    env: options.env ?? process.env,
    detached: true,
    ...(options.uid !== undefined ? { uid: options.uid } : {}),
    ...(options.gid !== undefined ? { gid: options.gid } : {}),
  };
  // A guarded child runs under a small shell guard that holds a pipe from us: if this process dies without
  // stopping it (kill -9, a closed terminal), the pipe closes and the guard stops the child.
  const child = guarded
    ? spawn('/bin/sh', ['-c', PARENT_DEATH_GUARD, 'echelon-guard', command, ...args], {
        ...spawnOptions,
        stdio: ['pipe', 'pipe', 'pipe'],
      })
    : spawn(command, args, { ...spawnOptions, stdio: ['ignore', 'pipe', 'pipe'] });
  const parentDeath = !guarded && child.pid !== undefined ? stopWhenParentDies(child.pid, stopSignal) : undefined;
  const relay = (stream: NodeJS.ReadableStream | null) => {
    let buffer = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      buffer += chunk;
      let index = buffer.indexOf('\n');
      while (index >= 0) {
        log(`[${name}] ${buffer.slice(0, index)}`);
        buffer = buffer.slice(index + 1);
        index = buffer.indexOf('\n');
      }
    });
    stream?.on('end', () => {
      if (buffer.length > 0) log(`[${name}] ${buffer}`);
    });
  };
  relay(child.stdout);
  relay(child.stderr);
  let stopRequested = false;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(service);
      parentDeath?.release();
      // Whatever the child left in its group (a guard's watcher, a dev server's workers, PostgreSQL backends of a
      // killed postmaster) goes with it, so that a restart finds its port and its data directory free.
      killGroup(child.pid, 'SIGKILL');
      resolve(code ?? (signal ? 128 : null));
    });
    child.once('error', (error) => {
      running.delete(service);
      parentDeath?.release();
      log(`[${name}] failed to start: ${error.message}`);
      resolve(null);
    });
  });
  const service: ServiceProcess = {
    name,
    child,
    exited,
    get stopRequested() {
      return stopRequested;
    },
    exitDescription() {
      if (child.signalCode !== null) return `signal ${child.signalCode}`;
      const code = child.exitCode;
      if (code === null) return undefined;
      // The guard exits with its child's status: 128 + N for a child killed by signal N, as shells report it.
      const signal = guarded && code > 128 ? SIGNAL_NAMES.get(code - 128) : undefined;
      return signal !== undefined ? `signal ${signal}` : `code ${code}`;
    },
    async stop(timeoutMs = 10_000) {
      stopRequested = true;
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      child.kill(stopSignal);
      const timer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
  if (child.pid !== undefined) running.add(service);
  return service;
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** Runs a TypeScript entry point with tsx's loader in a single Node process. */
export function startTsProcess(
  name: string,
  entry: string,
  options: Pick<StartProcessOptions, 'env' | 'cwd' | 'log'> = {},
): ServiceProcess {
  return startProcess(name, process.execPath, ['--import', 'tsx', path.resolve(REPO_ROOT, entry)], {
    ...options,
    cwd: options.cwd ?? path.dirname(path.resolve(REPO_ROOT, entry)),
  });
}

interface ProcessIdentity {
  pid: number;
  /** Clock ticks after boot: a pid reused by another process has another start time. */
  startTime: string;
}

/** Parent pid and start time from /proc (Linux); undefined for a process that is gone or on another system. */
function procStat(pid: number): { ppid: number; startTime: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The fields after the command name in parentheses, which may itself hold spaces or parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    if (state === 'Z' || state === 'X') return undefined;
    return { ppid: Number(fields[1]), startTime: fields[19] ?? '' };
  } catch {
    return undefined;
  }
}

const isNpm = (pid: number): boolean => {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.slice(0, 2).some((arg) => /(^|\/)npm(-cli\.js)?$/.test(arg.split(' ')[0] ?? ''));
  } catch {
    return false;
  }
};

/**
 * Calls `onGone` once one of the processes between this one and the `npm` that runs it (npm included) is gone.
 * npm ends on a SIGTERM without passing it on to the script (the `sh -c` it runs the script with dies of it
 * first), so `kill <pid of npm start>` would otherwise leave the launcher and every child running. Nothing is
 * watched when no npm is among the nearest ancestors, or off Linux. Returns a function that stops the watch.
 */
export function whenNpmIsGone(onGone: () => void, intervalMs = 1_000): () => void {
  const chain: ProcessIdentity[] = [];
  let pid = process.ppid;
  for (let depth = 0; depth < 4 && pid > 1; depth++) {
    const stat = procStat(pid);
    if (stat === undefined) break;
    chain.push({ pid, startTime: stat.startTime });
    if (isNpm(pid)) {
      const timer = setInterval(() => {
        if (chain.some((ancestor) => procStat(ancestor.pid)?.startTime !== ancestor.startTime)) {
          clearInterval(timer);
          onGone();
        }
      }, intervalMs);
      timer.unref();
      return () => clearInterval(timer);
    }
    pid = stat.ppid;
  }
  return () => {};
}

export async function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  const server = net.createServer();
  server.unref();
  try {
    server.listen(port, host);
    await once(server, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    server.close();
  }
}

/**
 * The ports the kernel hands out for port 0 and for outgoing connections. A port picked from that range can be
 * taken by any other process between the pick and the listen (a Temporal server's own internal ports, a client
 * socket), so `freePort` picks below it.
 */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low !== undefined && high !== undefined && Number.isInteger(low) && Number.isInteger(high)) return [low, high];
  } catch {
    // not Linux: the IANA dynamic range
  }
  return [49152, 65535];
}

const handedOut = new Set<number>();

/**
 * A port nobody listens on now, outside the kernel's ephemeral range and never the same twice in one process, so
 * that it stays free until the service it is for starts.
 */
export async function freePort(): Promise<number> {
  const [ephemeralLow, ephemeralHigh] = ephemeralRange();
  const [low, high] = ephemeralLow - 10_000 >= 1024 ? [10_000, ephemeralLow - 1] : [ephemeralHigh + 1, 65_535];
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (handedOut.has(port)) continue;
    if ((await isPortFree(port)) && (await isPortFree(port, '0.0.0.0'))) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`could not find a free port in ${low}-${high}`);
}

export class PortTakenError extends Error {
  override readonly name = 'PortTakenError';
  constructor(
    readonly port: number,
    readonly service: string,
    readonly variable: string,
  ) {
    super(
      `port ${port} for ${service} is taken by another process; stop it (\`lsof -i :${port}\` or \`ss -ltnp | grep ${port}\`) or set ${variable} to another port`,
    );
  }
}

export async function assertPortFree(
  port: number,
  service: string,
  variable: string,
  host = '127.0.0.1',
): Promise<void> {
  if (!(await isPortFree(port, host))) throw new PortTakenError(port, service, variable);
}

/** Polls until `probe` resolves true, or fails with `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  options: { timeoutMs?: number; intervalMs?: number; exited?: Promise<unknown> } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let gone = false;
  void options.exited?.then(() => {
    gone = true;
  });
  while (Date.now() < deadline) {
    if (gone) throw new Error(`${what}: the process exited before it was ready`);
    if (await probe().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 200));
  }
  throw new Error(`${what}: not ready after ${options.timeoutMs ?? 60_000} ms`);
}

export const httpOk = (url: string) => async (): Promise<boolean> => {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  await response.body?.cancel();
  return response.status < 500;
};
