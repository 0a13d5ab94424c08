import { gqlOk } from '@echelon/stack';
import { expect, test } from '@playwright/test';
import { signIn } from '../support/sign-in.js';
import { e2eWorld } from '../support/world.js';

const MIB = 1024 * 1024;

const world = e2eWorld();

const identitiesOf = async (apiKey: string) =>
  (
    await gqlOk<{ identities: { externalId: string; roles: string[]; groups: string[] }[] }>(
      world.stack.apiUrl,
      apiKey,
      '{ identities { externalId roles groups } }',
    )
  ).identities;

test('an admin adds an identity, is refused one without a role, and issues a key that signs the new identity in', async ({
  page,
}) => {
  const tenant = await world.seed('identities', {
    copies: 1,
    delaySeconds: 1,
    ordering: 'CAPACITY',
    storage: [{ name: 'primary-ssd', spaces: [{ name: 'fast', capacityBytes: 64 * MIB }] }],
  });
  const name = tenant.name;
  const before = await identitiesOf(tenant.apiKey);
  await signIn(page, tenant.apiKey, { tenantName: name });
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Identities' }).click();
  await expect(page).toHaveURL(/\/identities$/);
  const rows = page.getByTestId('identity-row');
  await expect(rows).toHaveCount(before.length);

  // No role: the API's typed error, and nothing is added.
  const form = page.getByTestId('identity-form');
  await form.getByLabel('Identifier').fill('laptop-17');
  await form.getByLabel('Display name').fill('Laptop 17');
  await form.getByRole('button', { name: 'Add identity' }).click();
  await expect(form.getByTestId('identity-error')).toContainText('BAD_USER_INPUT');
  await expect(form.getByTestId('identity-error')).toContainText('at least one role');
  expect(await identitiesOf(tenant.apiKey)).toHaveLength(before.length);

  await form.getByLabel('MEMBER').check();
  await form.getByLabel('Groups').fill('laptops, finance');
  await form.getByRole('button', { name: 'Add identity' }).click();
  await expect(form.getByTestId('identity-done')).toHaveText('Added laptop-17.');
  await expect(rows).toHaveCount(before.length + 1);
  const laptop = page.locator('[data-testid="identity-row"][data-external-id="laptop-17"]');
  await expect(laptop.getByTestId('identity-roles')).toHaveText('MEMBER');
  expect((await identitiesOf(tenant.apiKey)).find((identity) => identity.externalId === 'laptop-17')).toEqual({
    externalId: 'laptop-17',
    roles: ['MEMBER'],
    groups: ['laptops', 'finance'],
  });

  // A key for the new identity, shown once; it signs that identity in, and a MEMBER may not list identities.
  await laptop.getByRole('button', { name: 'Issue API key' }).click();
  const secret = (await laptop.getByTestId('issued-secret').textContent()) ?? '';
  expect(secret.length).toBeGreaterThan(20);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await signIn(page, secret, { tenantName: name });
  await expect(page.getByTestId('viewer-name')).toHaveText('Laptop 17');
  // A MEMBER is not offered the page, and the URL says plainly that it is not allowed (nothing is loaded).
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Identities' })).toHaveCount(0);
  await page.goto('/identities');
  await expect(page.getByRole('heading', { name: 'Not allowed' })).toBeVisible();
  await expect(page.getByTestId('identity-form')).toHaveCount(0);
});
