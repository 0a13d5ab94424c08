import { insertJobRows } from '@echelon/stack';
import { expect, test } from '@playwright/test';
import { expectNoSeriousA11yViolations, screenshotBothWidths } from '../support/page-checks.js';
import { personaKey } from '../support/personas.js';
import { signIn } from '../support/sign-in.js';
import { e2eWorld } from '../support/world.js';

const MIB = 1024 * 1024;

const world = e2eWorld();

test('the jobs list pages past 50 and filters by status, dataset and identity', async ({ page }) => {
  const tenant = await world.seed('jobs-list', {
    copies: 1,
    delaySeconds: 0,
    ordering: 'CAPACITY',
    storage: [{ name: 'primary-ssd', spaces: [{ name: 'fast', capacityBytes: 64 * MIB }] }],
  });
  const storageSystemId = tenant.storageSystems[0]?.id ?? '';
  // 53 finished jobs and 2 running ones, written straight into the database (no one clicks through 55 backups).
  for (let index = 0; index < 55; index += 1) {
    await insertJobRows(world.db, tenant, {
      datasetKey: `e2e/list/${String(index).padStart(2, '0')}`,
      sizeBytes: MIB,
      jobStatus: index < 53 ? 'COMPLETED' : 'RUNNING',
      storageSystemId,
      replicas: { count: 1, firstOrder: 0, role: 'PRIMARY', status: index < 53 ? 'COMPLETED' : 'PLANNED' },
    });
  }
  await signIn(page, tenant.apiKey, { tenantName: tenant.name });
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Backup jobs' }).click();
  const rows = page.getByTestId('job-row');
  await expect(rows).toHaveCount(50);
  await expect(page.getByTestId('jobs-count')).toHaveText('1–50 of 55 jobs');
  await expectNoSeriousA11yViolations(page, 'the jobs list');
  await screenshotBothWidths(page, 'jobs');

  const paging = page.getByTestId('jobs-paging');
  await expect(paging.getByRole('button', { name: 'Previous page' })).toBeDisabled();
  await paging.getByRole('button', { name: 'Next page' }).click();
  await expect(rows).toHaveCount(5);
  await expect(page.getByTestId('jobs-count')).toHaveText('51–55 of 55 jobs');
  await expect(paging.getByRole('button', { name: 'Next page' })).toBeDisabled();
  // Newest first: the second page holds the oldest five.
  await expect(rows.first().getByTestId('job-link')).toHaveText('e2e/list/04');
  await paging.getByRole('button', { name: 'Previous page' }).click();
  await expect(rows).toHaveCount(50);

  const filter = page.getByTestId('jobs-filter');
  await filter.getByLabel('Status').selectOption('RUNNING');
  await filter.getByRole('button', { name: 'Apply' }).click();
  await expect(rows).toHaveCount(2);
  await expect(page.getByTestId('jobs-count')).toHaveText('1–2 of 2 jobs matching the filter');
  await expect(page.getByTestId('jobs-paging')).toHaveCount(0);

  await filter.getByLabel('Status').selectOption('');
  await filter.getByLabel('Dataset key').fill('e2e/list/07');
  await filter.getByRole('button', { name: 'Apply' }).click();
  await expect(rows).toHaveCount(1);
  await expect(rows.first().getByTestId('job-link')).toHaveText('e2e/list/07');

  // Another identity has no jobs: the filter says so, and what to do.
  await personaKey(world.stack.apiUrl, tenant, { externalId: 'nobody', displayName: 'No Jobs', roles: ['MEMBER'] });
  await page.reload();
  await filter.getByLabel('Dataset key').fill('');
  await filter.getByLabel('Requested by').selectOption({ label: 'nobody' });
  await filter.getByRole('button', { name: 'Apply' }).click();
  await expect(page.getByTestId('jobs-none-match')).toBeVisible();
  await filter.getByLabel('Requested by').selectOption({ label: tenant.adminExternalId });
  await filter.getByRole('button', { name: 'Apply' }).click();
  await expect(rows).toHaveCount(50);

  // The overview's link to the running jobs opens the list filtered.
  await page.goto('/jobs?status=RUNNING');
  await expect(rows).toHaveCount(2);
  await expect(filter.getByLabel('Status')).toHaveValue('RUNNING');
});
