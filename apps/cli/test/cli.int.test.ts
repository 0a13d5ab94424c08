import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { scanSource } from '@echelon/client';
import { type SeededTenant, seedTenant } from '@echelon/db';
import { gqlOk, startTestStack, type TestStack } from '@echelon/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EchelonRun, eventually, jsonOf, runEchelon, startChunkCounter, startEchelon } from './cli-harness.js';

const MIB = 1024 * 1024;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

interface JobJson {
  id: string;
  datasetKey: string;
  version: number;
  status: string;
  replicas: { order: number; role: string; status: string; checksum: string | null; bytesTotal: number }[];
  scheme: { copies: number };
}
interface BackupJson {
  job: JobJson;
  upload: { totalBytes: number; chunkCount: number; sentChunks: number; sentBytes: number };
  skipped: { path: string; reason: string }[];
}
interface ErrorJson {
  error: { code: string; message: string; exitCode: number };
}

/** Every regular file under `root` by relative path, with its bytes and permission bits. */
async function treeOf(root: string): Promise<Map<string, { bytes: Buffer; mode: number }>> {
  const files = new Map<string, { bytes: Buffer; mode: number }>();
  const walk = async (directory: string, prefix: string) => {
    for (const entry of await readdir(directory, { withFileTypes: true })) {
      const full = path.join(directory, entry.name);
      const relative = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
      if (entry.isDirectory()) await walk(full, relative);
      else files.set(relative, { bytes: await readFile(full), mode: (await stat(full)).mode & 0o777 });
    }
  };
  await walk(root, '');
  return files;
}

describe('echelon, the terminal client, as a subprocess against the real stack', () => {
  let env: TestStack;
  let seeded: SeededTenant;
  let work: string;
  /** The environment of a logged-in run: the API and key by environment variables, a config dir of its own. */
  let direct: Record<string, string>;

  const echelon = (args: readonly string[], extra: Record<string, string> = {}, input?: string): Promise<EchelonRun> =>
    runEchelon(args, { env: { ...direct, ...extra }, input });

  beforeAll(async () => {
    env = await startTestStack();
    seeded = await seedTenant(env.db, {
      slug: 'cli',
      name: 'Terminal client',
      storageRoot: path.join(env.dataDir, 'storage'),
      storage: ['one', 'two'].map((name) => ({ name, spaces: [{ name: 'main', capacityBytes: 1024 * MIB }] })),
      copies: 2,
      delaySeconds: 0,
    });
    work = await mkdtemp(path.join(os.tmpdir(), 'echelon-cli-'));
    direct = {
      ECHELON_API_URL: env.apiUrl,
      ECHELON_API_KEY: seeded.apiKey,
      ECHELON_CONFIG_DIR: path.join(work, 'direct-config'),
    };
  }, 240_000);

  afterAll(async () => {
    await env?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('login saves the URL and key readable by the user alone, under XDG_CONFIG_HOME, and nothing for a refused key', async () => {
    const xdg = path.join(work, 'xdg');
    const only = { XDG_CONFIG_HOME: xdg };
    const settings = path.join(xdg, 'echelon', 'config.json');

    const refused = await runEchelon(['login', '--api-url', env.apiUrl, '--key', 'ek_not-a-key'], { env: only });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('does not accept this key');
    await expect(stat(settings)).rejects.toThrow();
    const refusedJson = jsonOf<ErrorJson>(
      await runEchelon(['login', '--api-url', env.apiUrl, '--key', 'ek_not-a-key', '--json'], { env: only }),
    );
    expect(refusedJson.error).toMatchObject({ code: 'UNAUTHENTICATED', exitCode: 3 });

    const notYet = await runEchelon(['datasets'], { env: only });
    expect(notYet.code).toBe(3);
    expect(notYet.stderr).toContain('echelon login');

    // The key comes on stdin, so it is in neither the shell history nor `ps`.
    const accepted = await runEchelon(['login', '--api-url', `${env.apiUrl}/graphql`], {
      env: only,
      input: `${seeded.apiKey}\n`,
    });
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(accepted.stdout).toContain(`logged in to ${env.apiUrl} as admin (cli)`);
    expect((await stat(settings)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(settings))).mode & 0o777).toBe(0o700);
    expect(JSON.parse(await readFile(settings, 'utf8'))).toEqual({ apiUrl: env.apiUrl, apiKey: seeded.apiKey });
    const listed = await runEchelon(['datasets', '--json'], { env: only });
    expect(listed.code, listed.stderr).toBe(0);
    expect(Array.isArray(jsonOf(listed))).toBe(true);

    // ECHELON_CONFIG_DIR wins over XDG_CONFIG_HOME.
    const elsewhere = path.join(work, 'elsewhere');
    const moved = jsonOf<{ settingsFile: string; identity: { externalId: string } }>(
      await runEchelon(['login', '--api-url', env.apiUrl, '--key', seeded.apiKey, '--json'], {
        env: { ...only, ECHELON_CONFIG_DIR: elsewhere },
      }),
    );
    expect(moved).toMatchObject({
      settingsFile: path.join(elsewhere, 'config.json'),
      identity: { externalId: 'admin' },
    });
    expect((await stat(moved.settingsFile)).mode & 0o777).toBe(0o600);
  });

  it('backs up a file with a live line per replica until every copy is verified, exits 0, and --json says so', async () => {
    const file = path.join(work, 'disk.img');
    const bytes = randomBytes(3 * MIB + 17);
    await writeFile(file, bytes);
    const first = await echelon(['backup', file, '--dataset', 'single']);
    expect(first.code, first.stderr).toBe(0);
    // Not a terminal: one line per state change of each copy, ending verified.
    expect(first.stderr).toMatch(/copy 1\/2 \(primary\) on one: COPYING/);
    expect(first.stderr).toMatch(/copy 1\/2 \(primary\) on one: COMPLETED/);
    expect(first.stderr).toMatch(/copy 2\/2 \(secondary\) on two: COMPLETED/);
    expect(first.stderr).toMatch(/sent \d+ chunks \(3\.00 MiB\) the API lacked/);
    expect(first.stdout).toMatch(/single v1 COMPLETED/);
    expect(first.stdout).toContain('2 of 2 copies verified');

    const again = await echelon(['backup', file, '--dataset', 'single', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toBe('');
    const report = jsonOf<BackupJson>(again);
    expect(report.upload).toMatchObject({ totalBytes: bytes.length, sentChunks: 0, sentBytes: 0 });
    expect(report.upload.chunkCount).toBeGreaterThan(1);
    expect(report.skipped).toEqual([]);
    expect(report.job).toMatchObject({ datasetKey: 'single', version: 2, status: 'COMPLETED', scheme: { copies: 2 } });
    expect(report.job.replicas.map((replica) => [replica.order, replica.status, replica.checksum])).toEqual([
      [0, 'COMPLETED', sha256(bytes)],
      [1, 'COMPLETED', sha256(bytes)],
    ]);

    const restored = path.join(work, 'restored-single');
    const restore = await echelon(['restore', 'single', '--to', restored]);
    expect(restore.code, restore.stderr).toBe(0);
    expect(restore.stdout).toContain('every one verified');
    expect(sha256(await readFile(path.join(restored, 'disk.img')))).toBe(sha256(bytes));
  });

  it('backs up a tree, sends only the changed file next time, and restores it whole, by path and by directory, bit-exact', async () => {
    const tree = path.join(work, 'tree');
    const files: Record<string, Buffer> = {
      'a.txt': randomBytes(1000),
      'docs/readme.md': Buffer.from('# a tree\n'),
      'docs/deep/big.bin': randomBytes(5 * MIB),
      'docs/deep/empty': Buffer.alloc(0),
      'media/clip.bin': randomBytes(2 * MIB),
    };
    for (const [relative, bytes] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(tree, relative)), { recursive: true });
      await writeFile(path.join(tree, relative), bytes);
    }
    await chmod(path.join(tree, 'docs/readme.md'), 0o640);
    const total = Object.values(files).reduce((sum, bytes) => sum + bytes.length, 0);

    const first = await echelon(['backup', tree, '--json']);
    expect(first.code, first.stderr).toBe(0);
    const firstReport = jsonOf<BackupJson>(first);
    expect(firstReport.job).toMatchObject({ datasetKey: 'tree', version: 1, status: 'COMPLETED' });
    expect(firstReport.upload.sentBytes).toBe(total);
    expect(firstReport.upload.sentChunks).toBe(firstReport.upload.chunkCount);

    const changed = randomBytes(1000);
    await writeFile(path.join(tree, 'a.txt'), changed);
    const second = jsonOf<BackupJson>(await echelon(['backup', tree, '--json']));
    expect(second.job).toMatchObject({ version: 2, status: 'COMPLETED' });
    // Only the changed file's one chunk went over the wire.
    expect(second.upload).toMatchObject({ sentChunks: 1, sentBytes: changed.length });

    const whole = path.join(work, 'restored-tree');
    const restore = await echelon(['restore', 'tree', '--to', whole, '--json']);
    expect(restore.code, restore.stderr).toBe(0);
    expect(jsonOf<{ version: number; verified: boolean; files: unknown[] }>(restore)).toMatchObject({
      version: 2,
      verified: true,
      files: expect.any(Array),
    });
    const source = await treeOf(tree);
    const restoredTree = await treeOf(whole);
    expect([...restoredTree.keys()].sort()).toEqual([...source.keys()].sort());
    for (const [relative, original] of source) {
      expect(sha256(restoredTree.get(relative)?.bytes ?? Buffer.alloc(1)), relative).toBe(sha256(original.bytes));
      expect(restoredTree.get(relative)?.mode, relative).toBe(original.mode);
    }

    // One file of version 1: the file as it was before the change, at its path under --to.
    const single = path.join(work, 'restored-one');
    const one = await echelon(['restore', 'tree', '--version', '1', '--path', 'a.txt', '--to', single]);
    expect(one.code, one.stderr).toBe(0);
    expect(await readdir(single)).toEqual(['a.txt']);
    expect(sha256(await readFile(path.join(single, 'a.txt')))).toBe(sha256(files['a.txt'] as Buffer));

    // A directory of the version: its files, and nothing else.
    const part = path.join(work, 'restored-part');
    const directory = await echelon(['restore', 'tree', '--path', 'docs/deep', '--to', part]);
    expect(directory.code, directory.stderr).toBe(0);
    expect([...(await treeOf(part)).keys()].sort()).toEqual(['docs/deep/big.bin', 'docs/deep/empty']);
    expect(sha256(await readFile(path.join(part, 'docs/deep/big.bin')))).toBe(
      sha256(files['docs/deep/big.bin'] as Buffer),
    );

    // A file that exists is never overwritten without --force, and the refusal writes nothing at all.
    await writeFile(path.join(whole, 'a.txt'), 'a local edit\n');
    await rm(path.join(whole, 'media'), { recursive: true });
    const refused = await echelon(['restore', 'tree', '--to', whole]);
    expect(refused.code).toBe(6);
    expect(refused.stderr).toContain('pass --force to overwrite');
    expect(await readFile(path.join(whole, 'a.txt'), 'utf8')).toBe('a local edit\n');
    await expect(stat(path.join(whole, 'media'))).rejects.toThrow();
    const refusedJson = jsonOf<ErrorJson & { existing: string[] }>(
      await echelon(['restore', 'tree', '--to', whole, '--json']),
    );
    expect(refusedJson.error).toMatchObject({ code: 'CONFLICT', exitCode: 6 });
    expect(refusedJson.existing).toContain(path.join(whole, 'a.txt'));
    const forced = await echelon(['restore', 'tree', '--to', whole, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(sha256(await readFile(path.join(whole, 'a.txt')))).toBe(sha256(changed));
    expect(sha256(await readFile(path.join(whole, 'media/clip.bin')))).toBe(sha256(files['media/clip.bin'] as Buffer));
    // No temporary file is left behind.
    expect([...(await treeOf(whole)).keys()].filter((name) => name.includes('echelon-partial'))).toEqual([]);

    const missing = await echelon(['restore', 'tree', '--path', 'no/such', '--to', path.join(work, 'nowhere')]);
    expect(missing.code).toBe(5);
    expect(missing.stderr).toContain('"no/such" is not a file or directory of this version');
  });

  it('Ctrl-C mid-upload and kill -9 mid-upload: each next run sends only what the API did not confirm, nothing twice', async () => {
    const counter = await startChunkCounter(env.apiUrl);
    try {
      const file = path.join(work, 'resume.bin');
      const bytes = randomBytes(40 * MIB);
      await writeFile(file, bytes);
      const all = new Map<string, number>();
      await scanSource(file, {
        onChunks: async (chunks) => {
          for (const chunk of chunks) all.set(chunk.hash, chunk.length);
        },
      });
      const viaCounter = { ...direct, ECHELON_API_URL: counter.url };
      const args = ['backup', file, '--dataset', 'resume', '--no-wait', '--json'];

      // Run 1: one batch reaches the API, the others hang; Ctrl-C.
      counter.holdAfter(1);
      const interrupted = startEchelon(args, { env: viaCounter });
      await eventually(() => counter.stored.length === 1 && counter.heldCount() > 0, 'a batch stored, others held');
      interrupted.child.kill('SIGINT');
      const firstRun = await interrupted.done;
      expect(firstRun.code, firstRun.stderr).toBe(130);
      const firstReport = jsonOf<ErrorJson & { sentBytes: number; sentChunks: number }>(firstRun);
      expect(firstReport.error.code).toBe('INTERRUPTED');
      expect(firstReport.sentBytes).toBe(counter.stored[0]?.bytes);

      // Run 2: one more batch, then kill -9 (no chance to clean up).
      counter.holdAfter(1);
      const killed = startEchelon(args, { env: viaCounter });
      await eventually(() => counter.stored.length === 2 && counter.heldCount() > 0, 'a second batch stored');
      killed.child.kill('SIGKILL');
      expect((await killed.done).signal).toBe('SIGKILL');

      // Run 3: the rest, and the backup is requested.
      counter.holdAfter(undefined);
      const finished = await runEchelon(args, { env: viaCounter });
      expect(finished.code, finished.stderr).toBe(0);
      const report = jsonOf<BackupJson>(finished);

      const sent = counter.stored.flatMap((batch) => batch.hashes);
      expect(new Set(sent).size).toBe(sent.length);
      expect(new Set(sent)).toEqual(new Set(all.keys()));
      expect(counter.stored.length).toBeGreaterThanOrEqual(3);
      const sentBytes = counter.stored.reduce((sum, batch) => sum + batch.bytes, 0);
      expect(sentBytes).toBe(bytes.length);
      expect(report.upload.sentBytes).toBe(
        bytes.length - (counter.stored[0]?.bytes ?? 0) - (counter.stored[1]?.bytes ?? 0),
      );

      // The backup that was requested completes; `watch` follows it to the end over graphql-ws.
      const watched = await echelon(['watch', report.job.id]);
      expect(watched.code, watched.stderr).toBe(0);
      expect(watched.stderr).toMatch(/copy 2\/2 \(secondary\) on two: COMPLETED/);
      const restored = path.join(work, 'restored-resume');
      expect((await echelon(['restore', 'resume', '--to', restored])).code).toBe(0);
      expect(sha256(await readFile(path.join(restored, 'resume.bin')))).toBe(sha256(bytes));
    } finally {
      await counter.stop();
    }
  });

  it('answers each typed error with its message, advice and exit status, and changes nothing', async () => {
    const jobsBefore = jsonOf<{ totalCount: number }>(await echelon(['jobs', '--json'])).totalCount;

    const unknown = await echelon(['restore', 'no-such-dataset', '--to', path.join(work, 'x')]);
    expect(unknown.code).toBe(5);
    expect(unknown.stderr).toContain('Nothing by that name is visible to this key');
    const unknownJson = jsonOf<ErrorJson>(await echelon(['restore', 'no-such-dataset', '--to', work, '--json']));
    expect(unknownJson.error).toMatchObject({ code: 'NOT_FOUND', exitCode: 5 });
    expect(unknownJson.error.message).toContain('no-such-dataset');
    expect((await echelon(['status', '0b4c3c2e-8f7a-4d2e-9a51-2f7e1c9d3b10'])).code).toBe(5);

    const badKey = await echelon(['jobs'], { ECHELON_API_KEY: 'ek_not-a-key' });
    expect(badKey.code).toBe(3);
    expect(badKey.stderr).toContain('run `echelon login` with a valid one');

    const absent = await echelon(['backup', path.join(work, 'does-not-exist'), '--json']);
    expect(absent.code).toBe(2);
    expect(jsonOf<ErrorJson>(absent).error).toMatchObject({ code: 'BAD_USER_INPUT', exitCode: 2 });
    const badKeyName = await echelon(['backup', work, '--dataset', '../escape']);
    expect(badKeyName.code).toBe(2);
    expect(badKeyName.stderr).toContain('--dataset "../escape" is not valid');
    expect((await echelon(['jobs', '--first', '0'])).code).toBe(2);
    expect((await echelon(['frobnicate'])).code).toBe(2);

    const { createIdentity } = await gqlOk<{ createIdentity: { id: string } }>(
      env.apiUrl,
      seeded.apiKey,
      'mutation($input: CreateIdentityInput!) { createIdentity(input: $input) { id } }',
      { input: { externalId: 'auditor', displayName: 'An auditor', roles: ['AUDITOR'] } },
    );
    const { createApiKey } = await gqlOk<{ createApiKey: { secret: string } }>(
      env.apiUrl,
      seeded.apiKey,
      'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }',
      { input: { identityId: createIdentity.id, name: 'auditor key' } },
    );
    const auditor = await echelon(['restore', 'single', '--to', path.join(work, 'auditor')], {
      ECHELON_API_KEY: createApiKey.secret,
    });
    expect(auditor.code).toBe(4);
    expect(auditor.stderr).toContain("This key's roles do not allow it");

    const unreachable = await echelon(['jobs'], { ECHELON_API_URL: 'http://127.0.0.1:9' });
    expect(unreachable.code).toBe(10);
    expect(unreachable.stderr).toContain('the API cannot be reached');

    expect(jsonOf<{ totalCount: number }>(await echelon(['jobs', '--json'])).totalCount).toBe(jobsBefore);
  });

  it('previews, lists jobs, datasets and history, shows a job, and has a manual page per command', async () => {
    const file = path.join(work, 'preview.bin');
    await writeFile(file, randomBytes(MIB));
    const preview = await echelon(['preview', file, '--json']);
    expect(preview.code, preview.stderr).toBe(0);
    expect(jsonOf(preview)).toMatchObject({
      sizeBytes: MIB,
      files: 1,
      scheme: { copies: 2, primary: { name: 'one' }, secondaries: [{ name: 'two' }] },
    });
    expect(jsonOf<{ scheme: { plannedOffsetsSeconds: number[] } }>(preview).scheme.plannedOffsetsSeconds).toMatchObject(
      {
        0: 0,
        length: 2,
      },
    );
    const previewText = await echelon(['preview', file]);
    expect(previewText.stdout).toMatch(/T1\+0s\s+1 primary\s+one/);

    const jobs = jsonOf<{ jobs: JobJson[] }>(await echelon(['jobs', '--dataset', 'single', '--json']));
    expect(jobs.jobs.map((job) => job.version)).toEqual([2, 1]);
    const jobList = await echelon(['jobs', '--status', 'completed']);
    expect(jobList.code).toBe(0);
    expect(jobList.stdout).toMatch(/single\s+v2\s+COMPLETED\s+2\/2/);

    const datasets = await echelon(['datasets']);
    expect(datasets.code).toBe(0);
    expect(datasets.stdout).toMatch(/single\s+admin\s+2\s+v2\s+3\.00 MiB\s+2\/2\s+yes/);

    const history = jsonOf<{ events: { jobId: string; status: string }[] }>(
      await echelon(['history', '--dataset', 'single', '--json']),
    );
    expect(history.events.filter((event) => event.status === 'COMPLETED')).toHaveLength(4);

    const [newest] = jobs.jobs;
    const status = await echelon(['status', newest?.id ?? '']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/copy 2\/2 \(secondary\) on two\s+COMPLETED/);
    expect(jsonOf<JobJson>(await echelon(['status', newest?.id ?? '', '--json'])).status).toBe('COMPLETED');

    for (const command of ['login', 'backup', 'preview', 'jobs', 'status', 'watch', 'datasets', 'history', 'restore']) {
      const help = await echelon([command, '--help']);
      expect(help.code, command).toBe(0);
      expect(help.stdout, command).toContain('DESCRIPTION');
      expect(help.stdout, command).toContain('EXAMPLES');
      expect(help.stdout, command).toContain('130  interrupted');
    }
  });
});
