// Experiments only: the launcher's Temporal CLI dev server (packages/stack/src/temporal-server.ts), started by the
// benchmark itself with a metrics port and, optionally, other SQLite pragmas (e.g. `journal_mode=delete`, the
// CLI's default before WAL), so that a server setting can be measured before the launcher changes. The stack then
// joins it through TEMPORAL_ADDRESS instead of starting its own.
import path from 'node:path';
import { freePort, startTemporalDevServer } from '@echelon/stack';

export interface TemporalVariant {
  address: string;
  metricsUrl: string;
  stop(): Promise<void>;
}

export async function startTemporalVariant(options: {
  dataDir: string;
  namespace: string;
  /** Replaces the launcher's pragmas when not empty. */
  sqlitePragmas: readonly string[];
  log: (line: string) => void;
}): Promise<TemporalVariant> {
  const metricsPort = await freePort();
  const server = await startTemporalDevServer({
    dbFile: path.join(options.dataDir, 'temporal.db'),
    port: await freePort(),
    uiPort: await freePort(),
    namespace: options.namespace,
    log: options.log,
    ...(options.sqlitePragmas.length > 0 ? { sqlitePragmas: options.sqlitePragmas } : {}),
    extraArgs: ['--metrics-port', String(metricsPort)],
  });
  return { address: server.address, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`, stop: server.stop };
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
