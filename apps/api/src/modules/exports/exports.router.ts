import { once } from 'node:events';
import { auditEntriesBatch, historyBatch, historyWhere, tenantDb } from '@echelon/db';
import { DomainError, isUuid } from '@echelon/domain';
import express from 'express';
import { sendHttpError } from '../../http-errors.js';
import { hasPermission, isMemberOnly, type Permission } from '../../auth.js';
import { authenticate, rolesOf, type Services } from '../../context.js';

const BATCH = 1000;

type Row = Record<string, string | number | null>;

/** RFC 4180 field: quoted when it holds a separator, a quote or a line break; formulas defused for spreadsheets. */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text) && typeof value === 'string') text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function query(req: express.Request, name: string): string | undefined {
  const value = req.query[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function dateParam(req: express.Request, name: string): Date | undefined {
  const value = query(req, name);
  if (value === undefined) return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new DomainError('BAD_USER_INPUT', `${name} must be an ISO 8601 date-time`);
  return date;
}

function idParam(req: express.Request, name: string): string | undefined {
  const value = query(req, name);
  if (value !== undefined && !isUuid(value))
    throw new DomainError('BAD_USER_INPUT', `${name} is not an id this API issued`);
  return value;
}

/**
 * Writes rows as CSV or as a JSON array, batch by batch, waiting for the client to drain the socket: memory
 * stays flat however many rows there are.
 */
async function stream(
  res: express.Response,
  format: 'csv' | 'json',
  columns: readonly string[],
  batches: AsyncGenerator<Row[]>,
): Promise<void> {
  const write = async (chunk: string) => {
    if (!res.write(chunk)) await once(res, 'drain');
  };
  await write(format === 'csv' ? `${columns.join(',')}\r\n` : '[');
  let first = true;
  for await (const rows of batches) {
    if (res.destroyed) return;
    const text =
      format === 'csv'
        ? rows.map((row) => `${columns.map((column) => csvField(row[column] ?? null)).join(',')}\r\n`).join('')
        : rows.map((row, index) => `${first && index === 0 ? '' : ','}\n${JSON.stringify(row)}`).join('');
    first = false;
    await write(text);
  }
  await write(format === 'csv' ? '' : '\n]\n');
  res.end();
}

/**
 * Streamed exports for auditors: `/exports/replica-history` and `/exports/audit-entries`, `?format=csv|json`,
 * with the same filters as the GraphQL queries, authenticated like every other request.
 */
export function createExportsRouter(services: Services): express.Router {
  const router = express.Router();
  const guard = async (req: express.Request, permission: Permission) => {
    const principal = await authenticate(services, req.headers.authorization);
    if (principal === undefined) throw new DomainError('UNAUTHENTICATED', 'send Authorization: Bearer <API key>');
    if (principal.kind !== 'identity')
      throw new DomainError('FORBIDDEN', 'exports belong to a tenant; use a tenant identity');
    if (!hasPermission(rolesOf(principal), permission))
      throw new DomainError('FORBIDDEN', `your roles do not allow ${permission}`);
    const format = query(req, 'format') ?? 'csv';
    if (format !== 'csv' && format !== 'json') throw new DomainError('BAD_USER_INPUT', 'format must be csv or json');
    return { principal, format: format as 'csv' | 'json' };
  };
  const begin = (res: express.Response, format: 'csv' | 'json', name: string) => {
    res.status(200);
    res.setHeader('Content-Type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="${name}.${format}"`);
    res.setHeader('Cache-Control', 'no-store');
  };
  const fail = (res: express.Response, error: unknown) => sendHttpError(res, error, 'export');

  router.get('/exports/replica-history', async (req, res) => {
    try {
      const { principal, format } = await guard(req, 'job:read');
      const where = historyWhere(
        principal.tenant.id,
        {
          datasetKey: query(req, 'datasetKey') ?? null,
          identityId: idParam(req, 'identityId') ?? null,
          storageSystemId: idParam(req, 'storageSystemId') ?? null,
          jobId: idParam(req, 'jobId') ?? null,
          since: dateParam(req, 'since') ?? null,
          until: dateParam(req, 'until') ?? null,
        },
        isMemberOnly(principal.identity.roles) ? principal.identity.id : null,
      );
      begin(res, format, 'replica-history');
      async function* batches() {
        let after = 0n;
        for (;;) {
          const rows = await historyBatch(tenantDb(services.db, principal.tenant.id), where, after, BATCH);
          if (rows.length === 0) return;
          after = rows.at(-1)?.id ?? after;
          yield rows.map((event) => ({
            id: event.id.toString(),
            at: event.at.toISOString(),
            jobId: event.jobId,
            replicaId: event.replicaId,
            order: event.replica.order,
            role: event.replica.role,
            storageSystemId: event.replica.storageSystemId,
            spaceId: event.replica.spaceId,
            status: event.status,
            bytesCopied: Number(event.bytesCopied),
            message: event.message,
            chainSeq: event.chainSeq === null ? null : Number(event.chainSeq),
            rowHash: event.rowHash,
          }));
          if (rows.length < BATCH) return;
        }
      }
      const columns = [
        'id',
        'at',
        'jobId',
        'replicaId',
        'order',
        'role',
        'storageSystemId',
        'spaceId',
        'status',
        'bytesCopied',
        'message',
        'chainSeq',
        'rowHash',
      ];
      await stream(res, format, columns, batches());
    } catch (error) {
      fail(res, error);
    }
  });

  router.get('/exports/audit-entries', async (req, res) => {
    try {
      const { principal, format } = await guard(req, 'audit:verify');
      const filter = { since: dateParam(req, 'since') ?? null, until: dateParam(req, 'until') ?? null };
      begin(res, format, 'audit-entries');
      async function* batches() {
        let after = 0n;
        for (;;) {
          const rows = await auditEntriesBatch(
            tenantDb(services.db, principal.tenant.id),
            principal.tenant.id,
            filter,
            after,
            BATCH,
          );
          if (rows.length === 0) return;
          after = rows.at(-1)?.id ?? after;
          yield rows.map((entry) => ({
            id: entry.id.toString(),
            at: entry.at.toISOString(),
            actor: entry.actor,
            actorIdentityId: entry.actorIdentityId,
            action: entry.action,
            objectType: entry.objectType,
            objectId: entry.objectId,
            before: entry.before === null ? null : JSON.stringify(entry.before),
            after: entry.after === null ? null : JSON.stringify(entry.after),
            chainSeq: entry.chainSeq === null ? null : Number(entry.chainSeq),
            rowHash: entry.rowHash,
          }));
          if (rows.length < BATCH) return;
        }
      }
      const columns = [
        'id',
        'at',
        'actor',
        'actorIdentityId',
        'action',
        'objectType',
        'objectId',
        'before',
        'after',
        'chainSeq',
        'rowHash',
      ];
      await stream(res, format, columns, batches());
    } catch (error) {
      fail(res, error);
    }
  });
  return router;
}
