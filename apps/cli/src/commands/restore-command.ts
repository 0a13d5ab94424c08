import path from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { request } from '../api-client.js';
import { type CliContext, connectionOf } from '../cli-context.js';
import { CliError } from '../cli-errors.js';
import { guarded, withJson } from '../command-action.js';
import { manPage } from '../help-text.js';
import { REQUEST_RESTORE_MUTATION, RESTORE_JOB_QUERY } from '../operations.js';
import { formatBytes, note, printJson, printLine } from '../output.js';
import { fetchRestoreManifest, refuseOverwrite, selectEntries, writeRestore } from '../restore-writer.js';

interface RestoreCommandOptions {
  to: string;
  version?: number;
  path?: string;
  force?: boolean;
  json?: boolean;
}

/** How often a preparing restore is read again (restores have no subscription). */
const RESTORE_POLL_MS = 300;

function versionOption(raw: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError('give a version number, 1 or more');
  return value;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(new CliError('INTERRUPTED', 'interrupted before the restore was ready; nothing was written'));
      },
      { once: true },
    );
  });

export function addRestoreCommand(program: Command, context: CliContext): void {
  withJson(
    program
      .command('restore')
      .summary('restore a version (or one path of it) into a directory, verified')
      .description('Restores a version of DATASET into a directory, checking every file against the backup.')
      .argument('<dataset>', "the dataset's key")
      .requiredOption('--to <dir>', 'the directory to write into (created if missing)')
      .option('--version <n>', 'the version (default: the newest with a verified copy)', versionOption)
      .option('--path <p>', 'only this file or directory of the version')
      .option('--force', 'overwrite files that exist'),
  )
    .addHelpText(
      'after',
      manPage({
        description: `Requests the restore (requestRestore), waits until the API has chosen a verified copy, and reads
the version's listing (checked against the version's sha256). Files keep their paths in the version under
--to: a single-file dataset is written as that file, --path keeps the path it names.

Each file is written to a temporary name, hashed as it arrives, and takes its name only when its size and
sha256 are the backup's; one that does not verify is removed (exit 12). Before anything is written, a file
that exists makes the restore refuse (exit 6) unless --force is given.`,
        examples: [
          'echelon restore photos --to ./restored',
          'echelon restore photos --version 3 --path 2026/june --to ./june',
          'echelon restore db/nightly --to /srv/restore --force --json',
        ],
      }),
    )
    .action(
      guarded(context, async (datasetKey: string, options: RestoreCommandOptions) => {
        const directory = path.resolve(options.to);
        const connection = await connectionOf(context);
        const { requestRestore } = await request(
          connection,
          REQUEST_RESTORE_MUTATION,
          { input: { datasetKey, version: options.version ?? null } },
          context.signal,
        );
        let restore = (await request(connection, RESTORE_JOB_QUERY, { id: requestRestore.id }, context.signal))
          .restoreJob;
        while (restore !== null && (restore.status === 'PENDING' || restore.status === 'RUNNING')) {
          await sleep(RESTORE_POLL_MS, context.signal);
          restore = (await request(connection, RESTORE_JOB_QUERY, { id: requestRestore.id }, context.signal))
            .restoreJob;
        }
        if (restore === null) throw new CliError('NOT_FOUND', `restore job ${requestRestore.id} disappeared`);
        if (restore.status !== 'COMPLETED' || restore.downloadUrl === null) {
          throw new CliError(
            'NOT_VERIFIED',
            `restore job ${restore.id} ${restore.status}: ${restore.lastError ?? 'no copy could be read'}`,
            { restoreId: restore.id },
          );
        }
        const manifest = await fetchRestoreManifest(connection, restore.id, context.signal);
        const entries = selectEntries(manifest, options.path);
        if (!options.force) await refuseOverwrite(directory, entries);
        const bytes = entries.reduce((sum, entry) => sum + entry.size, 0);
        if (!options.json) {
          note(
            context.io,
            `restoring ${datasetKey} v${restore.version} from the ${restore.fromReplica?.role.toLowerCase() ?? ''} copy on ${restore.fromReplica?.storageSystem.name ?? '?'}: ${entries.length} files, ${formatBytes(bytes)}`,
          );
        }
        await writeRestore(connection, {
          downloadUrl: restore.downloadUrl,
          directory,
          wanted: options.path,
          entries,
          signal: context.signal,
        });
        const summary = {
          restoreId: restore.id,
          datasetKey,
          version: restore.version,
          to: directory,
          files: entries.map((entry) => ({ path: entry.path, size: entry.size, sha256: entry.sha256 })),
          bytes,
          verified: true,
        };
        if (options.json) printJson(context.io, summary);
        else
          printLine(
            context.io,
            `restored ${entries.length} files (${formatBytes(bytes)}) to ${directory}, every one verified`,
          );
      }),
    );
}
