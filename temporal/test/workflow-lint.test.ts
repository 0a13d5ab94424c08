import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIOME = path.join(REPO_ROOT, 'node_modules', '.bin', 'biome');

interface BiomeDiagnostic {
  category: string;
  message: string;
  location: { path: string; start: { line: number } };
}

/** `biome lint --reporter=json` in `cwd`; Biome exits non-zero when it reports errors, which is expected here. */
function lint(cwd: string, target: string): BiomeDiagnostic[] {
  const run = spawnSync(BIOME, ['lint', '--reporter=json', '--max-diagnostics=none', target], {
    cwd,
    encoding: 'utf8',
  });
  if (run.error) throw run.error;
  try {
    return (JSON.parse(run.stdout) as { diagnostics: BiomeDiagnostic[] }).diagnostics;
  } catch {
    throw new Error(`biome printed no JSON report (exit ${run.status}):\n${run.stdout}\n${run.stderr}`);
  }
}

const restricted = (diagnostics: BiomeDiagnostic[], file: string) =>
  diagnostics.filter(
    (diagnostic) => diagnostic.category === 'lint/style/noRestrictedImports' && diagnostic.location.path === file,
  );

/** One import per line, so that a diagnostic's line names the module it is about. */
const BANNED = [
  { module: 'node:fs', message: 'workflow code must be deterministic: no I/O; do it in an activity' },
  { module: 'node:fs/promises', message: 'workflow code must be deterministic: no I/O; do it in an activity' },
  { module: 'fs', message: 'workflow code must be deterministic: no I/O; do it in an activity' },
  { module: 'node:crypto', message: "use the workflow's own uuid4() and deterministic APIs" },
  { module: 'node:child_process', message: 'workflow code must not start processes' },
  { module: 'node:http', message: 'workflow code must not do network I/O' },
  { module: '@echelon/db', message: 'workflow code must not touch the database; do it in an activity' },
  { module: '@echelon/storage', message: 'workflow code must not touch storage; do it in an activity' },
  { module: '@temporalio/activity', message: 'import activity types only: proxyActivities<typeof activities>' },
];
const SOURCE = `${BANNED.map(({ module }, index) => `import * as imported${index} from '${module}';`).join('\n')}
export const used = [${BANNED.map((_, index) => `imported${index}`).join(', ')}];
`;

const WORKFLOW_FILE = 'temporal/src/workflows/uses-io.ts';
const ACTIVITY_FILE = 'temporal/src/activities/uses-io.ts';

describe("biome's workflow override (noRestrictedImports)", () => {
  let project: string | undefined;
  let linted: Promise<BiomeDiagnostic[]> | undefined;
  let diagnostics: BiomeDiagnostic[];

  async function lintScratchProject(): Promise<BiomeDiagnostic[]> {
    // Biome prints no diagnostics for stdin input, and temporal/src is not ours to write into: lint a scratch
    // project laid out like the repository, under the repository's own biome.json (VCS off: no git there).
    const root = await mkdtemp(path.join(os.tmpdir(), 'echelon-workflow-lint-'));
    project = root;
    const config = JSON.parse(await readFile(path.join(REPO_ROOT, 'biome.json'), 'utf8')) as Record<string, unknown>;
    delete config.$schema;
    await writeFile(path.join(root, 'biome.json'), JSON.stringify({ ...config, vcs: { enabled: false } }));
    for (const file of [WORKFLOW_FILE, ACTIVITY_FILE]) {
      await mkdir(path.dirname(path.join(root, file)), { recursive: true });
      await writeFile(path.join(root, file), SOURCE);
    }
    return lint(root, '.');
  }

  // In beforeEach, not beforeAll: a Biome that cannot run fails every test instead of skipping it.
  beforeEach(async () => {
    linted ??= lintScratchProject();
    diagnostics = await linted;
  });

  afterAll(async () => {
    if (project) await rm(project, { recursive: true, force: true });
  });

  it.each(BANNED.map((banned, index) => ({ ...banned, line: index + 1 })))(
    'reports $module in a workflow file',
    ({ line, message }) => {
      const found = restricted(diagnostics, WORKFLOW_FILE).filter(
        (diagnostic) => diagnostic.location.start.line === line,
      );
      expect(found.map((diagnostic) => diagnostic.message)).toEqual([message]);
    },
  );

  it('reports nothing of the kind for the same imports in an activities file', () => {
    expect(restricted(diagnostics, WORKFLOW_FILE)).toHaveLength(BANNED.length);
    expect(restricted(diagnostics, ACTIVITY_FILE)).toEqual([]);
  });

  it('finds no restricted import in the real workflow code', () => {
    const real = lint(REPO_ROOT, 'temporal/src/workflows');
    expect(real.filter((diagnostic) => diagnostic.category === 'lint/style/noRestrictedImports')).toEqual([]);
  });
});
