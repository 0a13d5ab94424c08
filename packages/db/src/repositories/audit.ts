import type { Prisma } from '../generated/prisma/client.js';

type Tx = Prisma.TransactionClient;

/** Who made a change: the identity (when there is one) and a label that survives it. */
export interface Actor {
  identityId: string | null;
  label: string;
}

export interface AuditChange {
  tenantId: string | null;
  action: string;
  objectType: string;
  objectId: string;
  before?: unknown;
  after?: unknown;
}

const SECRET_KEYS = /secret|password|hash|token|credential/i;

/** A JSON copy of a value with every secret-looking field removed and bigints as numbers. */
export function redact(value: unknown): Prisma.InputJsonValue | undefined {
  if (value === undefined || value === null) return undefined;
  return JSON.parse(
    JSON.stringify(value, (key, inner: unknown) => {
      if (key !== '' && SECRET_KEYS.test(key)) return undefined;
      return typeof inner === 'bigint' ? Number(inner) : inner;
    }),
  ) as Prisma.InputJsonValue;
}

/** Appends an audit entry inside the transaction that makes the change, so both land or neither does. */
export async function appendAudit(tx: Tx, actor: Actor, change: AuditChange): Promise<void> {
  const before = redact(change.before);
  const after = redact(change.after);
  await tx.auditEntry.create({
    data: {
      tenantId: change.tenantId,
      actorIdentityId: actor.identityId,
      actor: actor.label,
      action: change.action,
      objectType: change.objectType,
      objectId: change.objectId,
      ...(before === undefined ? {} : { before }),
      ...(after === undefined ? {} : { after }),
    },
  });
}
