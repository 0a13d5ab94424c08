import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileSystemSyncer } from './syncfs.js';

describe('FileSystemSyncer', () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'echelon-syncfs-'));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('syncs through one helper for many calls, answering each in order, and false for a missing directory', async () => {
    const syncer = new FileSystemSyncer();
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, index) => syncer.sync(index === 7 ? path.join(directory, 'absent') : directory)),
    );
    expect(answers.filter((ok) => !ok)).toHaveLength(1);
    expect(answers[7]).toBe(false);
    const pid = syncer.pid;
    expect(pid).toBeGreaterThan(0);
    expect(await syncer.sync(directory)).toBe(true);
    expect(syncer.pid).toBe(pid);
  });

  it('starts a new helper after the old one died, and answers a sync that was waiting with false', async () => {
    const syncer = new FileSystemSyncer();
    expect(await syncer.sync(directory)).toBe(true);
    const first = syncer.pid as number;
    process.kill(first, 'SIGKILL');
    // Whether this one was taken by the dying helper or not, it answers (false only if it was lost).
    const during = await syncer.sync(directory);
    expect(typeof during).toBe('boolean');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await syncer.sync(directory)).toBe(true);
    expect(syncer.pid).not.toBe(first);
  });

  it('takes a directory whose name holds a newline through a process of its own', async () => {
    const syncer = new FileSystemSyncer();
    expect(await syncer.sync(`${directory}\nother`)).toBe(false);
    expect(syncer.pid).toBeUndefined();
  });
});
