import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { History } from '@temporalio/common/lib/proto-utils.js';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils.js';

const TEMPORAL_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The module the worker bundles: every workflow the backup worker runs. */
export const WORKFLOWS_PATH = path.join(TEMPORAL_ROOT, 'src', 'workflows', 'index.ts');
export const WORKFLOWS_DIR = path.dirname(WORKFLOWS_PATH);
export const SHARED_PATH = path.join(TEMPORAL_ROOT, 'src', 'shared.ts');
export const HISTORIES_DIR = path.join(TEMPORAL_ROOT, 'test', 'histories');

/**
 * The saved runs that every change to the workflow code must replay. Each is written by the time-skipping test of
 * the same name when UPDATE_HISTORIES=1; a name listed here without a file fails the replay test.
 */
export const HISTORY_SCENARIOS = [
  'backup-two-secondaries-6h',
  'backup-two-secondaries-3d',
  'backup-replicate-now',
  'backup-cancelled-during-wait',
  'backup-primary-fails',
  'backup-secondary-fails',
  'backup-secondary-retried',
  'retry-replica-primary',
  'retry-replica-secondary',
  'restore-completed',
  'restore-reading-fails',
] as const;

export type HistoryScenario = (typeof HISTORY_SCENARIOS)[number];

/** True when the time-skipping tests should (re)write the saved histories. */
export const IS_UPDATING_HISTORIES = process.env.UPDATE_HISTORIES === '1';

/**
 * Writes a finished run's history in the JSON form that the Temporal CLI and UI export and that `historyFromJSON`
 * (and so `Worker.runReplayHistory`) reads, only when UPDATE_HISTORIES=1.
 */
export async function keepHistory(
  scenario: HistoryScenario,
  handle: { fetchHistory(): Promise<History> },
): Promise<void> {
  if (!IS_UPDATING_HISTORIES) return;
  const history = await handle.fetchHistory();
  await mkdir(HISTORIES_DIR, { recursive: true });
  await writeFile(path.join(HISTORIES_DIR, `${scenario}.json`), `${historyToJSON(history)}\n`);
}

export interface SavedHistory {
  /** The file name without `.json`; used as the workflow id of the replay. */
  name: string;
  workflowType: string;
  history: History;
}

/** Every saved history, sorted by name. */
export async function loadHistories(): Promise<SavedHistory[]> {
  const files = (await readdir(HISTORIES_DIR)).filter((file) => file.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (file) => {
      const history = historyFromJSON(JSON.parse(await readFile(path.join(HISTORIES_DIR, file), 'utf8')));
      const workflowType = history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name;
      if (!workflowType) throw new Error(`${file} does not start with a WorkflowExecutionStarted event`);
      return { name: path.basename(file, '.json'), workflowType, history };
    }),
  );
}
