import { randomBytes, randomUUID } from 'node:crypto';
import { access, mkdir, realpath, rm, symlink } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type SeededTenant, seedTenant } from '@echelon/db';
import {
  freePort,
  gql,
  gqlOk,
  type S3TestServer,
  startS3Server,
  startTestStack,
  type TestStack,
  tempDir,
} from '@echelon/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MIB = 1024 * 1024;
const BUCKET = 'hardening';
const CREATE =
  'mutation($input: CreateStorageSystemInput!) { createStorageSystem(input: $input) { id name kind healthy } }';
const CHECK = 'mutation($id: ID!) { checkStorageSystem(id: $id) { id healthy } }';

type GqlError = { message: string; extensions?: { code?: string; field?: string } };

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

/** An HTTP service that is not S3: it answers every request with 405, as the attacker's probe found. */
async function notS3(): Promise<{ server: Server; port: number }> {
  const server = createServer((_request, response) => {
    response.statusCode = 405;
    response.end('method not allowed');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

/**
 * A tenant admin attacks the host through storage registration; every attack is refused with BAD_USER_INPUT and
 * leaves nothing behind, on disk or in the database. The platform's storage roots are the temp directory, which
 * also holds the stack's data directory: that way it is the data-directory rule, not the allow-list, that refuses
 * `<dataDir>/pg/x` (the default roots, `<dataDir>/storage`, are what every other test stack runs with).
 */
describe('storage registration cannot reach the host (real stack)', () => {
  let env: TestStack;
  let s3: S3TestServer;
  let host: string;
  let a: SeededTenant;
  let b: SeededTenant;
  let aRoot: string;
  const services: Server[] = [];
  let allowedService: number;
  let allowedClosed: number;
  let otherService: number;
  let otherClosed: number;

  beforeAll(async () => {
    s3 = await startS3Server({ buckets: [BUCKET] });
    const first = await notS3();
    const second = await notS3();
    services.push(first.server, second.server);
    allowedService = first.port;
    otherService = second.port;
    allowedClosed = await freePort();
    otherClosed = await freePort();
    const s3Port = new URL(s3.endpoint).port;
    env = await startTestStack({
      env: {
        ECHELON_SECRET_KEY: randomBytes(32).toString('base64'),
        ECHELON_FILESYSTEM_ROOTS: os.tmpdir(),
        // Only these local ports are open to tenants: rclone's S3, and two that show the check is no oracle.
        ECHELON_S3_PRIVATE_ENDPOINTS: [s3Port, allowedService, allowedClosed].map((p) => `127.0.0.1:${p}`).join(','),
      },
    });
    host = await realpath(await tempDir('echelon-hardening-'));
    const seed = (slug: string) =>
      seedTenant(env.db, {
        slug: `${slug}-${Date.now()}`,
        name: slug,
        storageRoot: path.join(env.dataDir, `seeded-${slug}`),
        storage: [{ name: 'primary', spaces: [{ name: 'main', capacityBytes: 64 * MIB }] }],
        copies: 1,
        delaySeconds: 0,
      });
    a = await seed('hardening-a');
    b = await seed('hardening-b');
    aRoot = path.join(host, 'tenant-a', 'vault');
    const created = await gqlOk<{ createStorageSystem: { healthy: boolean } }>(env.apiUrl, a.apiKey, CREATE, {
      input: {
        name: 'vault',
        kind: 'FILESYSTEM',
        config: { root: aRoot },
        spaces: [{ name: 'cold', capacityBytes: MIB }],
      },
    });
    expect(created.createStorageSystem.healthy).toBe(true);
  }, 240_000);

  afterAll(async () => {
    for (const server of services) server.close();
    await env?.stop();
    await s3?.close();
    if (host !== undefined) await rm(host, { recursive: true, force: true });
  }, 60_000);

  const counts = async (tenantId: string) => ({
    systems: await env.db.storageSystem.count({ where: { tenantId } }),
    audit: await env.db.auditEntry.count({ where: { tenantId } }),
  });

  /** Registers as `tenant`; returns the first error, or undefined when it was accepted. */
  async function register(
    tenant: SeededTenant,
    kind: 'FILESYSTEM' | 'S3',
    config: unknown,
    space: string,
  ): Promise<GqlError | undefined> {
    const result = await gql(env.apiUrl, tenant.apiKey, CREATE, {
      input: { name: `probe-${randomUUID().slice(0, 8)}`, kind, config, spaces: [{ name: space, capacityBytes: MIB }] },
    });
    return result.errors?.[0] as GqlError | undefined;
  }

  it('refuses FILESYSTEM roots outside the storage roots, in the platform data, or over another system', async () => {
    await symlink('/etc', path.join(host, 'escape'));
    await symlink(env.dataDir, path.join(host, 'into-data'));
    await symlink(aRoot, path.join(host, 'into-a'));
    const space = `probe-${randomUUID().slice(0, 8)}`;
    const attacks = [
      { label: '/etc', root: '/etc', message: /must be a directory inside one of the platform's storage roots/ },
      { label: 'the data dir', root: env.dataDir, message: /must not contain the platform's own data/ },
      { label: 'the database files', root: path.join(env.dataDir, 'pg', 'x'), message: /must not be inside/ },
      { label: 'staging', root: path.join(env.dataDir, 'staging', 'x'), message: /must not be inside/ },
      { label: 'inside A', root: path.join(aRoot, 'inner'), message: /overlaps a storage system already/ },
      { label: "A's root", root: aRoot, message: /overlaps a storage system already/ },
      { label: 'containing A', root: path.join(host, 'tenant-a'), message: /overlaps a storage system already/ },
      { label: 'link to /etc', root: path.join(host, 'escape', 'x'), message: /storage roots/ },
      { label: 'link into data', root: path.join(host, 'into-data', 'pg2'), message: /must not be inside/ },
      { label: 'link into A', root: path.join(host, 'into-a', 'x'), message: /overlaps a storage system/ },
    ].map((attack) => ({ ...attack, wouldCreate: path.join(attack.root, space) }));
    const before = await counts(b.tenant.id);
    // Soft: every attack that gets through is reported, not only the first.
    for (const attack of attacks) {
      const error = await register(b, 'FILESYSTEM', { root: attack.root }, space);
      expect.soft(error?.extensions, attack.label).toMatchObject({ code: 'BAD_USER_INPUT', field: 'config.root' });
      expect.soft(error?.message, attack.label).toMatch(attack.message);
      expect.soft(await exists(attack.wouldCreate), attack.label).toBe(false);
      // Neither another tenant's root nor the platform's paths are told.
      expect.soft(error?.message, attack.label).not.toContain(aRoot);
      expect.soft(error?.message, attack.label).not.toContain(env.dataDir);
      expect.soft(error?.message, attack.label).not.toContain(a.tenant.slug);
    }
    expect(await exists(path.join('/etc', space))).toBe(false);
    expect(await counts(b.tenant.id)).toEqual(before);
    // What is allowed is said: the configured roots.
    expect((await register(b, 'FILESYSTEM', { root: '/etc' }, space))?.message).toContain(
      `(ECHELON_FILESYSTEM_ROOTS): ${os.tmpdir()}`,
    );
    // The same tenant cannot nest its own systems either.
    const nested = await register(a, 'FILESYSTEM', { root: path.join(aRoot, 'sub') }, space);
    expect(nested?.message).toMatch(/overlaps a storage system already/);
  });

  it('registers a root inside the storage roots, at its real location when reached through a link', async () => {
    const real = path.join(host, 'tenant-b', 'disks');
    await mkdir(real, { recursive: true });
    await symlink(real, path.join(host, 'b-link'));
    const space = 'warm';
    const result = await gqlOk<{ createStorageSystem: { id: string; healthy: boolean } }>(
      env.apiUrl,
      b.apiKey,
      CREATE,
      {
        input: {
          name: 'disks',
          kind: 'FILESYSTEM',
          config: { root: path.join(host, 'b-link', 'one') },
          spaces: [{ name: space, capacityBytes: MIB }],
        },
      },
    );
    expect(result.createStorageSystem.healthy).toBe(true);
    const row = await env.db.storageSystem.findUniqueOrThrow({ where: { id: result.createStorageSystem.id } });
    expect(row.config).toEqual({ root: path.join(real, 'one') });
    expect(await exists(path.join(real, 'one', space))).toBe(true);
    // A sibling whose name only starts the same is its own directory.
    const sibling = await register(b, 'FILESYSTEM', { root: path.join(real, 'one-more') }, space);
    expect(sibling).toBeUndefined();
  });

  it('lets one of several overlapping registrations sent at once through, not two', async () => {
    const base = path.join(host, 'race');
    // Every two of these overlap (each is inside or around each other one), so only one may ever be accepted.
    const roots = [base, path.join(base, 'a'), path.join(base, 'a', 'b'), path.join(base, 'a', 'b', 'c'), base];
    const results = await Promise.all(
      roots.map((root, index) => register(index % 2 === 0 ? a : b, 'FILESYSTEM', { root }, 'space')),
    );
    const accepted = results.filter((error) => error === undefined);
    expect(accepted).toHaveLength(1);
    for (const error of results.filter((result) => result !== undefined)) {
      expect(error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'config.root' });
    }
    const rows = await env.db.storageSystem.findMany({ where: { kind: 'FILESYSTEM' } });
    const under = rows.filter((row) => `${(row.config as { root: string }).root}/`.startsWith(`${base}/`));
    expect(under).toHaveLength(1);
  });

  it('a check does not touch a root the platform no longer allows, and reports it unhealthy', async () => {
    const [system] = a.storageSystems;
    if (system === undefined) throw new Error('seeded without storage');
    const root = (system.config as { root: string }).root;
    await rm(path.join(root, 'main'), { recursive: true, force: true });
    const checked = await gqlOk<{ checkStorageSystem: { healthy: boolean } }>(env.apiUrl, a.apiKey, CHECK, {
      id: system.id,
    });
    expect(checked.checkStorageSystem.healthy).toBe(false);
    expect(await exists(path.join(root, 'main'))).toBe(false);
  });

  it('refuses S3 endpoints on internal addresses with one message, and never says what listens', async () => {
    const s3Config = (endpoint: string) => ({ ...s3.config(), endpoint });
    const before = await counts(b.tenant.id);
    const refusals = await Promise.all(
      [
        `http://127.0.0.1:${otherService}`,
        `http://127.0.0.1:${otherClosed}`,
        'http://169.254.169.254',
        'http://[::1]:9000',
        'http://[::ffff:169.254.169.254]',
        'http://localhost:9000',
        'http://10.0.0.7:9000',
        'http://metadata.google.internal',
      ].map(async (endpoint) => ({ endpoint, error: await register(b, 'S3', s3Config(endpoint), BUCKET) })),
    );
    const first = refusals[0]?.error;
    expect(first?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'config.endpoint' });
    expect(first?.message).toMatch(/must resolve to public internet addresses only.*ECHELON_S3_PRIVATE_ENDPOINTS/);
    for (const { endpoint, error } of refusals) expect(error, endpoint).toEqual(first);

    // Where the platform allows the address, the check runs: a service that is not S3 and a closed port still
    // answer alike, without the status, the error or the time it took.
    const atService = await register(b, 'S3', s3Config(`http://127.0.0.1:${allowedService}`), BUCKET);
    const atNothing = await register(b, 'S3', s3Config(`http://127.0.0.1:${allowedClosed}`), BUCKET);
    expect(atService?.extensions?.code).toBe('STORAGE_UNAVAILABLE');
    expect(atService).toEqual(atNothing);
    expect(JSON.stringify(atService)).not.toMatch(/405|ECONNREFUSED|\d+ ms|127\.0\.0\.1/);
    expect(await counts(b.tenant.id)).toEqual(before);
    // The operator still learns why, from the server log.
    await expect
      .poll(() => env.logLines.filter((line) => /storage check of new storage system/.test(line)).join('\n'), {
        timeout: 5000,
      })
      .toMatch(
        new RegExp(
          `127\\.0\\.0\\.1:${allowedService}: .*HTTP 405[\\s\\S]*127\\.0\\.0\\.1:${allowedClosed}: .*ECONNREFUSED`,
        ),
      );

    // The local S3 store the platform allows registers.
    const created = await gqlOk<{ createStorageSystem: { healthy: boolean } }>(env.apiUrl, b.apiKey, CREATE, {
      input: { name: 'local-s3', kind: 'S3', config: s3.config(), spaces: [{ name: BUCKET, capacityBytes: MIB }] },
    });
    expect(created.createStorageSystem.healthy).toBe(true);
  });
});
