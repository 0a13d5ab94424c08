import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { type BackupProgress, type BackupReceipt, backupPath } from '@echelon/client';
import { validateDatasetKey } from '@echelon/domain';
import type { Command } from 'commander';
import { type CliContext, connectionOf } from '../cli-context.js';
import { CliError, toCliError } from '../cli-errors.js';
import { guarded, withJson } from '../command-action.js';
import { manPage } from '../help-text.js';
import { followToEnd, readJob, unprotectedError } from '../job-follower.js';
import { describeJob } from '../job-view.js';
import { formatBytes, note, printJson, printLine } from '../output.js';
import { UploadBar } from '../progress-display.js';

interface BackupCommandOptions {
  dataset?: string;
  class?: string;
  wait: boolean;
  json?: boolean;
}

/** A path's base name as a dataset key: characters a key cannot hold become "-". */
export function defaultDatasetKey(source: string): string {
  const base = path
    .basename(path.resolve(source))
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '');
  return base === '' ? 'backup' : base.slice(0, 256);
}

/** The path exists and is a file or a directory, or a BAD_USER_INPUT that names it. */
export async function requireSource(source: string): Promise<string> {
  const absolute = path.resolve(source);
  const info = await lstat(absolute).catch(() => undefined);
  if (info === undefined) throw new CliError('BAD_USER_INPUT', `${absolute} does not exist`);
  if (!info.isFile() && !info.isDirectory()) {
    throw new CliError('BAD_USER_INPUT', `${absolute} is neither a regular file nor a directory`);
  }
  return absolute;
}

const uploadFacts = (receipt: Pick<BackupReceipt, 'chunkCount' | 'sentChunks' | 'sentBytes'>, totalBytes: number) => ({
  totalBytes,
  chunkCount: receipt.chunkCount,
  sentChunks: receipt.sentChunks,
  sentBytes: receipt.sentBytes,
});

export function addBackupCommand(program: Command, context: CliContext): void {
  withJson(
    program
      .command('backup')
      .summary('back up a file or a directory tree, sending only what the API lacks')
      .description('Backs up PATH (a file or a directory tree) as a new version of a dataset.')
      .argument('<path>', 'the file or directory to back up')
      .option('--dataset <key>', "the dataset's key (default: the path's base name)")
      .option('--class <dataClass>', 'the data class that picks the policy template (default: none)')
      .option('--no-wait', 'return once the backup is requested, without following its copies'),
  )
    .addHelpText(
      'after',
      manPage({
        description: `Reads PATH once and cuts it into content-defined chunks, as the server would. For each batch it asks
the API which chunks your tenant lacks (missingChunks) and sends only those (POST /chunks); then it sends
the version's manifest (POST /manifests) and requests the backup (requestBackup).

It then follows every copy live over graphql-ws, one bar per replica on a terminal (one line per state
change otherwise), and exits 0 only when every copy of the scheme is verified. --no-wait returns after
the request; follow it later with \`echelon watch JOB\`.

Ctrl-C is safe: what the API confirmed stays there, and the same command run again sends only the
rest. Symbolic links and special files are skipped and listed.`,
        examples: [
          'echelon backup ./photos',
          'echelon backup /var/backups/db.dump --dataset db/nightly --class database',
          'echelon backup ./site --no-wait --json | jq -r .job.id',
        ],
      }),
    )
    .action(
      guarded(context, async (source: string, options: BackupCommandOptions) => {
        const absolute = await requireSource(source);
        const datasetKey = validateDatasetKey(options.dataset ?? defaultDatasetKey(absolute), '--dataset');
        const connection = await connectionOf(context);
        const isQuiet = Boolean(options.json);
        const bar = new UploadBar(context.io, isQuiet);
        let progress: BackupProgress = { readBytes: 0, totalBytes: 0, sentBytes: 0, sentChunks: 0 };
        let receipt: BackupReceipt;
        try {
          receipt = await backupPath(connection, absolute, {
            datasetKey,
            dataClass: options.class ?? null,
            signal: context.signal,
            onProgress: (now) => {
              progress = now;
              bar.update(now);
            },
          });
        } catch (error) {
          const failure = toCliError(error);
          if (failure.code !== 'INTERRUPTED') throw failure;
          throw new CliError(
            'INTERRUPTED',
            `interrupted after sending ${progress.sentChunks} chunks (${formatBytes(progress.sentBytes)}); no backup was requested`,
            { sentChunks: progress.sentChunks, sentBytes: progress.sentBytes },
          );
        } finally {
          bar.stop();
        }
        const upload = uploadFacts(receipt, receipt.source.totalBytes);
        const skipped = receipt.source.skipped;
        if (!isQuiet) {
          for (const left of skipped) note(context.io, `skipped ${left.path}: ${left.reason}`);
          note(
            context.io,
            `${datasetKey}: ${receipt.source.entries.length} files, ${formatBytes(upload.totalBytes)} in ${upload.chunkCount} chunks; sent ${upload.sentChunks} chunks (${formatBytes(upload.sentBytes)}) the API lacked`,
          );
          note(context.io, `backup job ${receipt.jobId} requested`);
        }
        if (!options.wait) {
          const job = await readJob(connection, receipt.jobId, context.signal);
          if (options.json) printJson(context.io, { job, upload, skipped });
          else printLine(context.io, receipt.jobId);
          return;
        }
        const job = await followToEnd(context, connection, receipt.jobId, isQuiet);
        if (options.json && job.status === 'COMPLETED') printJson(context.io, { job, upload, skipped });
        else if (!options.json) printLine(context.io, describeJob(job));
        if (job.status !== 'COMPLETED') {
          const failure = unprotectedError(job);
          throw new CliError(failure.code, failure.message, { job, upload, skipped });
        }
      }),
    );
}
