import { AsyncLocalStorage } from 'node:async_hooks';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from './generated/prisma/client.js';

export type Db = PrismaClient;

/**
 * Whose rows a statement may see and write under row-level security (see the migration `row_level_security`):
 * one tenant's, and with `platform` also the tenants table, the audit entries of no tenant, and reading identities
 * and API keys of every tenant.
 */
export interface DbScope {
  tenantId?: string | undefined;
  platform?: boolean;
}

interface Scope {
  key: string;
  tenantId: string;
  platform: string;
}

const NO_SCOPE: Scope = { key: '|', tenantId: '', platform: '' };
/** The scope of the Prisma operation running in this async context; read when a connection is checked out. */
const CURRENT_SCOPE = new AsyncLocalStorage<Scope>();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NAME_SCOPE = "SELECT set_config('echelon.tenant_id', $1, false), set_config('echelon.platform', $2, false)";

/** A PostgreSQL error reported by the server: the connection itself is fine. */
const isServerError = (error: unknown): boolean =>
  typeof (error as { code?: unknown })?.code === 'string' &&
  typeof (error as { severity?: unknown }).severity === 'string';

/**
 * The pool Prisma's adapter draws connections from. Every checkout — for one statement or for a whole
 * transaction — hands over a connection that names the scope of the operation asking for it: when the
 * connection last served another scope, the scope is set on it first. So every statement and every transaction
 * runs as exactly its own tenant, and one pool serves all tenants.
 */
function scopingPool(pool: pg.Pool): pg.Pool {
  const named = new WeakMap<pg.PoolClient, string>();
  const checkout = async (): Promise<pg.PoolClient> => {
    const scope = CURRENT_SCOPE.getStore() ?? NO_SCOPE;
    const client = await pool.connect();
    if (named.get(client) !== scope.key) {
      try {
        await client.query(NAME_SCOPE, [scope.tenantId, scope.platform]);
      } catch (error) {
        client.release(error instanceof Error ? error : true);
        throw error;
      }
      named.set(client, scope.key);
    }
    return client;
  };
  // The adapter takes a pool only if it is one (`instanceof pg.Pool`); it uses these members and no others.
  const facade = Object.create(pg.Pool.prototype) as pg.Pool;
  Object.assign(facade, {
    options: pool.options,
    connect: checkout,
    async query(config: pg.QueryConfig) {
      const client = await checkout();
      try {
        const result = await client.query(config);
        client.release();
        return result;
      } catch (error) {
        client.release(isServerError(error) ? undefined : error instanceof Error ? error : true);
        throw error;
      }
    },
    on: (event: 'error', listener: (error: Error) => void) => {
      pool.on(event, listener);
      return facade;
    },
    removeListener: (event: 'error', listener: (error: Error) => void) => {
      pool.removeListener(event, listener);
      return facade;
    },
    end: () => pool.end(),
  });
  return facade;
}

/** The Prisma client over node-postgres; the only way the rest of the code reaches the database. */
export function createDb(databaseUrl: string, options: { max?: number; applicationName?: string } = {}): Db {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.max ?? 10,
    ...(options.applicationName === undefined ? {} : { application_name: options.applicationName }),
  });
  return new PrismaClient({ adapter: new PrismaPg(scopingPool(pool), { disposeExternalPool: true }) });
}

const BASES = new WeakMap<object, Db>();
const CACHE = new WeakMap<Db, Map<string, Db>>();
const CACHE_LIMIT = 1_000;

const lowerFirst = (name: string) => `${name.charAt(0).toLowerCase()}${name.slice(1)}`;

/**
 * findUnique's arguments for findFirst: a compound unique selector becomes its fields. Prisma names one after its
 * fields joined by `_` (`tenantId_chain: { tenantId, chain }`), which is how it is recognised here.
 */
function asFindFirstArgs(args: unknown): unknown {
  const where = (args as { where?: Record<string, unknown> }).where;
  if (where === undefined) return args;
  const flat: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(where)) {
    const compound =
      value !== null &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      !(value instanceof Date) &&
      Object.keys(value).join('_') === key;
    if (compound) Object.assign(flat, value);
    else flat[key] = value;
  }
  return { ...(args as object), where: flat };
}

/**
 * `db` bound to a scope: every operation, and every `$transaction`, runs with the scope as the async context its
 * connection is checked out in (see `scopingPool`). Connected as the application's role, the database then shows
 * and accepts only the scope's rows; an operation that escapes this wrapper runs with no scope and sees no
 * tenant's rows at all. Scoping a scoped client replaces its scope.
 */
export function scopedDb(db: Db, options: DbScope): Db {
  const base = BASES.get(db) ?? db;
  const tenantId = options.tenantId ?? '';
  if (tenantId !== '' && !UUID.test(tenantId)) throw new Error(`not a tenant id: ${JSON.stringify(tenantId)}`);
  const platform = options.platform === true ? 'on' : '';
  const scope: Scope = { key: `${tenantId}|${platform}`, tenantId, platform };
  let cache = CACHE.get(base);
  if (cache === undefined) {
    cache = new Map();
    CACHE.set(base, cache);
  }
  const cached = cache.get(scope.key);
  if (cached !== undefined) return cached;

  // `.then` inside `run`: a Prisma promise starts its work only when awaited, and it must start in the scope.
  const inScope = <T>(work: () => PromiseLike<T>): Promise<T> =>
    CURRENT_SCOPE.run(scope, () => Promise.resolve(work()).then((result) => result));
  const extended = base.$extends({
    query: {
      $allOperations({ model, operation, args, query, ...rest }) {
        // Inside a transaction the connection was scoped when the transaction began.
        const internal = (rest as { __internalParams?: { transaction?: unknown } }).__internalParams;
        if (internal?.transaction !== undefined) return query(args);
        if (model !== undefined && (operation === 'findUnique' || operation === 'findUniqueOrThrow')) {
          // Prisma merges the findUnique calls of one tick into one query, whoever made them (another tenant's
          // request too), and runs it in the first caller's context; findFirst is never merged.
          const delegate = (base as unknown as Record<string, Record<string, (args: unknown) => PromiseLike<unknown>>>)[
            lowerFirst(model)
          ];
          const findFirst = delegate?.[operation === 'findUnique' ? 'findFirst' : 'findFirstOrThrow'];
          if (findFirst !== undefined) return inScope(() => findFirst(asFindFirstArgs(args)));
        }
        return inScope(() => query(args));
      },
    },
  });
  const scoped = new Proxy(extended, {
    get(target, property) {
      if (property === '$transaction') {
        return (work: unknown, transactionOptions?: unknown) =>
          inScope(() =>
            (target.$transaction as (...args: unknown[]) => PromiseLike<unknown>)(work, transactionOptions),
          );
      }
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as unknown as Db;
  BASES.set(scoped, base);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(scope.key, scoped);
  return scoped;
}

/** `db` confined to one tenant's rows. */
export const tenantDb = (db: Db, tenantId: string): Db => scopedDb(db, { tenantId });

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
  RestoreJob,
  StorageSystem,
  Tenant,
  Upload,
} from './generated/prisma/client.js';
