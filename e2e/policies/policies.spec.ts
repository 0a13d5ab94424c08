import { gqlOk } from '@echelon/stack';
import { expect, type Page, test } from '@playwright/test';
import { expectNoSeriousA11yViolations, screenshotBothWidths } from '../support/page-checks.js';
import { personaKey } from '../support/personas.js';
import { signIn } from '../support/sign-in.js';
import { type E2eTenant, e2eWorld } from '../support/world.js';

const GIB = 1024 ** 3;

const world = e2eWorld();

/** Three systems: two roomy ones and one too small for a 20 GiB dataset, so the preview has a skipped system. */
const seedPolicyTenant = (label: string) =>
  world.seed(label, {
    copies: 1,
    delaySeconds: 0,
    ordering: 'CAPACITY',
    storage: [
      { name: 'primary-ssd', spaces: [{ name: 'fast', capacityBytes: 100 * GIB }] },
      { name: 'large-ceph', spaces: [{ name: 'bucket', capacityBytes: 500 * GIB }] },
      { name: 'tiny-nas', spaces: [{ name: 'shelf', capacityBytes: 5 * GIB }] },
    ],
  });

const keyFor = async (tenant: E2eTenant, externalId: string, displayName: string, roles: string[]) =>
  (await personaKey(world.stack.apiUrl, tenant, { externalId, displayName, roles })).secret;

const templatesOf = async (apiKey: string) =>
  (
    await gqlOk<{ policyTemplates: { name: string; version: number; copies: number; delaySeconds: number }[] }>(
      world.stack.apiUrl,
      apiKey,
      '{ policyTemplates { name version copies delaySeconds } }',
    )
  ).policyTemplates;

/** The page's storage holds no trace of the key: the session is the httpOnly cookie alone. */
async function expectNoKeyInStorage(page: Page, apiKey: string): Promise<void> {
  const stored = await page.evaluate(() => JSON.stringify({ ...window.localStorage, ...window.sessionStorage }));
  expect(stored).not.toContain(apiKey);
  expect(stored).not.toContain('ech_');
  expect(await page.evaluate(() => document.cookie)).not.toContain('echelon_session');
}

test('an admin signs in with a masked key, builds a template and its assignments, and previews a scheme', async ({
  page,
  context,
}) => {
  const tenant = await seedPolicyTenant('policies');
  await page.goto('/login');
  await expect(page.getByLabel('API key')).toHaveAttribute('type', 'password');
  await expectNoSeriousA11yViolations(page, 'the sign-in page');
  await screenshotBothWidths(page, 'login');
  await signIn(page, tenant.apiKey, { tenantName: tenant.name });
  const cookie = (await context.cookies()).find((candidate) => candidate.name === 'echelon_session');
  expect(cookie?.httpOnly).toBe(true);
  expect(cookie?.sameSite).toBe('Strict');
  await expectNoKeyInStorage(page, tenant.apiKey);

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Policies' }).click();
  await expect(page).toHaveURL(/\/policies$/);
  await expect(page.getByTestId('template-row')).toHaveCount(1);
  await expect(page.getByTestId('assignment-row')).toHaveCount(1);
  await expectNoSeriousA11yViolations(page, 'the policies page');
  await screenshotBothWidths(page, 'policies');

  // A template: first the validation messages in plain words, and nothing is created.
  await page.getByRole('link', { name: 'New template' }).click();
  const form = page.getByTestId('template-form');
  await form.getByLabel('Copies', { exact: true }).fill('3');
  await form.getByRole('button', { name: 'Create template' }).click();
  await expect(form.getByTestId('template-problems')).toBeVisible();
  await expect(form.getByText('Give the template a name.')).toBeVisible();
  await expect(form.getByText('Choose where the first copy is written.')).toBeVisible();
  await expect(form.getByText(/3 copies need 2 secondary systems; 0 are ticked/)).toBeVisible();
  expect(await templatesOf(tenant.apiKey)).toHaveLength(1);
  await expectNoSeriousA11yViolations(page, 'the template form with its messages');
  await screenshotBothWidths(page, 'template-form');

  await form.getByLabel('Name').fill('Finance nightly');
  await form.getByLabel('Primary storage system').selectOption({ label: 'primary-ssd' });
  await form.getByLabel('large-ceph').check();
  await form.getByLabel('tiny-nas').check();
  await form.getByLabel('Delay between copies').fill('2');
  await form.getByLabel('Delay unit').selectOption({ label: 'hours' });
  await form.getByLabel('Data class (optional)').fill('finance');
  await form.getByRole('button', { name: 'Create template' }).click();
  const detail = page.getByTestId('template-detail');
  await expect(detail).toBeVisible();
  await expect(page.getByTestId('template-saved')).toHaveText('Saved as version 1.');
  await expect(page.getByTestId('template-version')).toHaveText('Version 1 of 1');
  await expect(page.getByTestId('diff-single')).toBeVisible();

  // A second version: the history lists both and the diff names what changed.
  await page.getByRole('link', { name: 'Edit' }).click();
  await expect(page.getByLabel('Name')).toHaveValue('Finance nightly');
  await page.getByLabel('Delay between copies').fill('30');
  await page.getByLabel('Delay unit').selectOption({ label: 'minutes' });
  await page.getByRole('button', { name: 'Publish version 2' }).click();
  await expect(page.getByTestId('template-saved')).toHaveText('Saved as version 2.');
  await expect(page.getByTestId('version-entry')).toHaveCount(2);
  await expect(page.getByTestId('diff-summary')).toHaveText('1 setting changed.');
  const delayRow = page.locator('[data-testid="diff-row"][data-setting="Delay between copies"]');
  await expect(delayRow).toHaveAttribute('data-changed', 'true');
  await expect(delayRow).toContainText('2 h');
  await expect(delayRow).toContainText('30 min');
  await expect(page.locator('[data-testid="diff-row"][data-setting="Name"]')).toHaveAttribute('data-changed', 'false');
  expect((await templatesOf(tenant.apiKey)).find((t) => t.name === 'Finance nightly')).toMatchObject({
    version: 2,
    copies: 3,
    delaySeconds: 1800,
  });
  await expectNoSeriousA11yViolations(page, 'the template detail');
  await screenshotBothWidths(page, 'template-detail');

  // Assignments: to the admin for finance data, and to a group, which is then removed.
  await page.getByRole('link', { name: '← Policies' }).click();
  const assign = page.getByTestId('assign-form');
  await assign.getByLabel('Template').selectOption({ label: 'Finance nightly (v2)' });
  await assign.getByRole('button', { name: 'Assign' }).click();
  await expect(assign.getByTestId('assign-problem')).toHaveText('Choose the identity the template applies to.');
  await assign
    .getByLabel('Identity', { exact: true })
    .selectOption({ label: `${tenant.name} administrator (${tenant.adminExternalId})` });
  await assign.getByLabel('Data class (optional)').fill('finance');
  await assign.getByRole('button', { name: 'Assign' }).click();
  await expect(assign.getByTestId('assign-done')).toHaveText('Assigned Finance nightly.');
  await expect(page.getByTestId('assignment-row')).toHaveCount(2);
  await assign.getByLabel('A group').check();
  await assign.getByLabel('Group', { exact: true }).fill('laptops');
  await assign.getByLabel('Data class (optional)').fill('');
  await assign.getByRole('button', { name: 'Assign' }).click();
  const groupRow = page.locator('[data-testid="assignment-row"][data-target="Group laptops"]');
  await expect(groupRow).toBeVisible();
  await groupRow.getByRole('button', { name: /Remove the assignment/ }).click();
  await expect(groupRow).toHaveCount(0);
  await expect(page.getByTestId('assignment-row')).toHaveCount(2);
  const assignments = await gqlOk<{ policyAssignments: { group: string | null; dataClass: string | null }[] }>(
    world.stack.apiUrl,
    tenant.apiKey,
    '{ policyAssignments { group dataClass } }',
  );
  expect(assignments.policyAssignments.map((a) => a.dataClass).sort()).toEqual(['finance', null]);
  expect(assignments.policyAssignments.some((a) => a.group === 'laptops')).toBe(false);

  // The preview: the admin, 20 GiB of finance data, gets the new template; tiny-nas is skipped for lack of room.
  await page.getByRole('link', { name: 'Preview a scheme' }).click();
  const preview = page.getByTestId('preview-form');
  await preview
    .getByLabel('Identity')
    .selectOption({ label: `${tenant.name} administrator (${tenant.adminExternalId})` });
  await expect(preview.getByLabel('Size (GiB)')).toHaveValue('20');
  await preview.getByLabel('Data class (optional)').fill('finance');
  await preview.getByRole('button', { name: 'Preview' }).click();
  const result = page.getByTestId('preview-result');
  await expect(result).toContainText('Finance nightly v2');
  const timeline = page.getByTestId('scheme-timeline');
  await expect(timeline.getByTestId('timeline-copy')).toHaveCount(2);
  await expect(timeline.getByTestId('timeline-copy').nth(0)).toHaveAttribute('data-system', 'primary-ssd');
  await expect(timeline.getByTestId('timeline-copy').nth(0)).toHaveAttribute('data-offset', '0');
  await expect(timeline.getByTestId('timeline-copy').nth(1)).toHaveAttribute('data-system', 'large-ceph');
  // The secondary starts the template's 30 minutes after the primary (plus the primary's estimated copy time).
  const secondaryOffset = Number(await timeline.getByTestId('timeline-copy').nth(1).getAttribute('data-offset'));
  expect(secondaryOffset).toBeGreaterThanOrEqual(1800);
  await expect(timeline.getByTestId('timeline-entry').nth(1)).toContainText('on large-ceph: starts at T1 + ');
  const skipped = page.locator('[data-testid="skipped-system"][data-system="tiny-nas"]');
  await expect(skipped).toBeVisible();
  await expectNoSeriousA11yViolations(page, 'the scheme preview');
  await screenshotBothWidths(page, 'scheme-preview');
});

test('a MEMBER sees no admin page in the navigation and is told "not allowed" by URL', async ({ page }) => {
  const tenant = await seedPolicyTenant('member');
  const secret = await keyFor(tenant, 'member-1', 'Morgan Member', ['MEMBER']);
  await signIn(page, secret, { tenantName: tenant.name });
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav.getByRole('link')).toHaveText(['Overview', 'Backup jobs']);
  for (const path of ['/policies', '/policies/new', '/policies/preview', '/identities', '/storage']) {
    await page.goto(path);
    await expect(page.getByRole('heading', { name: 'Not allowed' })).toBeVisible();
    await expect(page.getByText('Loading', { exact: false })).toHaveCount(0);
  }
  await expectNoSeriousA11yViolations(page, 'the not-allowed page');
  await screenshotBothWidths(page, 'not-allowed');
});

test('an auditor reads the policies without any button to change them', async ({ page }) => {
  const tenant = await seedPolicyTenant('auditor');
  const secret = await keyFor(tenant, 'auditor-1', 'Audrey Auditor', ['AUDITOR']);
  await signIn(page, secret, { tenantName: tenant.name });
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Policies' }).click();
  await expect(page.getByTestId('template-row')).toHaveCount(1);
  await expect(page.getByTestId('assignment-row')).toHaveCount(1);
  await expect(page.getByRole('link', { name: 'New template' })).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'Preview a scheme' })).toHaveCount(0);
  await expect(page.getByTestId('assign-form')).toHaveCount(0);
  await expect(page.getByRole('button', { name: /Remove/ })).toHaveCount(0);
  await page.goto('/policies/new');
  await expect(page.getByRole('heading', { name: 'Not allowed' })).toBeVisible();
});

test('signing out revokes the session: the old cookie is refused afterwards', async ({ page, context, playwright }) => {
  const tenant = await seedPolicyTenant('signout');
  await signIn(page, tenant.apiKey, { tenantName: tenant.name });
  const cookie = (await context.cookies()).find((candidate) => candidate.name === 'echelon_session');
  expect(cookie).toBeDefined();
  const api = await playwright.request.newContext({
    baseURL: world.stack.apiUrl,
    extraHTTPHeaders: { cookie: `echelon_session=${cookie?.value}` },
  });
  try {
    expect((await api.get('/session')).status()).toBe(200);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/login$/);
    // The very cookie the browser had, sent again by hand: the server no longer knows it.
    expect((await api.get('/session')).status()).toBe(401);
    expect((await context.cookies()).some((candidate) => candidate.name === 'echelon_session')).toBe(false);
    await page.goto('/policies');
    await expect(page).toHaveURL(/\/login$/);
  } finally {
    await api.dispose();
  }
});
