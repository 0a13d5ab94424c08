import { fileURLToPath } from 'node:url';
import AxeBuilder from '@axe-core/playwright';
import { expect, type Page } from '@playwright/test';

const SCREENSHOT_DIR = fileURLToPath(new URL('../test-results/screenshots/', import.meta.url));

/** Fails on any serious or critical accessibility violation axe finds on the page as it is now. */
export async function expectNoSeriousA11yViolations(page: Page, what: string): Promise<void> {
  // A client-side navigation sets the new page's <title> a moment after its content: check the settled page (a
  // page that never gets a title still fails, here or in axe's document-title rule).
  await expect(page, `the title of ${what}`).toHaveTitle(/\S/);
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21aa']).analyze();
  const serious = results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map(
      (violation) =>
        `${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target.join(' ')).join(', ')})`,
    );
  expect(serious, `accessibility of ${what}`).toEqual([]);
}

/**
 * Saves the page at 1280 and at 390 px wide under test-results/screenshots, checking at each width that nothing
 * scrolls sideways; the window is left at 1280 px.
 */
export async function screenshotBothWidths(page: Page, name: string): Promise<void> {
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `${name} at ${width} px scrolls sideways by ${overflow} px`).toBeLessThanOrEqual(0);
    await page.screenshot({ path: `${SCREENSHOT_DIR}${name}-${width}.png`, fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}
