import { gql, gqlOk } from '@echelon/stack';
import { expect, test } from '@playwright/test';
import { expectNoSeriousA11yViolations, screenshotBothWidths } from '../support/page-checks.js';
import { personaKey } from '../support/personas.js';
import { signIn } from '../support/sign-in.js';
import { e2eWorld } from '../support/world.js';

const MIB = 1024 * 1024;

const world = e2eWorld();

const seedIdentityTenant = (label: string) =>
  world.seed(label, {
    copies: 1,
    delaySeconds: 1,
    ordering: 'CAPACITY',
    storage: [{ name: 'primary-ssd', spaces: [{ name: 'fast', capacityBytes: 64 * MIB }] }],
  });

const identitiesOf = async (apiKey: string) =>
  (
    await gqlOk<{ identities: { externalId: string; displayName: string; roles: string[]; groups: string[] }[] }>(
      world.stack.apiUrl,
      apiKey,
      '{ identities { externalId displayName roles groups } }',
    )
  ).identities;

const VIEWER = '{ viewer { identity { externalId roles } } }';
type ViewerResult = { viewer: { identity: { externalId: string; roles: string[] } } };

test('an admin adds an identity, issues it a named key shown once, edits its roles, revokes a key and disables it', async ({
  page,
  context,
}) => {
  const tenant = await seedIdentityTenant('identities');
  const before = await identitiesOf(tenant.apiKey);
  await signIn(page, tenant.apiKey, { tenantName: tenant.name });
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Identities' }).click();
  await expect(page).toHaveURL(/\/identities$/);
  const rows = page.getByTestId('identity-row');
  await expect(rows).toHaveCount(before.length);
  await expect(page.getByTestId('key-row')).toHaveCount(1);

  // The form says what is missing, in words, and nothing is added.
  const form = page.getByTestId('identity-form');
  await form.getByLabel('Identifier').fill('laptop-17');
  await form.getByLabel('Display name').fill('Laptop 17');
  await form.getByRole('button', { name: 'Add identity' }).click();
  await expect(form.getByTestId('identity-problem')).toHaveText('Tick at least one role.');
  expect(await identitiesOf(tenant.apiKey)).toHaveLength(before.length);
  await form.getByLabel('Member').check();
  await form.getByLabel('Groups').fill('laptops, finance');
  await form.getByRole('button', { name: 'Add identity' }).click();
  await expect(form.getByTestId('identity-done')).toHaveText('Added laptop-17.');
  const laptop = page.locator('[data-testid="identity-row"][data-external-id="laptop-17"]');
  await expect(laptop.getByTestId('identity-roles')).toHaveText('MEMBER');
  await expect(laptop.getByTestId('identity-sign-in')).toHaveText('disabled: no active key');

  // A key with a chosen name: its secret once, with a copy button that puts it on the clipboard.
  const keyForm = page.getByTestId('key-form');
  await keyForm.getByRole('button', { name: 'Create key' }).click();
  await expect(keyForm.getByTestId('key-problem')).toHaveText('Choose the identity the key signs in.');
  await keyForm.getByLabel('Identity').selectOption({ label: 'Laptop 17 (laptop-17)' });
  await keyForm.getByRole('button', { name: 'Create key' }).click();
  await expect(keyForm.getByTestId('key-problem')).toContainText('Give the key a name');
  await keyForm.getByLabel('Key name').fill('runner on host-7');
  await keyForm.getByRole('button', { name: 'Create key' }).click();
  const secret = (await keyForm.getByTestId('issued-secret').textContent()) ?? '';
  expect(secret.length).toBeGreaterThan(20);
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await keyForm.getByTestId('copy-secret').click();
  await expect(keyForm.getByTestId('copy-secret')).toHaveText('Copied');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
  const keyRow = page.locator('[data-testid="key-row"][data-key-name="runner on host-7"]');
  await expect(keyRow.getByTestId('key-status')).toHaveText('Active');
  await expect(laptop.getByTestId('identity-sign-in')).toHaveText('1 active key');
  // The list never holds a secret: only the prefix.
  await expect(page.getByTestId('keys-table')).not.toContainText(secret);
  expect((await gqlOk<ViewerResult>(world.stack.apiUrl, secret, VIEWER)).viewer.identity.externalId).toBe('laptop-17');
  await expectNoSeriousA11yViolations(page, 'the identities page');
  await screenshotBothWidths(page, 'identities');

  // Roles and groups: the member becomes an operator in one group.
  await laptop.getByRole('button', { name: 'Edit laptop-17' }).click();
  const edit = page.getByTestId('edit-identity-form');
  await edit.getByLabel('Member').uncheck();
  await edit.getByRole('button', { name: 'Save laptop-17' }).click();
  await expect(edit.getByTestId('edit-identity-problem')).toHaveText('Tick at least one role.');
  await edit.getByLabel('Operator').check();
  await edit.getByLabel('Groups').fill('laptops');
  await edit.getByRole('button', { name: 'Save laptop-17' }).click();
  await expect(edit).toHaveCount(0);
  await expect(laptop.getByTestId('identity-roles')).toHaveText('OPERATOR');
  await expect(laptop.getByTestId('identity-groups')).toHaveText('laptops');
  expect((await gqlOk<ViewerResult>(world.stack.apiUrl, secret, VIEWER)).viewer.identity.roles).toEqual(['OPERATOR']);

  // Revoking asks first; "Keep it" changes nothing, "Revoke key" refuses the key from then on.
  await keyRow.getByRole('button', { name: 'Revoke the key runner on host-7' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Keep it' }).click();
  await expect(keyRow.getByTestId('key-status')).toHaveText('Active');
  await keyRow.getByRole('button', { name: 'Revoke the key runner on host-7' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Revoke key' }).click();
  await expect(keyRow.getByTestId('key-status')).toContainText('Revoked');
  await expect(keyRow).toHaveAttribute('data-revoked', 'true');
  const refused = await gql(world.stack.apiUrl, secret, VIEWER);
  expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

  // Disabling: a second key, then every key of the identity revoked at once.
  await keyForm.getByLabel('Identity').selectOption({ label: 'Laptop 17 (laptop-17)' });
  await keyForm.getByLabel('Key name').fill('spare');
  await keyForm.getByRole('button', { name: 'Create key' }).click();
  const spare = (await keyForm.getByTestId('issued-secret').textContent()) ?? '';
  await expect(laptop.getByTestId('identity-sign-in')).toHaveText('1 active key');
  await laptop.getByRole('button', { name: 'Disable laptop-17' }).click();
  await expect(page.getByRole('dialog')).toContainText('Every API key of Laptop 17 is revoked now (1)');
  await page.getByRole('dialog').getByRole('button', { name: 'Disable sign-in' }).click();
  await expect(laptop.getByTestId('identity-sign-in')).toHaveText('disabled: no active key');
  expect((await gql(world.stack.apiUrl, spare, VIEWER)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  // The administrator is not offered to disable itself.
  const self = page.locator(`[data-testid="identity-row"][data-external-id="${tenant.adminExternalId}"]`);
  await expect(self.getByRole('button', { name: /^Disable/ })).toHaveCount(0);
  await expectNoSeriousA11yViolations(page, 'the identities page after changes');
});

test('an auditor reads identities and keys without any button to change them; a MEMBER is told "not allowed"', async ({
  page,
}) => {
  const tenant = await seedIdentityTenant('identities-read');
  const auditor = await personaKey(world.stack.apiUrl, tenant, {
    externalId: 'auditor-1',
    displayName: 'Audrey Auditor',
    roles: ['AUDITOR'],
  });
  const member = await personaKey(world.stack.apiUrl, tenant, {
    externalId: 'member-1',
    displayName: 'Morgan Member',
    roles: ['MEMBER'],
  });
  await signIn(page, auditor.secret, { tenantName: tenant.name });
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Identities' }).click();
  await expect(page.getByTestId('identity-row')).toHaveCount(3);
  await expect(page.getByTestId('key-row')).toHaveCount(3);
  await expect(page.getByTestId('identity-form')).toHaveCount(0);
  await expect(page.getByTestId('key-form')).toHaveCount(0);
  await expect(page.getByRole('button', { name: /Edit|Disable|Revoke/ })).toHaveCount(0);
  await expectNoSeriousA11yViolations(page, "an auditor's identities page");
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);

  await signIn(page, member.secret, { tenantName: tenant.name });
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Identities' })).toHaveCount(0);
  await page.goto('/identities');
  await expect(page.getByRole('heading', { name: 'Not allowed' })).toBeVisible();
  await expect(page.getByTestId('identity-row')).toHaveCount(0);
  await expect(page.getByText('Loading', { exact: false })).toHaveCount(0);
});
