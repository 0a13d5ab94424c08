import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { gqlOk, randomData, sha256, uploadBytes } from '@echelon/stack';
import { expect, type Page, test } from '@playwright/test';
import { signIn } from '../support/sign-in.js';
import { e2eWorld } from '../support/world.js';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
const DELAY_SECONDS = 2;
const REQUEST_BACKUP = `mutation($input: RequestBackupInput!) { requestBackup(input: $input) { id } }`;
/** A fixed place, so a person (and CI artefacts) can find the picture of a finished job. */
const COMPLETED_SCREENSHOT = fileURLToPath(new URL('../test-results/job-completed.png', import.meta.url));

/** The statuses each replica passes through, as the event log shows them (progress repeats collapsed). */
const PRIMARY_LIFECYCLE = ['PLANNED', 'COPYING', 'VERIFYING', 'COMPLETED'];
const SECONDARY_LIFECYCLE = ['PLANNED', 'WAITING', 'COPYING', 'VERIFYING', 'COMPLETED'];

const world = e2eWorld();

/**
 * A tenant of its own for each test: a primary and two candidate FILESYSTEM systems of different sizes, so the
 * capacity ordering is visible (the larger candidate is written first).
 */
const seedWatchTenant = (label: string) =>
  world.seed(label, {
    copies: 3,
    delaySeconds: DELAY_SECONDS,
    ordering: 'CAPACITY',
    storage: [
      { name: 'primary-ssd', spaces: [{ name: 'fast', capacityBytes: 20 * GIB }] },
      { name: 'small-nas', spaces: [{ name: 'shelf-a', capacityBytes: 50 * GIB }] },
      { name: 'large-ceph', spaces: [{ name: 'bucket-1', capacityBytes: 200 * GIB }] },
    ],
  });

/** The event log as the user reads it: one (order, status) per entry, oldest first. */
function readEventLog(page: Page): Promise<{ order: number; status: string }[]> {
  return page
    .getByTestId('event-log-entry')
    .evaluateAll((entries) =>
      entries.map((entry) => ({ order: Number(entry.getAttribute('data-order')), status: entry.dataset.status ?? '' })),
    );
}

test.describe('watching a backup job in the console', () => {
  test('a wrong API key is refused on the login page', async ({ page }) => {
    await page.goto('/login');
    await page.getByLabel('API key').fill(`ek_not-a-real-key-${randomUUID()}`);
    await page.getByRole('button', { name: 'Sign in' }).click();

    const error = page.getByTestId('login-error');
    await expect(error).toBeVisible();
    await expect(error).toContainText('The API key was not accepted');
    await expect(page).toHaveURL(/\/login$/);
    await expect(page.getByRole('button', { name: 'Sign in' })).toBeEnabled();
  });

  test('a requested backup appears live and its three copies complete in the console', async ({ page }) => {
    const tenant = await seedWatchTenant('watch');
    await signIn(page, tenant.apiKey, { tenantName: tenant.name });
    await expect(page.getByTestId('viewer-name')).toHaveText(`${tenant.name} administrator`);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Backup jobs' }).click();
    await expect(page.getByTestId('live-status')).toHaveAttribute('data-state', 'connected');
    await expect(page.getByTestId('jobs-empty')).toBeVisible();

    // Survives only as long as the document does: if it is still there later, the page was never reloaded.
    await page.evaluate(() => {
      document.documentElement.dataset.e2eSameDocument = 'yes';
    });

    // An integrator, elsewhere, stages the data and asks for a backup.
    const data = randomData(2 * MIB);
    const checksum = sha256(data);
    const datasetKey = `e2e/watch-job/${randomUUID().slice(0, 8)}`;
    const uploadId = await uploadBytes(world.stack.apiUrl, tenant.apiKey, data);
    const { requestBackup } = await gqlOk<{ requestBackup: { id: string } }>(
      world.stack.apiUrl,
      tenant.apiKey,
      REQUEST_BACKUP,
      { input: { datasetKey, uploadId } },
    );
    const jobId = requestBackup.id;

    const row = page.locator(`[data-testid="job-row"][data-job-id="${jobId}"]`);
    await expect(row).toBeVisible();
    await expect(row.getByTestId('job-link')).toHaveText(datasetKey);
    await expect(page.getByTestId('job-row')).toHaveCount(1);
    await expect(page.locator('html')).toHaveAttribute('data-e2e-same-document', 'yes');

    await row.getByTestId('job-link').click();
    await expect(page).toHaveURL(new RegExp(`/jobs/${jobId}$`));
    const detail = page.getByTestId('job-detail');
    await expect(detail).toHaveAttribute('data-job-id', jobId);
    await expect(page.getByTestId('job-dataset-key')).toHaveText(datasetKey);
    await expect(page.getByTestId('scheme-copies')).toHaveText('3');
    await expect(page.getByTestId('scheme-delay')).toHaveText('2 s');

    const replicaRows = page.getByTestId('replica-row');
    await expect(replicaRows).toHaveCount(3);
    // Primary first, then the candidates by capacity, largest first.
    await expect(replicaRows.getByTestId('replica-storage')).toHaveText(['primary-ssd', 'large-ceph', 'small-nas']);
    for (const [order, role] of ['PRIMARY', 'SECONDARY', 'SECONDARY'].entries()) {
      await expect(replicaRows.nth(order)).toHaveAttribute('data-order', String(order));
      await expect(replicaRows.nth(order)).toHaveAttribute('data-role', role);
    }

    // The copies land one after another, DELAY_SECONDS apart; the page follows them live.
    for (let order = 0; order < 3; order++) {
      await expect(page.locator(`[data-testid="replica-row"][data-order="${order}"]`)).toHaveAttribute(
        'data-status',
        'COMPLETED',
      );
    }
    await expect(detail.getByTestId('job-status')).toHaveText('COMPLETED');
    await expect(detail.getByTestId('job-copies')).toHaveText('3 of 3');
    const checksums = replicaRows.getByTestId('replica-checksum');
    await expect(checksums).toHaveCount(3);
    for (let order = 0; order < 3; order++) {
      await expect(checksums.nth(order)).toHaveAttribute('title', checksum);
    }

    const eventLog = page.getByTestId('event-log');
    for (let order = 0; order < 3; order++) {
      await expect(eventLog.locator(`[data-order="${order}"][data-status="COMPLETED"]`)).toHaveCount(1);
    }
    const events = await readEventLog(page);
    for (let order = 0; order < 3; order++) {
      const statuses = events.filter((event) => event.order === order).map((event) => event.status);
      const lifecycle = statuses.filter((status, index) => status !== statuses[index - 1]);
      expect(lifecycle, `event log of replica #${order}`).toEqual(
        order === 0 ? PRIMARY_LIFECYCLE : SECONDARY_LIFECYCLE,
      );
    }

    await page.screenshot({ path: COMPLETED_SCREENSHOT, fullPage: true });
  });

  test('signing out returns to the login page and forgets the key', async ({ page }) => {
    const tenant = await seedWatchTenant('signout');
    await signIn(page, tenant.apiKey, { tenantName: tenant.name });

    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/login$/);
    await expect(page.getByLabel('API key')).toBeVisible();

    await page.goto('/jobs');
    await expect(page).toHaveURL(/\/login$/);
    await expect(page.getByTestId('tenant-name')).toHaveCount(0);
  });
});
