import { type Db, Prisma } from '../client.js';

export type ChainName = 'replica_events' | 'audit_entries';

export interface BrokenLink {
  chain: ChainName;
  /** The chain position where the break shows. */
  sequence: number;
  rowId: string;
  reason: string;
}

export interface ChainReport {
  checkedEvents: number;
  checkedAuditEntries: number;
  /** The first break: replica events before audit entries, each in chain order. */
  firstBrokenLink: BrokenLink | null;
  /** Every break in both chains, in that order, at most `MAX_REPORTED_BREAKS`. */
  brokenLinks: BrokenLink[];
  /** All breaks found, also those past the reported ones. */
  brokenLinkCount: number;
}

interface ChainRow {
  id: string;
  chain_seq: bigint | null;
  prev_hash: string | null;
  row_hash: string | null;
  recomputed: string | null;
}

const BATCH = 5000;

/** A tampered chain can break at every row; the report names this many and counts the rest. */
export const MAX_REPORTED_BREAKS = 100;

type Reader = Pick<Db, '$queryRaw'>;

const TABLE_SQL = {
  replica_events: Prisma.sql`SELECT r.id::text AS id, r.chain_seq, r.prev_hash, r.row_hash,
             chain_hash(r.prev_hash, replica_event_payload(r)) AS recomputed
        FROM replica_events r`,
  audit_entries: Prisma.sql`SELECT r.id::text AS id, r.chain_seq, r.prev_hash, r.row_hash,
             chain_hash(r.prev_hash, audit_entry_payload(r)) AS recomputed
        FROM audit_entries r`,
} as const;

/** The rows of one chain that carry no position: inserted around the chain trigger. */
function readUnlinked(db: Reader, chain: ChainName, tenantId: string): Promise<ChainRow[]> {
  return db.$queryRaw<ChainRow[]>`${TABLE_SQL[chain]}
       WHERE r.tenant_id = ${tenantId}::uuid AND r.chain_seq IS NULL ORDER BY r.id`;
}

/** Rows of one chain after the position (seq, id), in chain order, with each hash recomputed by the database. */
function readBatch(db: Reader, chain: ChainName, tenantId: string, after: { seq: bigint; id: string }) {
  return db.$queryRaw<ChainRow[]>`${TABLE_SQL[chain]}
       WHERE r.tenant_id = ${tenantId}::uuid AND r.chain_seq IS NOT NULL
         AND (r.chain_seq, r.id::text) > (${after.seq}, ${after.id})
       ORDER BY r.chain_seq, r.id::text LIMIT ${BATCH}`;
}

const GENESIS = '0'.repeat(64);

/**
 * Walks one tenant chain in order and reports every place where it does not hold: a row outside the chain, a
 * missing, duplicated or reordered row, a row that does not link to its predecessor, a row whose content no
 * longer matches its hash, and rows missing at the end (compared with the chain head). After a break the walk
 * goes on from the row as stored, so one change is reported once and the breaks after it are still found.
 */
async function verifyChain(
  db: Reader,
  chain: ChainName,
  tenantId: string,
  found: (link: BrokenLink) => void,
): Promise<number> {
  let expectedSeq = 1n;
  let previousHash = GENESIS;
  let checked = 0;
  const broken = (row: ChainRow, reason: string) =>
    found({ chain, sequence: Number(row.chain_seq ?? 0n), rowId: row.id, reason });
  for (const row of await readUnlinked(db, chain, tenantId)) {
    broken(row, 'the row is outside the chain (inserted without its link)');
  }
  let after = { seq: 0n, id: '' };
  for (;;) {
    const rows = await readBatch(db, chain, tenantId, after);
    for (const row of rows) {
      const seq = row.chain_seq as bigint;
      after = { seq, id: row.id };
      if (seq < expectedSeq) {
        broken(row, 'the row repeats a position already taken (duplicated or out of order)');
        continue;
      }
      if (seq > expectedSeq) {
        broken(row, `rows ${expectedSeq}…${seq - 1n} are missing`);
        // The missing row's hash is unknown: this row's link cannot be checked, only its content.
        previousHash = row.prev_hash ?? previousHash;
        expectedSeq = seq;
      }
      if (row.prev_hash !== previousHash) broken(row, 'the row does not link to the previous row');
      if (row.recomputed !== row.row_hash) broken(row, 'the row was changed after it was written');
      previousHash = row.row_hash ?? previousHash;
      expectedSeq += 1n;
      checked += 1;
    }
    if (rows.length < BATCH) break;
  }
  const [head] = await db.$queryRaw<{ seq: bigint; hash: string }[]>`
    SELECT seq, hash FROM chain_heads WHERE tenant_id = ${tenantId}::uuid AND chain = ${chain}`;
  const headSeq = head?.seq ?? 0n;
  if (headSeq !== expectedSeq - 1n) {
    found({
      chain,
      sequence: Number(expectedSeq),
      rowId: '',
      reason:
        headSeq > expectedSeq - 1n
          ? `the chain ends at ${expectedSeq - 1n} but its head says ${headSeq}: rows are missing at the end`
          : `the chain goes on to ${expectedSeq - 1n} but its head says ${headSeq}: rows were added around the chain`,
    });
  } else if (head !== undefined && head.hash !== previousHash) {
    found({
      chain,
      sequence: Number(headSeq),
      rowId: '',
      reason: "the last row's hash is not the one the chain head recorded",
    });
  }
  return checked;
}

/**
 * Verifies both of a tenant's chains, replica events then audit entries, in one read-only snapshot: rows and
 * heads are read as of one instant, so writers committing meanwhile (a running job, an admin change) can
 * never look like missing rows.
 */
export async function verifyTenantChains(db: Db, tenantId: string): Promise<ChainReport> {
  const brokenLinks: BrokenLink[] = [];
  let brokenLinkCount = 0;
  const found = (link: BrokenLink) => {
    brokenLinkCount += 1;
    if (brokenLinks.length < MAX_REPORTED_BREAKS) brokenLinks.push(link);
  };
  const [checkedEvents, checkedAuditEntries] = await db.$transaction(
    async (tx) => {
      await tx.$executeRaw`SET TRANSACTION READ ONLY`;
      const events = await verifyChain(tx, 'replica_events', tenantId, found);
      const audit = await verifyChain(tx, 'audit_entries', tenantId, found);
      return [events, audit] as const;
    },
    { isolationLevel: Prisma.TransactionIsolationLevel.RepeatableRead, maxWait: 30_000, timeout: 10 * 60_000 },
  );
  return { checkedEvents, checkedAuditEntries, firstBrokenLink: brokenLinks[0] ?? null, brokenLinks, brokenLinkCount };
}
