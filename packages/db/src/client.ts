import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client.js';

export type Db = PrismaClient;

/** The Prisma client over node-postgres; the only way the rest of the code reaches the database. */
export function createDb(databaseUrl: string, options: { max?: number; applicationName?: string } = {}): Db {
  const adapter = new PrismaPg({
    connectionString: databaseUrl,
    max: options.max ?? 10,
    ...(options.applicationName === undefined ? {} : { application_name: options.applicationName }),
  });
  return new PrismaClient({ adapter });
}

/**
 * Whose rows a transaction may see and write under row-level security (see the migration
 * `row_level_security`): one tenant's, and with `platform` also the tenants table and the audit entries of no
 * tenant.
 */
export interface DbScope {
  tenantId?: string;
  platform?: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const BASES = new WeakMap<object, Db>();
const CACHE = new WeakMap<Db, Map<string, Db>>();
const CACHE_LIMIT = 1_000;

/**
 * `db` bound to a scope: every statement runs in a transaction that first names the scope with
 * `set_config(..., true)` (local to that transaction), and an interactive `$transaction` names it before the
 * work runs. Connected as the application's role, the database then shows and accepts only the scope's rows; a
 * statement that somehow escapes this wrapper sees no tenant's rows at all. Scoping a scoped client replaces its
 * scope.
 */
export function scopedDb(db: Db, scope: DbScope): Db {
  const base = BASES.get(db) ?? db;
  const tenantId = scope.tenantId ?? '';
  if (tenantId !== '' && !UUID.test(tenantId)) throw new Error(`not a tenant id: ${JSON.stringify(tenantId)}`);
  const platform = scope.platform === true;
  const key = `${tenantId}|${platform}`;
  let cache = CACHE.get(base);
  if (cache === undefined) {
    cache = new Map();
    CACHE.set(base, cache);
  }
  const cached = cache.get(key);
  if (cached !== undefined) return cached;

  const name = () =>
    base.$executeRaw`SELECT set_config('echelon.tenant_id', ${tenantId}, true), set_config('echelon.platform', ${platform ? 'on' : ''}, true)`;
  const extended = base.$extends({
    query: {
      $allOperations({ args, query, ...rest }) {
        // Inside a transaction the scope was named when it began (below, or as the batch's first statement).
        const internal = (rest as { __internalParams?: { transaction?: unknown } }).__internalParams;
        if (internal?.transaction !== undefined) return query(args);
        return base.$transaction([name(), query(args)]).then(([, result]) => result);
      },
    },
  });
  const transaction = (work: unknown, options?: unknown): Promise<unknown> => {
    if (Array.isArray(work)) {
      return base.$transaction([name(), ...work], options as never).then((results) => results.slice(1));
    }
    return extended.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT set_config('echelon.tenant_id', ${tenantId}, true), set_config('echelon.platform', ${platform ? 'on' : ''}, true)`;
      return (work as (client: typeof tx) => Promise<unknown>)(tx);
    }, options as never);
  };
  const scoped = new Proxy(extended, {
    get(target, property) {
      if (property === '$transaction') return transaction;
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as unknown as Db;
  BASES.set(scoped, base);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, scoped);
  return scoped;
}

/** `db` confined to one tenant's rows. */
export const tenantDb = (db: Db, tenantId: string): Db => scopedDb(db, { tenantId });

/** `db` for a platform administrator: the tenants table and the audit entries of no tenant. */
export const platformDb = (db: Db, tenantId?: string): Db =>
  scopedDb(db, tenantId === undefined ? { platform: true } : { tenantId, platform: true });

export { Prisma } from './generated/prisma/client.js';
export type {
  ApiKey,
  BackupJob,
  BackupSpace,
  Dataset,
  DatasetVersion,
  Identity,
  PolicyAssignment,
  PolicyTemplate,
  PolicyTemplateVersion,
  Replica,
  ReplicaEvent,
  StorageSystem,
  Tenant,
  Upload,
} from './generated/prisma/client.js';
