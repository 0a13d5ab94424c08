import type { BackupProgress } from '@echelon/client';
import cliProgress from 'cli-progress';
import type { CliIo } from './cli-context.js';
import type { CliReplicaFragment } from './generated/graphql.js';
import { formatBytes, note } from './output.js';

/** "copy 2/3 (secondary) on nas-b": which replica a line or bar is about. */
export const replicaLabel = (replica: Pick<CliReplicaFragment, 'order' | 'role' | 'storageSystem'>, copies: number) =>
  `copy ${replica.order + 1}/${copies} (${replica.role.toLowerCase()}) on ${replica.storageSystem.name}`;

const barFormat = (name: string) =>
  `${name} [{bar}] {percentage}% {done}/{size}${name === '{label}' ? ' {status}' : ''}`;

/**
 * One live bar per replica on a terminal; where stderr is not a terminal (a script, a CI log), one line each time
 * a replica changes state, so the log says the same without redrawing.
 */
export class ReplicaBoard {
  private readonly bars = new Map<string, cliProgress.SingleBar>();
  private readonly lastStatus = new Map<string, string>();
  private multi: cliProgress.MultiBar | undefined;

  constructor(
    private readonly io: CliIo,
    private readonly copies: number,
    private readonly isQuiet: boolean,
  ) {}

  update(replica: CliReplicaFragment, message?: string | null): void {
    if (this.isQuiet) return;
    const total = Math.max(replica.bytesTotal, 1);
    if (this.io.isInteractive) {
      this.multi ??= new cliProgress.MultiBar(
        { format: barFormat('{label}'), stream: this.io.stderr as NodeJS.WriteStream, hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      const payload = {
        label: replicaLabel(replica, this.copies).padEnd(36),
        done: formatBytes(replica.bytesCopied),
        size: formatBytes(replica.bytesTotal),
        status: replica.status,
      };
      const value = replica.status === 'COMPLETED' ? total : Math.min(replica.bytesCopied, total);
      const bar = this.bars.get(replica.id);
      if (bar === undefined) this.bars.set(replica.id, this.multi.create(total, value, payload));
      else bar.update(value, payload);
      return;
    }
    if (this.lastStatus.get(replica.id) === replica.status) return;
    this.lastStatus.set(replica.id, replica.status);
    const detail = message ? `: ${message}` : '';
    note(
      this.io,
      `${replicaLabel(replica, this.copies)}: ${replica.status} ${formatBytes(replica.bytesCopied)}/${formatBytes(replica.bytesTotal)}${detail}`,
    );
  }

  stop(): void {
    this.multi?.stop();
  }
}

/** The upload's bar on a terminal: bytes read of the source, and what had to be sent. */
export class UploadBar {
  private bar: cliProgress.SingleBar | undefined;

  constructor(
    private readonly io: CliIo,
    private readonly isQuiet: boolean,
  ) {}

  update(progress: BackupProgress): void {
    if (this.isQuiet || !this.io.isInteractive) return;
    const payload = { done: formatBytes(progress.readBytes), size: formatBytes(progress.totalBytes) };
    const sent = `sent ${formatBytes(progress.sentBytes)} in ${progress.sentChunks} chunks`;
    if (this.bar === undefined) {
      this.bar = new cliProgress.SingleBar(
        { format: `${barFormat('reading')} ${'{sent}'}`, stream: this.io.stderr as NodeJS.WriteStream },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(Math.max(progress.totalBytes, 1), progress.readBytes, { ...payload, sent });
    } else this.bar.update(progress.readBytes, { ...payload, sent });
  }

  stop(): void {
    this.bar?.stop();
  }
}
