import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { createDb, type Db, type SeededTenant, type SeedTenantOptions, seedTenant } from '@echelon/db';
import { test } from '@playwright/test';
import { type E2eStack, readE2eStack } from './e2e-env.js';

export interface E2eTenant extends SeededTenant {
  slug: string;
  name: string;
  /** Its FILESYSTEM systems live in `<storageRoot>/<system name>`. */
  storageRoot: string;
}

/**
 * The running stack for a spec file, and a tenant of its own for each test: `seed(label, …)` names it
 * `e2e-<label>-<random>` / `E2E <label> <random>` and puts its FILESYSTEM storage under the stack's data dir.
 * The database client is opened before the file's tests and closed after them.
 */
export function e2eWorld() {
  let stack: E2eStack | undefined;
  let db: Db | undefined;
  test.beforeAll(() => {
    stack = readE2eStack();
    db = createDb(stack.databaseUrl, { max: 2 });
  });
  test.afterAll(async () => {
    await db?.$disconnect();
  });
  const ready = (): { stack: E2eStack; db: Db } => {
    if (stack === undefined || db === undefined) throw new Error('e2eWorld() used outside its tests');
    return { stack, db };
  };
  return {
    get stack(): E2eStack {
      return ready().stack;
    },
    /** The stack's database, for rows a test needs in numbers no person would click through. */
    get db(): Db {
      return ready().db;
    },
    async seed(label: string, options: Omit<SeedTenantOptions, 'slug' | 'name' | 'storageRoot'>): Promise<E2eTenant> {
      const { stack, db } = ready();
      const suffix = randomUUID().slice(0, 8);
      const slug = `e2e-${label}-${suffix}`;
      const name = `E2E ${label} ${suffix}`;
      const storageRoot = path.join(stack.dataDir, 'e2e-storage', slug);
      const seeded = await seedTenant(db, { ...options, slug, name, storageRoot });
      return { ...seeded, slug, name, storageRoot };
    },
  };
}
