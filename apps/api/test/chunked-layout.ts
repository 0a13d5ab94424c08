import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Db } from '@echelon/db';
import { expect } from 'vitest';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

interface ManifestOnDisk {
  format: string;
  kind: string;
  tenantId: string;
  datasetKey: string;
  version: number;
  sha256: string;
  entries: { path: string; sha256: string; size: number; chunks: [string, number][] }[];
}

/** The files that make up one committed replica of a chunked version on FILESYSTEM storage. */
export interface ReplicaFiles {
  /** `<space>/tenants/<tenant>`: the tenant's directory in the replica's space. */
  tenantDir: string;
  manifestFile: string;
  /** Every chunk file the manifest names, each once. */
  chunkFiles: string[];
}

/**
 * Checks one replica of a one-object chunked version against the storage alone (docs/data-layout.md): no whole
 * object, the manifest committed in its space under the dataset's key and version, byte for byte the one whose
 * sha256 the replica recorded, naming the version's sha256; every chunk it names a file whose sha256 is its name
 * and whose length is the recorded one, indexed in that space; the chunks, concatenated, `bytes`.
 */
export async function expectChunkedReplica(
  db: Db,
  input: { tenantId: string; replicaId: string; datasetKey: string; version: number; bytes: Buffer },
): Promise<ReplicaFiles> {
  const replica = await db.replica.findUniqueOrThrow({ where: { id: input.replicaId } });
  const label = `replica ${replica.order}`;
  expect(replica.objectKey, `${label} is no whole object`).toBeNull();
  expect(replica.manifestId, `${label} recorded a manifest`).toMatch(/^[0-9a-f]{64}$/);
  expect(replica.checksum, label).toBe(sha256(input.bytes));
  const space = await db.backupSpace.findUniqueOrThrow({
    where: { id: replica.spaceId ?? '' },
    include: { storageSystem: true },
  });
  const root = (space.storageSystem.config as { root: string }).root;
  const tenantDir = path.join(root, space.name, 'tenants', input.tenantId);
  const where = `${space.storageSystem.name}/${space.name}`;

  const manifestFile = path.join(tenantDir, 'manifests', encodeURIComponent(input.datasetKey), `${input.version}.json`);
  const text = await readFile(manifestFile);
  expect(sha256(text), `the manifest on ${where} is the one ${label} committed`).toBe(replica.manifestId);
  const manifest = JSON.parse(text.toString('utf8')) as ManifestOnDisk;
  expect(manifest).toMatchObject({
    format: 'echelon.manifest/1',
    kind: 'object',
    tenantId: input.tenantId,
    datasetKey: input.datasetKey,
    version: input.version,
    sha256: sha256(input.bytes),
  });
  expect(manifest.entries).toHaveLength(1);
  const [entry] = manifest.entries;
  expect(entry?.size).toBe(input.bytes.length);
  expect(entry?.sha256).toBe(sha256(input.bytes));

  const pieces: Buffer[] = [];
  const chunkFiles = new Set<string>();
  for (const [hash, length] of entry?.chunks ?? []) {
    const file = path.join(tenantDir, 'chunks', hash.slice(0, 2), hash);
    const bytes = await readFile(file);
    expect(sha256(bytes), `chunk ${hash} on ${where}`).toBe(hash);
    expect(bytes.length, `chunk ${hash} on ${where}`).toBe(length);
    const indexed = await db.storedChunk.count({ where: { spaceId: space.id, hash } });
    expect(indexed, `the index of ${where} holds chunk ${hash}`).toBe(1);
    pieces.push(bytes);
    chunkFiles.add(file);
  }
  expect(Buffer.concat(pieces).equals(input.bytes), `the chunks on ${where} are the version's bytes`).toBe(true);
  return { tenantDir, manifestFile, chunkFiles: [...chunkFiles] };
}

/** Every file under `dir`, as absolute paths (none when it does not exist). */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const nested = await Promise.all(
    entries.map((entry) => {
      const full = path.join(dir, entry.name);
      return entry.isDirectory() ? filesUnder(full) : Promise.resolve([full]);
    }),
  );
  return nested.flat();
}

/**
 * A write in progress or left by a killed writer: a chunk under `chunks/.partial/`, a manifest as
 * `.partial-<version>.json.<uuid>`. Never a chunk or a committed manifest; the next `put` prunes stale ones.
 */
export const isPartialWrite = (file: string) =>
  file.split(path.sep).includes('.partial') || path.basename(file).startsWith('.partial-');
