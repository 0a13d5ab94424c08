import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { seedTenant } from '@echelon/db';
import { describe, expect, it } from 'vitest';
import { freePort, gqlOk, startStack, startTestStack, tempDir } from '../src/index.js';

describe('with DATABASE_URL and TEMPORAL_ADDRESS set', () => {
  it('uses those services and starts no embedded PostgreSQL or Temporal', async () => {
    const shared = await startTestStack();
    const dataDir = await tempDir('echelon-external-');
    try {
      const seeded = await seedTenant(shared.db, {
        slug: `external-${Date.now()}`,
        name: 'External',
        storageRoot: path.join(shared.dataDir, 'storage-external'),
        storage: [{ name: 'only', spaces: [{ name: 's', capacityBytes: 1024 }] }],
      });
      const apiPort = await freePort();
      const second = await startStack({
        env: {
          ECHELON_DATA_DIR: dataDir,
          DATABASE_URL: shared.stack.databaseUrl,
          TEMPORAL_ADDRESS: shared.stack.temporalAddress,
          ECHELON_API_PORT: String(apiPort),
        },
        worker: false,
        log: () => undefined,
      });
      try {
        expect(second.databaseUrl).toBe(shared.stack.databaseUrl);
        expect(second.temporalAddress).toBe(shared.stack.temporalAddress);
        expect(second.temporalUiUrl).toBeUndefined();
        expect(await readdir(dataDir)).not.toContain('pg');
        expect(await readdir(dataDir)).not.toContain('temporal.db');
        const answer = await gqlOk<{ viewer: { tenant: { slug: string } } }>(
          `http://127.0.0.1:${apiPort}`,
          seeded.apiKey,
          '{ viewer { tenant { slug } } }',
        );
        expect(answer.viewer.tenant.slug).toBe(seeded.tenant.slug);
      } finally {
        await second.stop();
      }
    } finally {
      await shared.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 300_000);
});
