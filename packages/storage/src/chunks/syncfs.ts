import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';

/** A sync that has not answered by then counts as failed (the caller fsyncs one by one) and the helper is restarted. */
const SYNC_TIMEOUT_MS = 120_000;

/** Reads directory names, one per line, and answers each with ok or fail once its file system is synced. */
const SYNC_LOOP =
  'while IFS= read -r d; do if sync --file-system -- "$d" 2>/dev/null; then echo ok; else echo fail; fi; done';

/**
 * syncfs(2), which Node has no binding for, through coreutils' `sync --file-system` run by one long-lived shell per
 * process: a process that forks for every sync pays for copying its page tables each time (10–50 ms of its main
 * thread for a few hundred MiB of heap, twice per flush), and the intake and the copies flush every few hundred
 * MiB. The helper is started on first use, restarted after it dies, and keeps no process alive.
 */
export class FileSystemSyncer {
  private child: ChildProcessWithoutNullStreams | undefined;
  private readonly waiting: { resolve: (ok: boolean) => void; timer: NodeJS.Timeout }[] = [];
  private output = '';

  sync(directory: string): Promise<boolean> {
    // A name the line protocol cannot carry goes through a process of its own.
    if (directory.includes('\n')) return syncOnce(directory);
    const child = this.running();
    if (child === undefined) return syncOnce(directory);
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.stop(child), SYNC_TIMEOUT_MS);
      timer.unref();
      this.waiting.push({ resolve, timer });
      child.stdin.write(`${directory}\n`);
    });
  }

  /** The helper's pid while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  private running(): ChildProcessWithoutNullStreams | undefined {
    if (this.child !== undefined) return this.child;
    let child: ChildProcessWithoutNullStreams;
    try {
      child = spawn('sh', ['-c', SYNC_LOOP], { stdio: ['pipe', 'pipe', 'pipe'] });
    } catch {
      return undefined;
    }
    this.child = child;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => {
      this.output += text;
      for (let end = this.output.indexOf('\n'); end >= 0; end = this.output.indexOf('\n')) {
        const line = this.output.slice(0, end);
        this.output = this.output.slice(end + 1);
        this.answer(line === 'ok');
      }
    });
    child.stderr.resume();
    child.on('error', () => this.stop(child));
    child.on('exit', () => this.stop(child));
    child.stdin.on('error', () => this.stop(child));
    child.unref();
    for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as { unref?: () => void }).unref?.();
    return child;
  }

  private answer(ok: boolean): void {
    const next = this.waiting.shift();
    if (next === undefined) return;
    clearTimeout(next.timer);
    next.resolve(ok);
  }

  /** Ends the helper; every sync still waiting counts as failed. */
  private stop(child: ChildProcessWithoutNullStreams): void {
    if (this.child !== child) return;
    this.child = undefined;
    this.output = '';
    child.kill('SIGKILL');
    while (this.waiting.length > 0) this.answer(false);
  }
}

function syncOnce(directory: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('sync', ['--file-system', '--', directory], { timeout: SYNC_TIMEOUT_MS }, (error) =>
      resolve(error === null),
    );
  });
}

const syncer = new FileSystemSyncer();

/**
 * syncfs(2) of the file system holding `directory`: every file written and every name linked on it so far is on
 * the disk when it returns true. False when it could not be run (then the caller fsyncs one by one).
 */
export const syncFileSystem = (directory: string): Promise<boolean> => syncer.sync(directory);
