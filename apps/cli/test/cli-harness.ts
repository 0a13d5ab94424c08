import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'echelon.js');

export interface EchelonRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The echelon binary as a user starts it: its own process, a config dir of the test's, no inherited login. */
export function startEchelon(
  args: readonly string[],
  options: { env: Record<string, string>; input?: string },
): { child: ChildProcess; done: Promise<EchelonRun>; stderrSoFar: () => string } {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (piece: Buffer) => {
    stdout += piece.toString();
  });
  child.stderr?.on('data', (piece: Buffer) => {
    stderr += piece.toString();
  });
  child.stdin?.end(options.input ?? '');
  const done = new Promise<EchelonRun>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done, stderrSoFar: () => stderr };
}

export const runEchelon = (args: readonly string[], options: { env: Record<string, string>; input?: string }) =>
  startEchelon(args, options).done;

/** stdout of a --json run as the value it holds; a run that printed anything else fails with its output. */
export function jsonOf<T>(run: EchelonRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${run.code}):\n${run.stdout}\n--- stderr ---\n${run.stderr}`);
  }
}

/** One POST /chunks the API stored: the chunks it carried. */
export interface StoredBatch {
  hashes: string[];
  bytes: number;
}

/**
 * A reverse proxy in front of the API that parses every POST /chunks body (`<sha256>:<length>\n<bytes>`…) and
 * records the batches the API answered 2xx to: what the client sent and the API kept. With `holdAfter` set, the
 * batches past that many are held unanswered and never forwarded (the client's upload hangs mid-way, as on a slow
 * link, so the test can interrupt it there).
 */
export async function startChunkCounter(apiUrl: string) {
  const upstream = new URL(apiUrl);
  const stored: StoredBatch[] = [];
  let holdAfter = Number.POSITIVE_INFINITY;
  let forwarded = 0;
  const held = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (piece: Buffer) => parts.push(piece));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      const isBatch = req.method === 'POST' && req.url?.split('?')[0] === '/chunks';
      if (isBatch && forwarded >= holdAfter) {
        held.add(res);
        res.on('close', () => held.delete(res));
        return;
      }
      if (isBatch) forwarded += 1;
      const forward = http.request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host, 'content-length': String(body.length) },
        },
        (answer) => {
          const answered: Buffer[] = [];
          answer.on('data', (piece: Buffer) => answered.push(piece));
          answer.on('end', () => {
            if (isBatch && (answer.statusCode ?? 500) < 300) stored.push(parseBatch(body));
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.end(Buffer.concat(answered));
          });
        },
      );
      forward.on('error', () => res.destroy());
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stored,
    /** Forward `count` more batches, then hold the rest; undefined forwards everything again. */
    holdAfter(count: number | undefined) {
      forwarded = 0;
      holdAfter = count ?? Number.POSITIVE_INFINITY;
    },
    heldCount: () => held.size,
    async stop() {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function parseBatch(body: Buffer): StoredBatch {
  const hashes: string[] = [];
  let offset = 0;
  let bytes = 0;
  while (offset < body.length) {
    const newline = body.indexOf(0x0a, offset);
    const [hash = '', length = '0'] = body.subarray(offset, newline).toString('latin1').split(':');
    hashes.push(hash);
    bytes += Number(length);
    offset = newline + 1 + Number(length);
  }
  return { hashes, bytes };
}

/** Resolves once `condition` holds, checked every 50 ms; fails naming `what` after `timeoutMs`. */
export async function eventually(condition: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} never happened`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
