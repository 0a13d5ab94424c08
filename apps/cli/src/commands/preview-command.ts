import { listSource } from '@echelon/client';
import type { Command } from 'commander';
import { request } from '../api-client.js';
import { type CliContext, connectionOf } from '../cli-context.js';
import { guarded, withJson } from '../command-action.js';
import { manPage } from '../help-text.js';
import { PREVIEW_QUERY, VIEWER_QUERY } from '../operations.js';
import { formatBytes, formatSeconds, printJson, printLine, table } from '../output.js';
import { requireSource } from './backup-command.js';

export function addPreviewCommand(program: Command, context: CliContext): void {
  withJson(
    program
      .command('preview')
      .summary('the scheme a backup of PATH would get, with its timeline')
      .description('Shows which scheme would apply to a backup of PATH now, and when each copy would be made.')
      .argument('<path>', 'the file or directory you would back up')
      .option('--class <dataClass>', 'the data class you would back it up with'),
  )
    .addHelpText(
      'after',
      manPage({
        description: `Walks PATH without reading it to learn its size, then asks the API (previewScheme) which policy
template matches you and that size: the primary, the secondaries in write order, the systems skipped
and why, and each copy's start relative to the first (T1). Nothing is sent or recorded.`,
        examples: ['echelon preview ./photos', 'echelon preview /srv/db.dump --class database --json'],
      }),
    )
    .action(
      guarded(context, async (source: string, options: { class?: string; json?: boolean }) => {
        const absolute = await requireSource(source);
        const connection = await connectionOf(context);
        const listing = await listSource(absolute);
        const { viewer } = await request(connection, VIEWER_QUERY, {}, context.signal);
        const { previewScheme: scheme } = await request(
          connection,
          PREVIEW_QUERY,
          {
            input: { identityId: viewer.identity.id, sizeBytes: listing.totalBytes, dataClass: options.class ?? null },
          },
          context.signal,
        );
        if (options.json) {
          printJson(context.io, {
            path: absolute,
            files: listing.files.length,
            sizeBytes: listing.totalBytes,
            skipped: listing.skipped,
            scheme,
          });
          return;
        }
        const systems = [scheme.primary, ...scheme.secondaries];
        printLine(
          context.io,
          `${absolute}: ${listing.files.length} files, ${formatBytes(listing.totalBytes)}\n` +
            `template ${scheme.template.name} v${scheme.templateVersion} (${scheme.matchedBy})\n` +
            `${scheme.copies} copies, at least ${scheme.template.minCopies} verified; ${formatSeconds(scheme.delaySeconds)} between copies\n`,
        );
        printLine(
          context.io,
          table([
            ['STARTS', 'COPY', 'STORAGE', 'WRITES', 'REMAINING NOW'],
            ...systems.map((system, index) => [
              `T1+${formatSeconds(scheme.plannedOffsetsSeconds[index] ?? 0)}`,
              index === 0 ? '1 primary' : `${index + 1} secondary`,
              system.name,
              formatBytes(scheme.bytesToWrite[index] ?? listing.totalBytes),
              formatBytes(system.remainingBytes),
            ]),
          ]),
        );
        for (const skipped of scheme.skipped) {
          printLine(context.io, `skipped ${skipped.storageSystem.name}: ${skipped.reason}`);
        }
      }),
    );
}
