import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { REPO_ROOT } from '@echelon/config';

export type LogSink = (line: string) => void;

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
 * Stops `pid` (SIGINT, PostgreSQL's fast shutdown) once this process is gone, for servers that a library
 * spawned for us: a detached watcher holding our pipe, like the guard above.
 */
export function stopWhenParentDies(pid: number): { release(): void } {
  const watcher = spawn('/bin/sh', ['-c', `cat >/dev/null; kill -INT ${pid} 2>/dev/null`], {
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
  stop(timeoutMs?: number): Promise<void>;
}

/** Starts a child whose output is relayed line by line with a name prefix. */
export function startProcess(
  name: string,
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; log?: LogSink } = {},
): ServiceProcess {
  const log = options.log ?? ((line) => process.stdout.write(`${line}\n`));
  // The child runs under a small shell guard that holds a pipe from us: if this process dies without
  // stopping it (kill -9, a closed terminal), the pipe closes and the guard stops the child.
  const child = spawn('/bin/sh', ['-c', PARENT_DEATH_GUARD, 'echelon-guard', command, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: options.env ?? process.env,
    stdio: ['pipe', 'pipe', 'pipe'],
    // Its own process group: stopping is ours to order (API and worker before the servers they use).
    detached: true,
  });
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
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null)));
    child.once('error', (error) => {
      log(`[${name}] failed to start: ${error.message}`);
      resolve(null);
    });
  });
  return {
    name,
    child,
    exited,
    async stop(timeoutMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
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
  options: { env?: NodeJS.ProcessEnv; cwd?: string; log?: LogSink } = {},
): ServiceProcess {
  return startProcess(name, process.execPath, ['--import', 'tsx', path.resolve(REPO_ROOT, entry)], {
    ...options,
    cwd: options.cwd ?? path.dirname(path.resolve(REPO_ROOT, entry)),
  });
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

export async function assertPortFree(port: number, service: string, variable: string): Promise<void> {
  if (!(await isPortFree(port))) throw new PortTakenError(port, service, variable);
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
