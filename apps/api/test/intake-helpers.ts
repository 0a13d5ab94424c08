import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Db, SeededTenant } from '@echelon/db';
import { chunkStream } from '@echelon/storage';

export const MIB = 1024 * 1024;
export const TUS = { 'tus-resumable': '1.0.0' };
export const auth = (key: string) => ({ authorization: `Bearer ${key}` });
export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The content-defined chunks of `bytes`, as the server must cut them whatever the PATCHes were. */
export async function chunksOf(bytes: Buffer): Promise<{ hash: string; length: number; bytes: Buffer }[]> {
  const chunks: { hash: string; length: number; bytes: Buffer }[] = [];
  for await (const chunk of chunkStream([bytes]))
    chunks.push({ hash: chunk.hash, length: chunk.length, bytes: chunk.bytes });
  return chunks;
}

/** The chunk directory of a tenant in one of its spaces (docs/data-layout.md). */
export async function chunkDirOf(db: Db, tenantId: string, spaceId: string): Promise<string> {
  const space = await db.backupSpace.findUniqueOrThrow({ where: { id: spaceId }, include: { storageSystem: true } });
  const root = (space.storageSystem.config as { root: string }).root;
  return path.join(root, space.name, 'tenants', tenantId, 'chunks');
}

/** The tenant's primary space (seeded with one space per system). */
export function primarySpaceOf(seeded: SeededTenant): string {
  const primary = seeded.storageSystems.find((system) => system.id === seeded.template.primaryStorageSystemId);
  const space = primary?.spaces[0];
  if (space === undefined) throw new Error('the seeded primary has no space');
  return space.id;
}

/** Every chunk file under a chunk directory, by hash (`.partial` writes left out). */
export async function chunkFiles(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const prefix of await readdir(dir).catch(() => [] as string[])) {
    if (prefix === '.partial') continue;
    for (const name of await readdir(path.join(dir, prefix))) files.set(name, path.join(dir, prefix, name));
  }
  return files;
}

export const readChunk = (dir: string, hash: string) => readFile(path.join(dir, hash.slice(0, 2), hash));
