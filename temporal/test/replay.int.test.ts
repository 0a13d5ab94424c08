import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, type ReplayResult, type ReplayWorkerOptions, Runtime, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  HISTORIES_DIR,
  HISTORY_SCENARIOS,
  loadHistories,
  type SavedHistory,
  SHARED_PATH,
  WORKFLOWS_DIR,
  WORKFLOWS_PATH,
} from './support/histories.js';

const REPO_NODE_MODULES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'node_modules');

const REGENERATE = 'UPDATE_HISTORIES=1 npx vitest run test/time-skipping.int.test.ts (in temporal/)';

let histories: SavedHistory[];
let loaded: Promise<SavedHistory[]> | undefined;

// Loaded in beforeEach, not beforeAll: a missing or unreadable history then fails every test instead of skipping it.
beforeEach(async () => {
  if (loaded === undefined) {
    try {
      Runtime.install({
        logger: new DefaultLogger('ERROR'),
        telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
      });
    } catch {
      // Installed already by an earlier suite in this process: its logger stays.
    }
    loaded = loadHistories();
  }
  histories = await loaded;
});

/** Replays every history with one replay worker (one bundle), keyed by history name. */
async function replayAll(options: ReplayWorkerOptions, saved: SavedHistory[]): Promise<Map<string, ReplayResult>> {
  const results = new Map<string, ReplayResult>();
  const replays = Worker.runReplayHistories(
    options,
    saved.map(({ name, history }) => ({ workflowId: name, history })),
  );
  for await (const result of replays) results.set(result.workflowId, result);
  return results;
}

describe('saved workflow histories', () => {
  it('include every scenario the time-skipping tests record', async () => {
    const files = (await readdir(HISTORIES_DIR)).filter((file) => file.endsWith('.json'));
    const missing = HISTORY_SCENARIOS.filter((scenario) => !files.includes(`${scenario}.json`));
    expect(missing, `missing histories; regenerate them with ${REGENERATE}`).toEqual([]);
  });

  it('replay against the current workflow code without a determinism violation', async () => {
    const results = await replayAll({ workflowsPath: WORKFLOWS_PATH, replayName: 'saved-histories' }, histories);
    const failures = histories.flatMap(({ name }) => {
      const result = results.get(name);
      if (result === undefined) return [`${name}: not replayed`];
      if (result.error === undefined) return [];
      return [`${name}: ${result.error.name}: ${result.error.message}`];
    });
    // A failure here means the change is not replay-safe for workflows already running: guard it with patched()
    // or a new workflow type; regenerate the histories only for an intended, compatible change.
    expect(failures, `replay failed; if the change is intended and safe, ${REGENERATE}`).toEqual([]);
    expect(results.size).toBe(histories.length);
  });
});

/** Replaces `from` with `to`, failing when the real source no longer contains `from` exactly once. */
function replaceOnce(source: string, from: string, to: string): string {
  const occurrences = source.split(from).length - 1;
  if (occurrences !== 1) {
    throw new Error(
      `the breaking edit expects ${JSON.stringify(from)} once in backup.ts, found it ${occurrences} times: ` +
        'update this test to the current workflow code',
    );
  }
  return source.replace(from, () => to);
}

const runsActivity = (saved: SavedHistory, activity: string): boolean =>
  (saved.history.events ?? []).some(
    (event) => event.activityTaskScheduledEventAttributes?.activityType?.name === activity,
  );

/**
 * Edits that look harmless in review but change the commands a running workflow issues on replay; `breaks` says which
 * saved runs went through the edited code (the others must still replay).
 */
const BREAKING_EDITS: {
  change: string;
  edit: (source: string) => string;
  breaks: (saved: SavedHistory) => boolean;
}[] = [
  {
    change: 'a timer added before the primary copy of a backup',
    breaks: (saved) => saved.workflowType === 'backup',
    edit: (source) =>
      replaceOnce(
        replaceOnce(
          source,
          '  setHandler,\n  workflowInfo,\n} from',
          '  setHandler,\n  sleep,\n  workflowInfo,\n} from',
        ),
        '      primary = await primaryCopies().copyPrimary({ ...input, handOver: plan.handOver });\n',
        "      await sleep('1 second');\n      primary = await primaryCopies().copyPrimary({ ...input, handOver: plan.handOver });\n",
      ),
  },
  {
    change: 'markWaiting moved after the wait it announces',
    breaks: (saved) => runsActivity(saved, 'markWaiting'),
    edit: (source) =>
      replaceOnce(
        replaceOnce(
          source,
          '      const waiting = await bookkeeping.markWaiting({ ...input, order, delaySeconds: plan.delaySeconds });\n' +
            '      if (!waiting.hasReplica) break;\n',
          '',
        ),
        "    plan.phase = 'copying';\n    handedOver = undefined;\n",
        '    if (!handedOver?.completedAt)\n' +
          '      await bookkeeping.markWaiting({ ...input, order, delaySeconds: plan.delaySeconds });\n' +
          "    plan.phase = 'copying';\n    handedOver = undefined;\n",
      ),
  },
];

describe('a non-deterministic change to the workflow code', () => {
  const scratchDirs: string[] = [];
  afterAll(async () => {
    await Promise.all(scratchDirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  /** A scratch copy of the workflow sources with `edit` applied to backup.ts; returns its workflows index. */
  async function brokenCopy(edit: (source: string) => string): Promise<string> {
    const root = await mkdtemp(path.join(os.tmpdir(), 'echelon-broken-workflows-'));
    scratchDirs.push(root);
    const workflows = path.join(root, 'src', 'workflows');
    await mkdir(workflows, { recursive: true });
    for (const file of await readdir(WORKFLOWS_DIR)) {
      if (!file.endsWith('.ts')) continue;
      const source = await readFile(path.join(WORKFLOWS_DIR, file), 'utf8');
      await writeFile(path.join(workflows, file), file === 'backup.ts' ? edit(source) : source);
    }
    // The modules beside the workflows that they import values from (names, workflow ids).
    for (const shared of [SHARED_PATH, path.join(path.dirname(SHARED_PATH), 'scrub-shared.ts')]) {
      await writeFile(path.join(root, 'src', path.basename(shared)), await readFile(shared, 'utf8'));
    }
    return path.join(workflows, 'index.ts');
  }

  it.each(BREAKING_EDITS)(
    'fails the replay of each saved run through the change: $change',
    async ({ edit, breaks }) => {
      const workflowsPath = await brokenCopy(edit);
      const broken = histories.filter(breaks);
      expect(broken.length).toBeGreaterThan(0);
      const results = await replayAll(
        {
          workflowsPath,
          replayName: 'broken-copy',
          // The copy lives outside the repository: let webpack find the SDK and @echelon/* where the repo keeps them.
          bundlerOptions: {
            webpackConfigHook: (config) => ({
              ...config,
              resolve: { ...config.resolve, modules: [...(config.resolve?.modules ?? []), REPO_NODE_MODULES] },
            }),
          },
        },
        histories,
      );
      for (const saved of histories) {
        const result = results.get(saved.name);
        expect(result, saved.name).toBeDefined();
        if (breaks(saved)) expect(result?.error, saved.name).toBeInstanceOf(DeterminismViolationError);
        else expect(result?.error, saved.name).toBeUndefined();
      }
    },
  );
});
