import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { seedTenant, type SeededTenant } from '@echelon/db';
import { insertJobRows, startTestStack, type TestStack } from '@echelon/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROWS = 100_000;

/** Resident memory of a process, in bytes. */
async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** The node process behind a service: the child of its /bin/sh guard. */
async function nodePidOf(env: TestStack, name: string): Promise<number> {
  const guard = env.stack.processes.get(name)?.child.pid;
  if (guard === undefined) throw new Error(`${name} is not running`);
  const children = (await readFile(`/proc/${guard}/task/${guard}/children`, 'utf8')).trim().split(/\s+/);
  return Number(children[0]);
}

describe('streamed exports of history and audit entries (real stack)', () => {
  let env: TestStack;
  let tenant: SeededTenant;

  beforeAll(async () => {
    env = await startTestStack();
    tenant = await seedTenant(env.db, {
      slug: `exports-${Date.now()}`,
      name: 'Exports',
      storageRoot: path.join(env.dataDir, 'exports'),
      storage: [{ name: 'only', spaces: [{ name: 's', capacityBytes: 1024 ** 3 }] }],
    });
    // 100k events on one replica, inserted by the database itself (the chain trigger links each one), in
    // batches: one transaction per row would take minutes, one for all would pile up row versions of the head.
    const {
      jobId,
      replicaIds: [replicaId],
    } = await insertJobRows(env.db, tenant, {
      datasetKey: 'bulk',
      sizeBytes: 1,
      jobStatus: 'COMPLETED',
      storageSystemId: tenant.storageSystems[0]?.id ?? '',
      replicas: { count: 1, firstOrder: 0, role: 'PRIMARY', status: 'COMPLETED' },
    });
    const BATCH = 500;
    for (let start = 1; start <= ROWS; start += BATCH) {
      await env.db.$executeRawUnsafe(`
        INSERT INTO replica_events (tenant_id, job_id, replica_id, status, bytes_copied, message)
        SELECT '${tenant.tenant.id}', '${jobId}', '${replicaId}', 'COPYING', n, CASE WHEN n % 1000 = 0 THEN 'row, with "quotes"' END
          FROM generate_series(${start}, ${Math.min(ROWS, start + BATCH - 1)}) AS n`);
    }
    // What autovacuum does after a bulk load; without statistics the planner takes the 42-row guess and sorts
    // every remaining row for each page.
    await env.db.$executeRawUnsafe('ANALYZE replica_events');
  }, 300_000);

  afterAll(async () => {
    await env?.stop();
  }, 60_000);

  it('streams 100k history rows as CSV without holding them in memory', async () => {
    const apiPid = await nodePidOf(env, 'api');
    const before = await rssOf(apiPid);
    let peak = before;
    const sampler = setInterval(() => {
      void rssOf(apiPid).then((rss) => {
        peak = Math.max(peak, rss);
      });
    }, 50);
    const started = Date.now();
    const response = await fetch(`${env.apiUrl}/exports/replica-history?format=csv`, {
      headers: { authorization: `Bearer ${tenant.apiKey}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/csv');
    let firstChunkAfter = 0;
    let lines = 0;
    let quoted = 0;
    let tail = '';
    const decoder = new TextDecoder();
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      if (firstChunkAfter === 0) firstChunkAfter = Date.now() - started;
      const text = tail + decoder.decode(chunk, { stream: true });
      const parts = text.split('\r\n');
      tail = parts.pop() ?? '';
      lines += parts.length;
      quoted += parts.filter((line) => line.includes('"row, with ""quotes"""')).length;
    }
    clearInterval(sampler);
    const total = Date.now() - started;
    expect(lines).toBe(ROWS + 1);
    expect(quoted).toBe(ROWS / 1000);
    // Streaming: the first bytes arrive long before the end, and memory does not grow with the row count.
    expect(firstChunkAfter).toBeLessThan(total / 2);
    console.log(
      `exported ${ROWS} rows in ${total} ms, first bytes after ${firstChunkAfter} ms, API RSS +${Math.round((peak - before) / 1048576)} MiB`,
    );
    // A sanity bound only (V8 collects lazily, so RSS mostly measures garbage); the backpressure test below
    // is the proof that rows are not held.
    expect(peak - before).toBeLessThan(300 * 1024 * 1024);
  });

  it('reads rows from the database only as fast as the client takes them', async () => {
    /** Rows PostgreSQL has handed out of replica_events so far (statistics flush within 10 s of going idle). */
    const rowsRead = async () => {
      const [row] = await env.db.$queryRawUnsafe<{ n: bigint }[]>(
        `SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) AS n FROM pg_stat_user_tables WHERE relname = 'replica_events'`,
      );
      return Number(row?.n ?? 0);
    };
    await new Promise((resolve) => setTimeout(resolve, 11_000));
    const before = await rowsRead();
    const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http
        .get(`${env.apiUrl}/exports/replica-history?format=json`, {
          headers: { authorization: `Bearer ${tenant.apiKey}` },
        })
        .on('response', resolve)
        .on('error', reject);
    });
    expect(response.statusCode).toBe(200);
    // Take one chunk, then stop reading for longer than PostgreSQL takes to publish a backend's statistics.
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve) =>
      response.once('data', (chunk: Buffer) => {
        chunks.push(chunk);
        resolve();
      }),
    );
    response.pause();
    await new Promise((resolve) => setTimeout(resolve, 11_000));
    const whilePaused = (await rowsRead()) - before;
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.resume();
    await new Promise((resolve) => response.once('end', resolve));
    await new Promise((resolve) => setTimeout(resolve, 11_000));
    const atEnd = (await rowsRead()) - before;
    const rows = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown[];
    console.log(`rows read from PostgreSQL while the client paused: ${whilePaused}; by the end: ${atEnd}`);
    expect(rows).toHaveLength(ROWS);
    // The whole export reads every row; a paused client holds the server well short of that.
    expect(atEnd).toBeGreaterThanOrEqual(ROWS);
    expect(whilePaused).toBeLessThan(ROWS / 2);
  }, 120_000);

  it('streams JSON that parses, and audit entries', async () => {
    const json = await fetch(`${env.apiUrl}/exports/replica-history?format=json&since=2000-01-01T00:00:00Z`, {
      headers: { authorization: `Bearer ${tenant.apiKey}` },
    });
    const rows = (await json.json()) as { id: string; status: string }[];
    expect(rows).toHaveLength(ROWS);
    expect(rows[0]?.status).toBe('COPYING');
    const audit = await fetch(`${env.apiUrl}/exports/audit-entries?format=json`, {
      headers: { authorization: `Bearer ${tenant.apiKey}` },
    });
    expect(audit.status).toBe(200);
    // The seed's own audited changes, oldest first, linked into the tenant's chain.
    const entries = (await audit.json()) as { action: string; actor: string; chainSeq: number; rowHash: string }[];
    expect(entries.map((entry) => entry.action)).toEqual([
      'tenant.create',
      'identity.create',
      'apiKey.create',
      'storageSystem.create',
      'policyTemplate.create',
      'policy.assign',
    ]);
    expect(entries.map((entry) => entry.chainSeq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(entries.every((entry) => entry.actor === 'seed' && /^[0-9a-f]{64}$/.test(entry.rowHash))).toBe(true);
  });

  it('answers bad requests with clean errors', async () => {
    expect((await fetch(`${env.apiUrl}/exports/replica-history`)).status).toBe(401);
    const bad = await fetch(`${env.apiUrl}/exports/replica-history?format=xml`, {
      headers: { authorization: `Bearer ${tenant.apiKey}` },
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'BAD_USER_INPUT' } });
    const badId = await fetch(`${env.apiUrl}/exports/replica-history?jobId=x'--`, {
      headers: { authorization: `Bearer ${tenant.apiKey}` },
    });
    expect(badId.status).toBe(400);
  });
});
