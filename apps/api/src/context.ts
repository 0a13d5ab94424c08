import type { EchelonConfig } from '@echelon/config';
import {
  authenticateApiKey,
  authenticateSession,
  type Db,
  type Identity,
  listStorageSystems,
  scopedDb,
  type StorageSystemWithSpaces,
  type Tenant,
} from '@echelon/db';
import { DomainError } from '@echelon/domain';
import type { EventHub, JobFeeds, JobUpdateFeeds } from '@echelon/events';
import type { BackupClient } from '@echelon/temporal';
import type { WorkflowStarter } from './modules/jobs/workflow-starter.js';
import { timingSafeEqual } from 'node:crypto';

export type Role = Identity['roles'][number];

/** Who is calling: resolved once per HTTP request and once per graphql-ws connection. */
export type Principal =
  | { kind: 'identity'; tenant: Tenant; identity: Identity; apiKeyId: string; sessionId?: string }
  | { kind: 'bootstrap' };

export interface Services {
  config: EchelonConfig;
  db: Db;
  hub: EventHub;
  /** Live replica events, one shared read per job for all subscribers of this process. */
  feeds: JobFeeds;
  /** backupJobUpdated, one shared read per changed job and tenant. */
  jobUpdates: JobUpdateFeeds;
  backups: BackupClient;
  /** Starts new jobs' workflows right after their commit, off the request's path. */
  starter: WorkflowStarter;
}

export interface RequestContext extends Services {
  principal: Principal | undefined;
  /**
   * The database as the caller (row-level security): its tenant's rows only; a platform administrator's also
   * opens the tenants table. Unauthenticated: no tenant's rows.
   */
  db: Db;
  /** The database as `tenantId`: the caller's own tenant, or any tenant for a platform administrator. */
  dbAs(tenantId: string): Db;
  /** The tenant's storage systems, read at most once per request. */
  storageSystems(): Promise<Map<string, StorageSystemWithSpaces>>;
}

const bearer = (header: unknown): string | undefined => {
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
};

const sameSecret = (a: string, b: string): boolean => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

/** Finds the principal behind an `Authorization` value; undefined when there is none or it is not valid. */
export async function authenticate(services: Services, authorization: unknown): Promise<Principal | undefined> {
  // A console session's cookie, handed over by the sessions module (modules/sessions) as `Session <token>`.
  const session = typeof authorization === 'string' ? /^Session\s+(\S+)\s*$/.exec(authorization)?.[1] : undefined;
  if (session !== undefined) {
    const holder = await authenticateSession(services.db, session);
    if (holder === undefined) return undefined;
    const { tenant, identity, apiKeyId, sessionId } = holder;
    return { kind: 'identity', tenant, identity, apiKeyId, sessionId };
  }
  const secret = bearer(authorization);
  if (secret === undefined) return undefined;
  const bootstrap = services.config.bootstrapToken;
  if (bootstrap !== undefined && sameSecret(secret, bootstrap)) return { kind: 'bootstrap' };
  const holder = await authenticateApiKey(services.db, secret);
  if (holder === undefined) return undefined;
  return { kind: 'identity', tenant: holder.tenant, identity: holder.identity, apiKeyId: holder.apiKeyId };
}

export function createContext(services: Services, principal: Principal | undefined): RequestContext {
  let storage: Promise<Map<string, StorageSystemWithSpaces>> | undefined;
  const platform = principal !== undefined && rolesOf(principal).includes('PLATFORM_ADMIN');
  const ownTenant = principal?.kind === 'identity' ? principal.tenant.id : undefined;
  const db = scopedDb(services.db, { tenantId: ownTenant, platform });
  return {
    ...services,
    principal,
    db,
    dbAs(tenantId) {
      if (tenantId === ownTenant) return db;
      if (!platform) throw new DomainError('NOT_FOUND', `tenant ${tenantId} does not exist`);
      return scopedDb(services.db, { tenantId, platform: true });
    },
    storageSystems() {
      if (principal?.kind !== 'identity') return Promise.resolve(new Map());
      storage ??= listStorageSystems(db, principal.tenant.id).then(
        (systems) => new Map(systems.map((system) => [system.id, system])),
      );
      return storage;
    },
  };
}

/** The caller's tenant; a platform credential without a tenant cannot use tenant-scoped operations. */
export function tenantOf(context: RequestContext): { tenant: Tenant; identity: Identity } {
  const principal = context.principal;
  if (principal === undefined) throw new DomainError('UNAUTHENTICATED', 'send Authorization: Bearer <API key>');
  if (principal.kind !== 'identity') {
    throw new DomainError('FORBIDDEN', "this operation acts inside a tenant; call it with a tenant identity's API key");
  }
  return { tenant: principal.tenant, identity: principal.identity };
}

export const rolesOf = (principal: Principal): readonly Role[] =>
  principal.kind === 'bootstrap' ? ['PLATFORM_ADMIN'] : principal.identity.roles;

/** The actor recorded in audit entries. */
export function actorOf(context: RequestContext): { identityId: string | null; label: string } {
  const principal = context.principal;
  if (principal === undefined) throw new DomainError('UNAUTHENTICATED', 'send Authorization: Bearer <API key>');
  if (principal.kind === 'bootstrap') return { identityId: null, label: 'bootstrap token' };
  return { identityId: principal.identity.id, label: `${principal.identity.externalId} (${principal.tenant.slug})` };
}

export const isPlatformAdmin = (context: RequestContext): boolean =>
  context.principal !== undefined && rolesOf(context.principal).includes('PLATFORM_ADMIN');
