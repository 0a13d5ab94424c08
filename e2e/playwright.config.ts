import { defineConfig } from '@playwright/test';
import { E2E_ENV } from './support/e2e-env.js';
import { CHROMIUM_ARGS, CHROMIUM_EXECUTABLE } from './support/chromium.js';

/**
 * One stack per run (global setup), one worker: the specs share the stack but each seeds its own tenant.
 * The browser is the system Chromium; global setup fails the run if it is missing.
 */
export default defineConfig({
  testDir: '.',
  testMatch: '**/*.spec.ts',
  workers: 1,
  fullyParallel: false,
  forbidOnly: true,
  timeout: 120_000,
  expect: { timeout: 30_000 },
  reporter: [['list'], ['json', { outputFile: '.test-results/playwright.json' }]],
  outputDir: 'test-results',
  globalSetup: './global-setup.ts',
  use: {
    // Set by global setup before the workers start; workers load this file again and see it.
    baseURL: process.env[E2E_ENV.webUrl],
    browserName: 'chromium',
    launchOptions: {
      executablePath: CHROMIUM_EXECUTABLE,
      args: CHROMIUM_ARGS,
    },
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
  },
});
