import 'reflect-metadata';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GraphQLSchema } from 'graphql';
import { createPubSub } from '@graphql-yoga/subscription';
import { buildSchema } from 'type-graphql';
import { authChecker } from './auth.js';
import { AuditResolver } from './modules/audit/index.js';
import { ChunksResolver } from './modules/chunks/index.js';
import { DatasetComplianceResolver, DatasetsResolver } from './modules/datasets/index.js';
import { HistoryResolver } from './modules/history/index.js';
import { IdentitiesResolver } from './modules/identities/index.js';
import { JobsResolver } from './modules/jobs/index.js';
import { PoliciesResolver } from './modules/policies/index.js';
import { ProgressResolver } from './modules/progress/index.js';
import { ReplicasResolver } from './modules/replicas/index.js';
import { RestoresResolver } from './modules/restores/index.js';
import { StorageResolver } from './modules/storage/index.js';
import { TenantsResolver } from './modules/tenants/index.js';
import { ViewerResolver } from './modules/viewer/index.js';
import { BytesScalar, DateTimeScalar, JSONScalar } from './scalars.js';

/** The committed, emitted schema: a test fails when it differs from what the code builds. */
export const SCHEMA_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'schema.graphql');

export const RESOLVERS = [
  ViewerResolver,
  TenantsResolver,
  IdentitiesResolver,
  StorageResolver,
  PoliciesResolver,
  JobsResolver,
  DatasetsResolver,
  DatasetComplianceResolver,
  AuditResolver,
  HistoryResolver,
  ProgressResolver,
  RestoresResolver,
  ChunksResolver,
  ReplicasResolver,
] as const;

export async function buildEchelonSchema(options: { emit?: boolean } = {}): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: RESOLVERS,
    authChecker,
    authMode: 'error',
    // Our subscriptions stream from PostgreSQL (see @echelon/events); type-graphql still wants a PubSub.
    pubSub: createPubSub(),
    validate: false,
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    orphanedTypes: [],
    ...(options.emit ? { emitSchemaFile: { path: SCHEMA_FILE, sortedSchema: false } } : {}),
  }).then((schema) => {
    void JSONScalar;
    void BytesScalar;
    return schema;
  });
}
