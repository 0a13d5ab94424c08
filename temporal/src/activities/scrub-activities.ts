import { Context } from '@temporalio/activity';
import {
  type Actor,
  type BackupSpace,
  type ChunkHolder,
  type CommittedReplica,
  chunkHolders,
  committedReplica,
  committedReplicasOn,
  forgetStoredChunk,
  listStorageSystems,
  markReplicaDegraded,
  markReplicaRepaired,
  recordStoredChunks,
  replicaHealth,
  replicaLackingChunks,
  replicasNamingChunk,
  type StorageSystemWithSpaces,
  scrubTargets,
  spaceMissingChunks,
  storedChunksAfter,
  storedChunksIn,
} from '@echelon/db';
import { DomainError, isDomainError } from '@echelon/domain';
import {
  ChecksumMismatchError,
  ChunkCorruptError,
  ChunkMissingError,
  ChunkUnavailableError,
  readFirstWhole,
  type ChunkRepository,
  versionManifest,
} from '@echelon/storage';
import type {
  ReplicaCheckResult,
  ScrubChunksResult,
  ScrubCursor,
  ScrubSystemInput,
  VerifyReplicaInput,
} from '../scrub-shared.js';
import { type ActivityEnv, guarded } from './activity-support.js';
import { copyPacer } from './copy-attempt.js';

/** Index rows read at once while scanning a space. */
const PAGE = 256;
/** One scan activity returns after this long with its cursor, so a pass is many bounded steps in the history. */
const SLICE_MS = 2 * 60 * 1000;
/** Repaired chunks made durable (flushed, recorded) together: an S3 repair writes one pack per batch. */
const REPAIR_BATCH = 32;
/** Chunks named in a message at most; the count says how many more. */
const NAMED_AT_MOST = 5;

const SCRUB_ACTOR: Actor = { identityId: null, label: 'scrub' };

/** What a scan reports in heartbeats, so a retried attempt resumes after the last chunk it read. */
interface ScanHeartbeat {
  cursor: ScrubCursor | null;
  chunks: number;
  bytes: number;
  badChunks: number;
  elapsedMs: number;
}

interface Place {
  system: StorageSystemWithSpaces;
  space: BackupSpace;
  label: string;
}

/** Every [hash, length] a copy's version names, each once, in stream order. */
function chunkRefsOfContents(replica: CommittedReplica): { hash: string; length: number }[] {
  const lengths = new Map<string, number>();
  for (const entry of replica.contents.entries) {
    for (const [hash, length] of entry.chunks) if (!lengths.has(hash)) lengths.set(hash, length);
  }
  return [...lengths].map(([hash, length]) => ({ hash, length }));
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** "a, b, c and 4 more" */
function nameChunks(hashes: readonly string[]): string {
  const named = hashes.slice(0, NAMED_AT_MOST).join(', ');
  return hashes.length > NAMED_AT_MOST ? `${named} and ${hashes.length - NAMED_AT_MOST} more` : named;
}

/** The read found the chunk bad (not merely unreachable storage, which a retry may get past). */
const badCopyOf = (error: unknown): 'corrupt' | 'missing' | undefined =>
  error instanceof ChunkCorruptError ? 'corrupt' : error instanceof ChunkMissingError ? 'missing' : undefined;

/**
 * The scrub and the repair (docs/data-layout.md, "Scrub"): a pass of one storage system re-reads every chunk the
 * index says each of its spaces holds (each read verifies) and every committed manifest there; a bad copy is
 * forgotten in the index and makes every committed copy there that names it DEGRADED; a DEGRADED copy gets its
 * bad chunks back from a healthy holder and is COMPLETED again. `verifyReplica` checks one copy the same way.
 */
export function createScrubActivities(env: ActivityEnv) {
  const { as } = env;
  const bytesPerSecond = env.deps.scrubBytesPerSecond;

  const placesOf = (systems: readonly StorageSystemWithSpaces[]) => {
    const places = new Map<string, Place>();
    for (const system of systems) {
      for (const space of system.spaces) places.set(space.id, { system, space, label: `${system.name}/${space.name}` });
    }
    return places;
  };

  const repositories = (tenantId: string) => {
    const opened = new Map<string, ChunkRepository>();
    return (place: Place): ChunkRepository => {
      let repository = opened.get(place.space.id);
      if (repository === undefined) {
        repository = env.repositoryOf(place.system, place.space.name, tenantId);
        opened.set(place.space.id, repository);
      }
      return repository;
    };
  };

  /**
   * A copy of `hash` in `place` is bad: the index forgets it there, and every committed copy in that space whose
   * version names the chunk is DEGRADED, its event naming the chunk. Returns how many copies that degraded.
   */
  const recordBadCopy = async (
    tenantId: string,
    place: Place,
    hash: string,
    what: 'corrupt' | 'missing',
    foundBy: string,
    actor: Actor,
  ): Promise<number> => {
    const db = as(tenantId);
    await forgetStoredChunk(db, tenantId, place.space.id, hash);
    let degraded = 0;
    for (const replica of await replicasNamingChunk(db, tenantId, place.space.id, hash)) {
      const isMoved = await markReplicaDegraded(db, {
        tenantId,
        replicaId: replica.id,
        lastError: `chunk ${hash} is ${what} on ${place.label}; a repair from another copy follows`,
        message: `${foundBy} found chunk ${hash} ${what} on ${place.label} (the index no longer counts it there)`,
        actor,
        chunks: [hash],
      });
      if (isMoved) degraded += 1;
    }
    return degraded;
  };

  /** What is wrong with a copy's manifest on its storage, in words; null when it reads back as committed. */
  const manifestProblem = async (
    repository: ChunkRepository,
    replica: CommittedReplica,
    place: Place,
  ): Promise<{ problem: string; isMissing: boolean } | null> => {
    try {
      const { manifest } = await repository.readManifest(replica.datasetKey, replica.version.number, {
        expectedId: replica.manifestId,
      });
      if (manifest.sha256 === replica.version.sha256) return null;
      return {
        problem: `on ${place.label} names sha256 ${manifest.sha256}, not ${replica.version.sha256}`,
        isMissing: false,
      };
    } catch (error) {
      if (isDomainError(error) && error.code === 'NOT_FOUND')
        return { problem: `is missing on ${place.label}`, isMissing: true };
      if (isDomainError(error) || error instanceof ChecksumMismatchError) {
        return { problem: `is damaged on ${place.label}: ${describe(error)}`, isMissing: false };
      }
      throw error;
    }
  };

  const placeOfReplica = async (replica: CommittedReplica) => {
    const systems = await listStorageSystems(as(replica.tenantId), replica.tenantId);
    const places = placesOf(systems);
    const place = places.get(replica.spaceId);
    if (place === undefined) throw new DomainError('NOT_FOUND', `backup space ${replica.spaceId} does not exist`);
    return { place, places };
  };

  const versionLabel = (replica: CommittedReplica) => `version ${replica.version.number} of ${replica.datasetKey}`;

  /**
   * Puts a DEGRADED copy's missing chunks back: each is read (verified) from another space that holds it, on
   * healthy storage first, and put into the copy's space (which verifies it) after the bad copy there is deleted;
   * a missing manifest is committed again once every chunk is there. COMPLETED again when nothing is left to put
   * back, else DEGRADED with a lastError naming the chunks no space holds whole.
   */
  const repair = async (tenantId: string, replicaId: string, actor: Actor): Promise<ReplicaCheckResult> => {
    const db = as(tenantId);
    const replica = await committedReplica(db, tenantId, replicaId);
    if (replica === null || replica.status !== 'DEGRADED') return current(tenantId, replicaId, 0);
    const { place, places } = await placeOfReplica(replica);
    const repositoryOf = repositories(tenantId);
    const destination = repositoryOf(place);
    const lacking = await replicaLackingChunks(db, tenantId, replica.id);
    const holders = await chunkHolders(
      db,
      tenantId,
      lacking.map((chunk) => chunk.hash),
    );
    const healthFirst = (list: readonly ChunkHolder[]) =>
      list
        .filter((holder) => holder.spaceId !== place.space.id && places.has(holder.spaceId))
        .sort(
          (a, b) =>
            Number(places.get(a.spaceId)?.system.healthy === false) -
              Number(places.get(b.spaceId)?.system.healthy === false) || a.spaceId.localeCompare(b.spaceId),
        );
    const context = Context.current();
    const from = new Set<string>();
    const lost: string[] = [];
    const unreadable: string[] = [];
    let repaired = 0;
    let unflushed = 0;
    const flush = async () => {
      await recordStoredChunks(db, tenantId, place.space.id, await destination.flush());
      unflushed = 0;
    };
    for (const chunk of lacking) {
      let bytes: Buffer | undefined;
      let source: string | undefined;
      const candidates = healthFirst(holders.get(chunk.hash) ?? []).map((holder) => {
        const holderPlace = places.get(holder.spaceId) as Place;
        return {
          spaceId: holder.spaceId,
          label: holderPlace.label,
          repository: repositoryOf(holderPlace),
          location: holder.location,
        };
      });
      const bad = new Set<string>();
      try {
        const read = await readFirstWhole(chunk.hash, chunk.length, candidates, async (candidate, problem, kind) => {
          bad.add(problem);
          await recordBadCopy(tenantId, places.get(candidate.spaceId) as Place, chunk.hash, kind, 'a repair', actor);
        });
        bytes = read.bytes;
        source = read.from.label;
      } catch (error) {
        if (!(error instanceof ChunkUnavailableError)) throw error;
        unreadable.push(...error.problems.filter((problem) => !bad.has(problem)));
      }
      if (bytes === undefined) {
        // No other holder: the copy's own bytes, should they still read whole (the index may have forgotten a
        // chunk a transient read error was taken for).
        bytes = await destination
          .get({ hash: chunk.hash, length: chunk.length, location: null })
          .catch(() => undefined);
        source = bytes === undefined ? undefined : place.label;
      }
      if (bytes === undefined || source === undefined) {
        lost.push(chunk.hash);
        continue;
      }
      // The bad copy goes first: a put never replaces a chunk already there.
      await destination.delete({ hash: chunk.hash, length: chunk.length, location: null });
      await destination.put(chunk.hash, bytes);
      from.add(source);
      repaired += 1;
      unflushed += 1;
      context.heartbeat({ repaired, lost: lost.length });
      if (unflushed >= REPAIR_BATCH) await flush();
    }
    await flush();

    let manifest = await manifestProblem(destination, replica, place);
    if (manifest?.isMissing && lost.length === 0) {
      const built = versionManifest({
        tenantId,
        datasetKey: replica.datasetKey,
        version: replica.version.number,
        createdAt: replica.version.createdAt,
        contents: replica.contents,
      });
      await destination.commitManifest(built, (hashes) => spaceMissingChunks(db, tenantId, place.space.id, hashes));
      manifest = await manifestProblem(destination, replica, place);
    }
    const sources = from.size > 0 ? [...from].sort().join(', ') : 'no other copy';
    if (lost.length === 0 && manifest === null) {
      await markReplicaRepaired(db, {
        tenantId,
        replicaId: replica.id,
        message: `repaired ${repaired} ${repaired === 1 ? 'chunk' : 'chunks'} from ${sources}; every chunk of ${versionLabel(replica)} is held here again`,
        actor,
        chunks: lacking.map((chunk) => chunk.hash),
      });
      return current(tenantId, replicaId, 0);
    }
    const why = [
      lost.length > 0
        ? `${lost.length} ${lost.length === 1 ? 'chunk is' : 'chunks are'} lost, held whole by no backup space of the tenant: ${nameChunks(lost)}`
        : '',
      manifest === null ? '' : `the manifest ${manifest.problem}`,
      unreadable.length > 0 ? `unreadable: ${unreadable.slice(0, 3).join('; ')}` : '',
    ].filter((part) => part !== '');
    const lastError = `${why.join('; ')}${repaired > 0 ? `; repaired ${repaired} other chunks from ${sources}` : ''}`;
    await markReplicaDegraded(db, {
      tenantId,
      replicaId: replica.id,
      lastError,
      message: `the repair could not restore every chunk: ${lastError}`,
      actor,
      chunks: lost,
    });
    return current(tenantId, replicaId, lost.length + (manifest === null ? 0 : 1));
  };

  const current = async (tenantId: string, replicaId: string, problems: number): Promise<ReplicaCheckResult> => {
    const health = await replicaHealth(as(tenantId), tenantId, replicaId);
    if (health === null) throw new DomainError('NOT_FOUND', `replica ${replicaId} does not exist in this tenant`);
    return { status: health.status, lastError: health.lastError, problems };
  };

  /** A committed copy whose space's index lacks chunks its version names: DEGRADED (it needs a repair). */
  const degradeLacking = async (replica: CommittedReplica, place: Place, foundBy: string, actor: Actor) => {
    const db = as(replica.tenantId);
    const lacking = await replicaLackingChunks(db, replica.tenantId, replica.id);
    if (lacking.length === 0) return { lacking: 0, isDegraded: false };
    const hashes = lacking.map((chunk) => chunk.hash);
    const isDegraded = await markReplicaDegraded(db, {
      tenantId: replica.tenantId,
      replicaId: replica.id,
      lastError: `${hashes.length} ${hashes.length === 1 ? 'chunk' : 'chunks'} of its manifest ${hashes.length === 1 ? 'is' : 'are'} not held by ${place.label}: ${nameChunks(hashes)}; a repair from another copy follows`,
      message: `${foundBy} found ${hashes.length === 1 ? 'chunk' : 'chunks'} ${nameChunks(hashes)} of ${versionLabel(replica)} not held by ${place.label} (found bad by an earlier read)`,
      actor,
      chunks: hashes,
    });
    return { lacking: hashes.length, isDegraded };
  };

  const degradeManifest = (replica: CommittedReplica, problem: string, foundBy: string, actor: Actor) =>
    markReplicaDegraded(as(replica.tenantId), {
      tenantId: replica.tenantId,
      replicaId: replica.id,
      lastError: `the manifest of ${versionLabel(replica)} ${problem}`,
      message: `${foundBy} found the manifest of ${versionLabel(replica)} ${problem}`,
      actor,
      chunks: [],
    });

  return {
    /** Every storage system of every tenant, and how often a pass of each starts (0: the scrub is off). */
    async listScrubTargets(): Promise<{ targets: ScrubSystemInput[]; intervalSeconds: number }> {
      return guarded(async () => ({
        targets: await scrubTargets(env.deps.db),
        intervalSeconds: env.deps.scrubIntervalSeconds ?? 0,
      }));
    },

    /**
     * One slice of a pass's chunk scan: from `cursor` (or from where a crashed attempt's heartbeat says it got to),
     * every chunk the index says each space of the system holds, in space-id and hash order, read and verified at
     * the configured rate. Returns after SLICE_MS with the cursor, or once the last space is read.
     */
    async scrubChunks(input: ScrubSystemInput & { cursor: ScrubCursor | null }): Promise<ScrubChunksResult> {
      return guarded(async () => {
        const { tenantId } = input;
        const db = as(tenantId);
        const context = Context.current();
        const resumed = context.info.heartbeatDetails as ScanHeartbeat | undefined;
        const tally: ScanHeartbeat = resumed ?? {
          cursor: input.cursor,
          chunks: 0,
          bytes: 0,
          badChunks: 0,
          elapsedMs: 0,
        };
        const systems = await listStorageSystems(db, tenantId);
        const system = systems.find((candidate) => candidate.id === input.storageSystemId);
        const finished = () => ({ isDone: true, ...tally, cursor: null });
        if (system === undefined) return finished();
        const places = placesOf([system]);
        const repositoryOf = repositories(tenantId);
        const spaces = [...system.spaces].sort((a, b) => a.id.localeCompare(b.id));
        const startedAt = Date.now();
        const elapsedBefore = tally.elapsedMs;
        const pacer = copyPacer(bytesPerSecond);
        const beat = () => {
          tally.elapsedMs = elapsedBefore + (Date.now() - startedAt);
          context.heartbeat(tally);
        };
        for (const space of spaces) {
          const cursor = tally.cursor;
          if (cursor !== null && space.id < cursor.spaceId) continue;
          const place = places.get(space.id) as Place;
          const repository = repositoryOf(place);
          let after = cursor !== null && cursor.spaceId === space.id ? cursor.afterHash : null;
          for (;;) {
            const page = await storedChunksAfter(db, tenantId, space.id, after, PAGE);
            if (page.length === 0) break;
            for (const chunk of page) {
              try {
                await repository.get(chunk);
              } catch (error) {
                const what = badCopyOf(error);
                if (what === undefined) throw error;
                tally.badChunks += 1;
                await recordBadCopy(tenantId, place, chunk.hash, what, 'the scrub', SCRUB_ACTOR);
              }
              tally.chunks += 1;
              tally.bytes += chunk.length;
              after = chunk.hash;
              tally.cursor = { spaceId: space.id, afterHash: after };
              beat();
              // Paced after the read, so a check starts at once and the average stays within the rate.
              await pacer.take(chunk.length);
              if (Date.now() - startedAt >= SLICE_MS) {
                beat();
                return { isDone: false, ...tally };
              }
            }
          }
        }
        beat();
        return finished();
      });
    },

    /**
     * Every committed manifest on the system, read back against the id its copy recorded; a copy whose manifest is
     * missing or damaged, or whose space's index lacks chunks its version names (found bad by a restore or an
     * earlier read), is DEGRADED.
     */
    async scrubManifests(input: ScrubSystemInput): Promise<{ manifests: number; degraded: number }> {
      return guarded(async () => {
        const { tenantId } = input;
        const db = as(tenantId);
        const systems = await listStorageSystems(db, tenantId);
        const places = placesOf(systems.filter((system) => system.id === input.storageSystemId));
        const repositoryOf = repositories(tenantId);
        const context = Context.current();
        let manifests = 0;
        let degraded = 0;
        for (const replica of await committedReplicasOn(db, tenantId, input.storageSystemId)) {
          const place = places.get(replica.spaceId);
          if (place === undefined) continue;
          context.heartbeat({ manifests });
          manifests += 1;
          const manifest = await manifestProblem(repositoryOf(place), replica, place);
          if (manifest !== null) {
            if (await degradeManifest(replica, manifest.problem, 'the scrub', SCRUB_ACTOR)) degraded += 1;
            continue;
          }
          if (replica.status !== 'COMPLETED') continue;
          if ((await degradeLacking(replica, place, 'the scrub', SCRUB_ACTOR)).isDegraded) degraded += 1;
        }
        return { manifests, degraded };
      });
    },

    /** Repairs every DEGRADED copy on the system (see `repair`). */
    async repairDegraded(input: ScrubSystemInput): Promise<{ repaired: number; unrepaired: number }> {
      return guarded(async () => {
        const { tenantId } = input;
        let repaired = 0;
        let unrepaired = 0;
        for (const replica of await committedReplicasOn(as(tenantId), tenantId, input.storageSystemId)) {
          if (replica.status !== 'DEGRADED') continue;
          const result = await repair(tenantId, replica.id, SCRUB_ACTOR);
          if (result.status === 'COMPLETED') repaired += 1;
          else unrepaired += 1;
        }
        return { repaired, unrepaired };
      });
    },

    /**
     * verifyReplica's check of one committed copy: its manifest read back against its id, then every chunk it names
     * read from the copy's space and verified (at the scrub's rate). Damage found makes it DEGRADED (a repair
     * follows); a healthy copy is left as it is, with no new history.
     */
    async checkReplica(input: VerifyReplicaInput): Promise<ReplicaCheckResult> {
      return guarded(async () => {
        const { tenantId, replicaId } = input;
        const db = as(tenantId);
        const replica = await committedReplica(db, tenantId, replicaId);
        if (replica === null) {
          const health = await replicaHealth(db, tenantId, replicaId);
          if (health === null) throw new DomainError('NOT_FOUND', `replica ${replicaId} does not exist in this tenant`);
          throw new DomainError(
            'CONFLICT',
            `replica ${replicaId} is ${health.status} without a committed manifest; only a COMPLETED or DEGRADED chunked copy can be verified`,
          );
        }
        const { place } = await placeOfReplica(replica);
        const repository = env.repositoryOf(place.system, place.space.name, tenantId);
        const foundBy = `verifyReplica (${input.actor.label})`;
        let problems = 0;
        const findings: string[] = [];
        const manifest = await manifestProblem(repository, replica, place);
        if (manifest !== null) {
          problems += 1;
          findings.push(`the manifest ${manifest.problem}`);
          await degradeManifest(replica, manifest.problem, foundBy, input.actor);
        }
        const refs = chunkRefsOfContents(replica);
        const located = await storedChunksIn(
          db,
          tenantId,
          place.space.id,
          refs.map((ref) => ref.hash),
        );
        const pacer = copyPacer(bytesPerSecond);
        const context = Context.current();
        let checked = 0;
        for (const ref of refs) {
          const indexed = located.get(ref.hash);
          if (indexed === undefined) continue;
          try {
            await repository.get(indexed);
          } catch (error) {
            const what = badCopyOf(error);
            if (what === undefined) throw error;
            problems += 1;
            findings.push(`chunk ${ref.hash} is ${what} on ${place.label}`);
            await recordBadCopy(tenantId, place, ref.hash, what, foundBy, input.actor);
          }
          checked += 1;
          context.heartbeat({ checked });
          await pacer.take(ref.length);
        }
        // Chunks the index had already stopped counting here (found bad before, or by this check).
        const lacking = refs.filter((ref) => !located.has(ref.hash));
        problems += lacking.length;
        if (lacking.length > 0) {
          findings.push(`chunks ${nameChunks(lacking.map((ref) => ref.hash))} are not held by ${place.label}`);
          await degradeLacking(replica, place, foundBy, input.actor);
        }
        const after = await current(tenantId, replicaId, problems);
        if (problems === 0 || after.status === 'DEGRADED') return after;
        // A scrub pass repairing beside this check already put back what it found: the check's finding stands.
        return {
          status: 'DEGRADED',
          lastError: `${findings.join('; ')} (repaired meanwhile by a scrub pass)`,
          problems,
        };
      });
    },

    /** Repairs one DEGRADED copy (after verifyReplica found damage). */
    async repairReplica(input: VerifyReplicaInput): Promise<ReplicaCheckResult> {
      return guarded(() => repair(input.tenantId, input.replicaId, input.actor));
    },
  };
}

export type ScrubActivities = ReturnType<typeof createScrubActivities>;
