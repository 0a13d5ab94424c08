import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gqlOk, randomData, uploadBytes } from '@echelon/stack';
import { expect, type Page, test } from '@playwright/test';
import { signIn } from '../support/sign-in.js';
import { type E2eTenant, e2eWorld } from '../support/world.js';

const MIB = 1024 * 1024;
const REQUEST_BACKUP = `mutation($input: RequestBackupInput!) { requestBackup(input: $input) { id } }`;

const world = e2eWorld();

const seedActionTenant = (label: string, delaySeconds: number) =>
  world.seed(label, {
    copies: 3,
    delaySeconds,
    ordering: 'CAPACITY',
    storage: [
      { name: 'primary-ssd', spaces: [{ name: 'fast', capacityBytes: 64 * MIB }] },
      { name: 'large-ceph', spaces: [{ name: 'bucket', capacityBytes: 256 * MIB }] },
      { name: 'small-nas', spaces: [{ name: 'shelf', capacityBytes: 128 * MIB }] },
    ],
  });

/** Requests a backup like an integrator, then opens its page in the console. */
async function openNewJob(page: Page, tenant: E2eTenant): Promise<string> {
  const uploadId = await uploadBytes(world.stack.apiUrl, tenant.apiKey, randomData(MIB));
  const { requestBackup } = await gqlOk<{ requestBackup: { id: string } }>(
    world.stack.apiUrl,
    tenant.apiKey,
    REQUEST_BACKUP,
    {
      input: { datasetKey: `e2e/actions/${randomUUID().slice(0, 8)}`, uploadId },
    },
  );
  await page.goto(`/jobs/${requestBackup.id}`);
  await expect(page.getByTestId('job-detail')).toBeVisible();
  return requestBackup.id;
}

const replica = (page: Page, order: number) => page.locator(`[data-testid="replica-row"][data-order="${order}"]`);

test.describe('acting on a backup job from the console', () => {
  test('"Replicate now" ends an hour-long delay and the job completes', async ({ page }) => {
    const tenant = await seedActionTenant('now', 3600);
    await signIn(page, tenant.apiKey, { tenantName: tenant.name });
    await openNewJob(page, tenant);
    await expect(replica(page, 1)).toHaveAttribute('data-status', 'WAITING');
    await page.getByRole('button', { name: 'Replicate now' }).click();
    await expect(page.getByTestId('job-status')).toHaveText('COMPLETED');
    for (const order of [0, 1, 2]) await expect(replica(page, order)).toHaveAttribute('data-status', 'COMPLETED');
    await expect(page.getByRole('button', { name: 'Cancel job' })).toHaveCount(0);
  });

  test('"Cancel job" during a delay cancels what is not yet written and says why', async ({ page }) => {
    const tenant = await seedActionTenant('cancel', 3600);
    await signIn(page, tenant.apiKey, { tenantName: tenant.name });
    await openNewJob(page, tenant);
    await expect(replica(page, 1)).toHaveAttribute('data-status', 'WAITING');
    await page.getByRole('button', { name: 'Cancel job' }).click();
    await expect(page.getByTestId('job-status')).toHaveText('CANCELLED');
    await expect(page.getByTestId('job-status-reason')).toHaveText('cancelled on request');
    await expect(replica(page, 0)).toHaveAttribute('data-status', 'COMPLETED');
    await expect(replica(page, 1)).toHaveAttribute('data-status', 'CANCELLED');
    await expect(replica(page, 2)).toHaveAttribute('data-status', 'CANCELLED');
  });

  test('a secondary on broken storage fails with its error; "Retry" completes it once the storage is fixed', async ({
    page,
  }) => {
    const tenant = await seedActionTenant('retry', 0);
    // A mount gone bad: the backup space's directory is now a file.
    const shelf = path.join(tenant.storageRoot, 'small-nas', 'shelf');
    await rm(shelf, { recursive: true, force: true });
    await writeFile(shelf, 'not a directory');
    await signIn(page, tenant.apiKey, { tenantName: tenant.name });
    await openNewJob(page, tenant);
    await expect(page.getByTestId('job-status')).toHaveText('PARTIAL');
    await expect(page.getByTestId('job-status-reason')).toContainText('secondary #2 failed');
    const failed = replica(page, 2);
    await expect(failed).toHaveAttribute('data-status', 'FAILED');
    // In plain words, naming the storage as the tenant knows it, never a path on the worker's host (#14).
    await expect(failed.getByTestId('replica-error')).toContainText('cannot write to small-nas/shelf');
    await expect(failed.getByTestId('replica-error')).not.toContainText(tenant.storageRoot);

    await rm(shelf, { force: true });
    await mkdir(shelf);
    await failed.getByTestId('replica-retry').click();
    await expect(page.getByTestId('job-status')).toHaveText('COMPLETED');
    await expect(failed).toHaveAttribute('data-status', 'COMPLETED');
    await expect(failed.getByTestId('replica-status')).toBeVisible();
    await expect(page.getByTestId('job-status-reason')).toHaveCount(0);
  });
});
