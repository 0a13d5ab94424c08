import type { Db } from '../client.js';

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
  firstBrokenLink: BrokenLink | null;
}

interface ChainRow {
  id: string;
  chain_seq: bigint | null;
  prev_hash: string | null;
  row_hash: string | null;
  recomputed: string | null;
}

const BATCH = 5000;

/** Rows of one chain after `afterSeq`, each with its hash recomputed by the database from the stored columns. */
function readBatch(db: Db, chain: ChainName, tenantId: string, afterSeq: bigint): Promise<ChainRow[]> {
  if (chain === 'replica_events') {
    return db.$queryRaw<ChainRow[]>`
      SELECT e.id::text AS id, e.chain_seq, e.prev_hash, e.row_hash,
             chain_hash(e.prev_hash, replica_event_payload(e)) AS recomputed
        FROM replica_events e
       WHERE e.tenant_id = ${tenantId}::uuid AND (e.chain_seq IS NULL OR e.chain_seq > ${afterSeq})
       ORDER BY e.chain_seq NULLS FIRST LIMIT ${BATCH}`;
  }
  return db.$queryRaw<ChainRow[]>`
    SELECT a.id::text AS id, a.chain_seq, a.prev_hash, a.row_hash,
           chain_hash(a.prev_hash, audit_entry_payload(a)) AS recomputed
      FROM audit_entries a
     WHERE a.tenant_id = ${tenantId}::uuid AND (a.chain_seq IS NULL OR a.chain_seq > ${afterSeq})
     ORDER BY a.chain_seq NULLS FIRST LIMIT ${BATCH}`;
}

const GENESIS = '0'.repeat(64);

/**
 * Walks one tenant chain in order and reports the first place where it does not hold: a row outside the
 * chain, a missing or reordered row, a row that does not link to its predecessor, a row whose content no longer
 * matches its hash, or rows missing at the end (compared with the chain head).
 */
async function verifyChain(
  db: Db,
  chain: ChainName,
  tenantId: string,
): Promise<{ checked: number; broken: BrokenLink | null }> {
  let expectedSeq = 1n;
  let previousHash = GENESIS;
  let checked = 0;
  const broken = (row: ChainRow, reason: string): { checked: number; broken: BrokenLink } => ({
    checked,
    broken: { chain, sequence: Number(row.chain_seq ?? expectedSeq), rowId: row.id, reason },
  });
  for (;;) {
    const rows = await readBatch(db, chain, tenantId, expectedSeq - 1n);
    for (const row of rows) {
      if (row.chain_seq === null || row.row_hash === null || row.prev_hash === null) {
        return broken(row, 'the row is outside the chain (inserted without its link)');
      }
      if (row.chain_seq !== expectedSeq) {
        return broken(
          row,
          row.chain_seq > expectedSeq
            ? `rows ${expectedSeq}…${row.chain_seq - 1n} are missing`
            : 'the row is out of order',
        );
      }
      if (row.prev_hash !== previousHash) return broken(row, 'the row does not link to the previous row');
      if (row.recomputed !== row.row_hash) return broken(row, 'the row was changed after it was written');
      previousHash = row.row_hash;
      expectedSeq += 1n;
      checked += 1;
    }
    if (rows.length < BATCH) break;
  }
  const head = await db.chainHead.findUnique({ where: { tenantId_chain: { tenantId, chain } } });
  const headSeq = head?.seq ?? 0n;
  if (headSeq !== expectedSeq - 1n || (head !== null && head.hash !== previousHash)) {
    return {
      checked,
      broken: {
        chain,
        sequence: Number(expectedSeq),
        rowId: '',
        reason: `the chain ends at ${expectedSeq - 1n} but its head says ${headSeq}: rows are missing at the end`,
      },
    };
  }
  return { checked, broken: null };
}

/** Verifies both of a tenant's chains: replica events, then audit entries. */
export async function verifyTenantChains(db: Db, tenantId: string): Promise<ChainReport> {
  const events = await verifyChain(db, 'replica_events', tenantId);
  const audit = await verifyChain(db, 'audit_entries', tenantId);
  return {
    checkedEvents: events.checked,
    checkedAuditEntries: audit.checked,
    firstBrokenLink: events.broken ?? audit.broken,
  };
}
