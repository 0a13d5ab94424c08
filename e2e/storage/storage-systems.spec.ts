import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gqlOk } from '@echelon/stack';
import { expect, test } from '@playwright/test';
import { signIn } from '../support/sign-in.js';
import { e2eWorld } from '../support/world.js';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
const SYSTEMS = `{ storageSystems { name kind healthy capacityBytes spaces { name capacityBytes } } }`;

const world = e2eWorld();

const seedStorageTenant = () =>
  world.seed('storage', {
    copies: 2,
    delaySeconds: 1,
    ordering: 'CAPACITY',
    storage: [
      { name: 'primary-ssd', spaces: [{ name: 'fast', capacityBytes: 64 * MIB }] },
      { name: 'archive-nas', spaces: [{ name: 'shelf', capacityBytes: 128 * MIB }] },
    ],
  });

const systemsOf = async (apiKey: string) =>
  (
    await gqlOk<{
      storageSystems: { name: string; kind: string; healthy: boolean; capacityBytes: number; spaces: unknown[] }[];
    }>(world.stack.apiUrl, apiKey, SYSTEMS)
  ).storageSystems;

test('an admin sees the storage systems, registers one, is refused bad input, and sees a failed check', async ({
  page,
}) => {
  const tenant = await seedStorageTenant();
  await signIn(page, tenant.apiKey, { tenantName: tenant.name });

  await page.getByRole('link', { name: 'Storage systems' }).click();
  await expect(page).toHaveURL(/\/storage$/);
  const rows = page.getByTestId('storage-row');
  await expect(rows).toHaveCount(2);
  const ssd = page.locator('[data-testid="storage-row"][data-system-name="primary-ssd"]');
  await expect(ssd.getByTestId('storage-space')).toHaveText('fast: 0 B / 64.0 MiB');
  await expect(ssd.getByTestId('storage-health')).toHaveText('Healthy');
  await expect(page.getByTestId('storage-count')).toHaveText('2 systems, 192 MiB free');

  // Bad input: a relative root. The API's typed error is shown and nothing is registered.
  const form = page.getByTestId('register-form');
  await form.getByLabel('Name', { exact: true }).fill('offsite-vault');
  await form.getByLabel('Root directory').fill('relative/vault');
  await form.getByLabel('Space 1 name').fill('cold');
  await form.getByLabel('Space 1 capacity (GiB)').fill('2');
  await form.getByRole('button', { name: 'Register', exact: true }).click();
  await expect(form.getByTestId('register-error')).toContainText('BAD_USER_INPUT');
  await expect(form.getByTestId('register-error')).toContainText('absolute path');
  // A capacity that is not a positive number is refused before anything is sent.
  // Tenants register FILESYSTEM storage inside the platform's storage roots (by default `<data dir>/storage`).
  const root = path.join(world.stack.dataDir, 'storage', tenant.slug, 'offsite-vault');
  await form.getByLabel('Root directory').fill(root);
  await form.getByLabel('Space 1 capacity (GiB)').fill('-1');
  await form.getByRole('button', { name: 'Register', exact: true }).click();
  await expect(form.getByTestId('register-error')).toContainText('must be a positive number of GiB');
  expect((await systemsOf(tenant.apiKey)).map((system) => system.name).sort()).toEqual(['archive-nas', 'primary-ssd']);
  await expect(rows).toHaveCount(2);

  // A good registration, with two spaces: checked, stored, listed.
  await form.getByLabel('Space 1 capacity (GiB)').fill('2');
  await form.getByRole('button', { name: 'Add a space' }).click();
  await form.getByLabel('Space 2 name').fill('colder');
  await form.getByLabel('Space 2 capacity (GiB)').fill('0.5');
  await form.getByRole('button', { name: 'Register', exact: true }).click();
  await expect(form.getByTestId('register-done')).toContainText('Registered offsite-vault');
  await expect(rows).toHaveCount(3);
  const vault = page.locator('[data-testid="storage-row"][data-system-name="offsite-vault"]');
  await expect(vault.getByTestId('storage-space')).toHaveText(['cold: 0 B / 2.00 GiB', 'colder: 0 B / 512 MiB']);
  const stored = (await systemsOf(tenant.apiKey)).find((system) => system.name === 'offsite-vault');
  expect(stored).toMatchObject({ kind: 'FILESYSTEM', healthy: true, capacityBytes: 2.5 * GIB });

  // The storage breaks (a space's directory becomes a file): "Check now" records it unavailable.
  await rm(path.join(root, 'cold'), { recursive: true, force: true });
  await writeFile(path.join(root, 'cold'), 'not a directory');
  await vault.getByRole('button', { name: 'Check now' }).click();
  await expect(vault.getByTestId('storage-health')).toHaveText('Unavailable');
  expect((await systemsOf(tenant.apiKey)).find((system) => system.name === 'offsite-vault')?.healthy).toBe(false);
  // Fixed again: the next check finds it usable.
  await rm(path.join(root, 'cold'), { force: true });
  await mkdir(path.join(root, 'cold'));
  await vault.getByRole('button', { name: 'Check now' }).click();
  await expect(vault.getByTestId('storage-health')).toHaveText('Healthy');
});

test('an auditor sees the storage systems but no registration form and no check', async ({ page }) => {
  const tenant = await seedStorageTenant();
  const { createIdentity } = await gqlOk<{ createIdentity: { id: string } }>(
    world.stack.apiUrl,
    tenant.apiKey,
    'mutation($input: CreateIdentityInput!) { createIdentity(input: $input) { id } }',
    { input: { externalId: 'auditor-1', displayName: 'Audrey Auditor', roles: ['AUDITOR'] } },
  );
  const { createApiKey } = await gqlOk<{ createApiKey: { secret: string } }>(
    world.stack.apiUrl,
    tenant.apiKey,
    'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }',
    { input: { identityId: createIdentity.id, name: 'e2e auditor' } },
  );
  await signIn(page, createApiKey.secret, { tenantName: tenant.name });
  await page.goto('/storage');
  await expect(page.getByTestId('storage-row')).toHaveCount(2);
  await expect(page.getByTestId('storage-read-only')).toContainText('TENANT_ADMIN');
  await expect(page.getByTestId('register-form')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Check now' })).toHaveCount(0);
});
