// `npm test`: lint, typecheck, build and every test suite through turbo (cached), then one summary line.
import { spawnSync } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT } from '@echelon/config';

const SUITES = [
  'packages/domain',
  'packages/config',
  'packages/db',
  'packages/storage',
  'packages/events',
  'packages/stack',
  'packages/client',
  'apps/cli',
  'temporal',
  'apps/api',
  'e2e',
];

interface Tally {
  passed: number;
  failed: number;
  skipped: number;
}

async function readReport(dir: string): Promise<Tally | undefined> {
  const vitest = await readFile(path.join(REPO_ROOT, dir, '.test-results', 'vitest.json'), 'utf8').catch(
    () => undefined,
  );
  if (vitest !== undefined) {
    const report = JSON.parse(vitest) as {
      numPassedTests: number;
      numFailedTests: number;
      numPendingTests: number;
      numTodoTests: number;
    };
    return {
      passed: report.numPassedTests,
      failed: report.numFailedTests,
      skipped: report.numPendingTests + report.numTodoTests,
    };
  }
  const playwright = await readFile(path.join(REPO_ROOT, dir, '.test-results', 'playwright.json'), 'utf8').catch(
    () => undefined,
  );
  if (playwright !== undefined) {
    const { stats } = JSON.parse(playwright) as {
      stats: { expected: number; unexpected: number; flaky: number; skipped: number };
    };
    return { passed: stats.expected + stats.flaky, failed: stats.unexpected, skipped: stats.skipped };
  }
  return undefined;
}

// Stale reports must never count: turbo recreates them, from its cache or by running the suite.
await Promise.all(
  SUITES.map((dir) => rm(path.join(REPO_ROOT, dir, '.test-results'), { recursive: true, force: true })),
);

const turbo = spawnSync(
  process.execPath,
  [
    path.join(REPO_ROOT, 'node_modules', 'turbo', 'bin', 'turbo'),
    'run',
    'lint',
    'typecheck',
    'build',
    'test',
    '--concurrency=2',
    '--continue',
    ...process.argv.slice(2),
  ],
  {
    cwd: REPO_ROOT,
    stdio: 'inherit',
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', NEXT_TELEMETRY_DISABLED: '1' },
  },
);

const total: Tally = { passed: 0, failed: 0, skipped: 0 };
const missing: string[] = [];
console.log('\nTest suites:');
for (const dir of SUITES) {
  const tally = await readReport(dir);
  if (tally === undefined) {
    missing.push(dir);
    console.log(`  ${dir.padEnd(18)} no report (the suite did not run or crashed)`);
    continue;
  }
  total.passed += tally.passed;
  total.failed += tally.failed;
  total.skipped += tally.skipped;
  console.log(`  ${dir.padEnd(18)} ${tally.passed} passed, ${tally.failed} failed, ${tally.skipped} skipped`);
}
// A suite that never reported counts as a failure: nothing may pass by not running.
total.failed += missing.length;
console.log(`\nTests: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(turbo.status === 0 && total.failed === 0 ? 0 : 1);
