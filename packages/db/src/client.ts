import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client.js';

export type Db = PrismaClient;

/** The Prisma client over node-postgres; the only way the rest of the code reaches the database. */
export function createDb(databaseUrl: string, options: { max?: number } = {}): Db {
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: options.max ?? 10 });
  return new PrismaClient({ adapter });
}

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
