import { expect, type Page } from '@playwright/test';

/** Signs in the way a person does: the login form, then the overview with the tenant in the header. */
export async function signIn(page: Page, apiKey: string, expected: { tenantName: string }): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('API key').fill(apiKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/overview$/);
  await expect(page.getByTestId('tenant-name')).toHaveText(expected.tenantName);
}
