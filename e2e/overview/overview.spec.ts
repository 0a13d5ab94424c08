import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gqlOk, randomData, uploadBytes } from '@echelon/stack';
import { expect, type Page, test } from '@playwright/test';
import { expectNoSeriousA11yViolations, screenshotBothWidths } from '../support/page-checks.js';
import { personaKey } from '../support/personas.js';
import { signIn } from '../support/sign-in.js';
import { type E2eTenant, e2eWorld } from '../support/world.js';

const MIB = 1024 * 1024;
const REQUEST_BACKUP = `mutation($input: RequestBackupInput!) { requestBackup(input: $input) { id } }`;

const world = e2eWorld();

/** Three copies, a few seconds apart, so a job stays running long enough to be watched. */
const seedOverviewTenant = (label: string) =>
  world.seed(label, {
    copies: 3,
    delaySeconds: 4,
    ordering: 'CAPACITY',
    storage: [
      { name: 'primary-ssd', spaces: [{ name: 'fast', capacityBytes: 64 * MIB }] },
      { name: 'large-ceph', spaces: [{ name: 'bucket', capacityBytes: 256 * MIB }] },
      { name: 'small-nas', spaces: [{ name: 'shelf', capacityBytes: 128 * MIB }] },
    ],
  });

/** A mount gone bad: the backup space's directory is now a file, so copies there fail. */
async function breakShelf(tenant: E2eTenant): Promise<void> {
  const shelf = path.join(tenant.storageRoot, 'small-nas', 'shelf');
  await rm(shelf, { recursive: true, force: true });
  await writeFile(shelf, 'not a directory');
}

/** An integrator elsewhere stages 2 MiB and asks for a backup with `apiKey`. */
async function requestBackup(apiKey: string, datasetKey: string): Promise<string> {
  const uploadId = await uploadBytes(world.stack.apiUrl, apiKey, randomData(2 * MIB));
  const { requestBackup } = await gqlOk<{ requestBackup: { id: string } }>(world.stack.apiUrl, apiKey, REQUEST_BACKUP, {
    input: { datasetKey, uploadId },
  });
  return requestBackup.id;
}

const capacityOf = (page: Page, system: string) =>
  page.locator(`[data-testid="capacity-entry"][data-system="${system}"]`);

test('an admin watches a backup run live on the overview, then sees its failure, the capacity used and the dataset short of copies', async ({
  page,
}) => {
  const tenant = await seedOverviewTenant('overview');
  await breakShelf(tenant);
  await signIn(page, tenant.apiKey, { tenantName: tenant.name });
  await expect(page.getByRole('heading', { name: 'Overview', level: 1 })).toBeVisible();
  await expect(page.getByTestId('live-status')).toHaveAttribute('data-state', 'connected');
  await expect(page.getByTestId('running-empty')).toBeVisible();
  await expect(page.getByTestId('failures-empty')).toBeVisible();
  await expect(page.getByTestId('protection-ok')).toHaveText('No dataset has been backed up yet.');
  await expect(page.getByTestId('capacity-entry')).toHaveCount(3);
  await expect(capacityOf(page, 'primary-ssd')).toHaveAttribute('data-used-bytes', '0');
  await expect(capacityOf(page, 'primary-ssd')).toContainText('0 B used of 64.0 MiB (0%)');
  await expect(page.getByTestId('capacity-chart').locator('.recharts-bar-rectangle').first()).toBeVisible();
  await expectNoSeriousA11yViolations(page, 'the empty overview');
  await screenshotBothWidths(page, 'overview-empty');

  // Survives only as long as the document does: everything below arrives by push, not by reloading the page.
  await page.evaluate(() => {
    document.documentElement.dataset.e2eSameDocument = 'yes';
  });
  const datasetKey = `e2e/overview/${randomUUID().slice(0, 8)}`;
  const jobId = await requestBackup(tenant.apiKey, datasetKey);

  const running = page.locator(`[data-testid="running-job"][data-job-id="${jobId}"]`);
  await expect(running).toBeVisible();
  await expect(running).toContainText(`${datasetKey} v1`);
  await expect(running.getByTestId('running-step')).toContainText(/Copying to|Verifying on|Waiting for the delay/);
  await expect(running.getByTestId('running-step')).toContainText(`requested by ${tenant.adminExternalId}`);
  // The progress bar moves as the copies are written: the first copy done is a third of the bytes.
  await expect(running.getByTestId('running-copies')).toHaveText(/^[12] of 3 copies$/);
  const percent = Number(await running.getByRole('progressbar').getAttribute('aria-valuenow'));
  expect(percent).toBeGreaterThanOrEqual(33);
  await screenshotBothWidths(page, 'overview-running');

  // small-nas refuses the copy: the job ends PARTIAL, leaves the running list and shows among the failures.
  await expect(running).toHaveCount(0, { timeout: 90_000 });
  await expect(page.getByTestId('running-empty')).toBeVisible();
  const failure = page.locator(`[data-testid="failed-job"][data-job-id="${jobId}"]`);
  await expect(failure).toHaveAttribute('data-status', 'PARTIAL');
  await expect(failure.getByTestId('failed-reason')).toContainText('secondary #2 failed');
  const shortDataset = page.locator(`[data-testid="under-protected-dataset"][data-dataset="${datasetKey}"]`);
  await expect(shortDataset.getByTestId('protection-copies')).toHaveText('2 of 3');
  // The primary now holds the data: its bar counts the bytes (chunks, so about the 2 MiB sent).
  await expect(capacityOf(page, 'primary-ssd')).not.toHaveAttribute('data-used-bytes', '0');
  const usedBytes = Number(await capacityOf(page, 'primary-ssd').getAttribute('data-used-bytes'));
  expect(usedBytes).toBeGreaterThanOrEqual(2 * MIB);
  await expect(capacityOf(page, 'small-nas')).toHaveAttribute('data-used-bytes', '0');
  expect(await page.evaluate(() => document.documentElement.dataset.e2eSameDocument)).toBe('yes');

  await expectNoSeriousA11yViolations(page, 'the overview with a failure');
  await screenshotBothWidths(page, 'overview');
});

test("a MEMBER's overview holds only its own jobs and datasets", async ({ page }) => {
  const tenant = await seedOverviewTenant('overview-member');
  await breakShelf(tenant);
  const member = await personaKey(world.stack.apiUrl, tenant, {
    externalId: 'member-1',
    displayName: 'Morgan Member',
    roles: ['MEMBER'],
  });
  // The administrator's backup fails on small-nas; the member's own one does too.
  const adminJob = await requestBackup(tenant.apiKey, `e2e/overview/admin-${randomUUID().slice(0, 8)}`);
  await signIn(page, member.secret, { tenantName: tenant.name });
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link')).toHaveText([
    'Overview',
    'Backup jobs',
  ]);
  const ownKey = `e2e/overview/member-${randomUUID().slice(0, 8)}`;
  const ownJob = await requestBackup(member.secret, ownKey);
  await expect(page.locator(`[data-testid="failed-job"][data-job-id="${ownJob}"]`)).toBeVisible({ timeout: 90_000 });
  await expect(page.locator(`[data-testid="under-protected-dataset"][data-dataset="${ownKey}"]`)).toBeVisible();
  await expect(page.getByTestId('under-protected-dataset')).toHaveCount(1);
  await expect(page.getByTestId('failed-job')).toHaveCount(1);
  // The admin's job is in the tenant (the API says so to the admin), but never on the member's page.
  const adminView = await gqlOk<{ backupJob: { status: string } | null }>(
    world.stack.apiUrl,
    tenant.apiKey,
    'query($id: ID!) { backupJob(id: $id) { status } }',
    { id: adminJob },
  );
  expect(adminView.backupJob).not.toBeNull();
  await expect(page.locator(`[data-job-id="${adminJob}"]`)).toHaveCount(0);
  await expectNoSeriousA11yViolations(page, "a member's overview");
});
