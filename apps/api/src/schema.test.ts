import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  buildSchema,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputField,
  type GraphQLNamedType,
  isEnumType,
  isInputObjectType,
  isObjectType,
  printSchema,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { buildEchelonSchema, SCHEMA_FILE } from './schema.js';

const CONTRACT_FILE = path.resolve(path.dirname(SCHEMA_FILE), 'contract.graphql');

const strip = (text: string) => printSchema(buildSchema(text));

/**
 * What Echelon serves beyond the contract, on purpose (additions are allowed; renames never are). Anything else
 * that is not in the contract fails the test, so an accidental name cannot slip in.
 */
const ADDITIONS = new Set([
  'type RetentionRules is not in the contract (fine if added on purpose; list it here)',
  'type RetentionRulesInput is not in the contract (fine if added on purpose; list it here)',
  'type LegalHold is not in the contract (fine if added on purpose; list it here)',
  'type RetentionPreview is not in the contract (fine if added on purpose; list it here)',
  'type RetentionPreviewVersion is not in the contract (fine if added on purpose; list it here)',
  'type AuditChainReport is not in the contract (fine if added on purpose; list it here)',
  'type BrokenChainLink is not in the contract (fine if added on purpose; list it here)',
  'Query.verifyAuditChain is not in the contract',
  'Mutation.checkStorageSystem is not in the contract',
  'type DatasetCompliance is not in the contract (fine if added on purpose; list it here)',
  'Query.datasetCompliance is not in the contract',
  // The chunk protocol: clients that chunk locally ask what is missing and send a manifest.
  'type BackupManifestInput is not in the contract (fine if added on purpose; list it here)',
  'type ManifestKind is not in the contract (fine if added on purpose; list it here)',
  'type ManifestEntryInput is not in the contract (fine if added on purpose; list it here)',
  'type ChunkRefInput is not in the contract (fine if added on purpose; list it here)',
  'Query.missingChunks is not in the contract',
  // Scrub and self-repair: a copy found damaged, and the on-demand check.
  'enum ReplicaStatus: [PLANNED,WAITING,COPYING,VERIFYING,COMPLETED,FAILED,SKIPPED,CANCELLED,DEGRADED] vs contract [PLANNED,WAITING,COPYING,VERIFYING,COMPLETED,FAILED,SKIPPED,CANCELLED]',
  'Mutation.verifyReplica is not in the contract',
  // Identity administration: list keys to revoke them, change roles and groups, disable sign-in.
  'Query.apiKeys is not in the contract',
  'Query.legalHolds is not in the contract',
  'Query.previewRetention is not in the contract',
  'Mutation.placeLegalHold is not in the contract',
  'Mutation.liftLegalHold is not in the contract',
  'type UpdateIdentityInput is not in the contract (fine if added on purpose; list it here)',
  'Mutation.updateIdentity is not in the contract',
  'Mutation.disableIdentity is not in the contract',
]);

describe('the served GraphQL schema', () => {
  it('matches the committed apps/api/schema.graphql (run `npm run schema:emit` after changing resolvers)', async () => {
    const built = printSchema(await buildEchelonSchema());
    const committed = strip(await readFile(SCHEMA_FILE, 'utf8'));
    expect(committed).toBe(strip(built));
  });

  it('uses the contract’s exact names and types for everything it serves that the contract lists', async () => {
    const served = await buildEchelonSchema();
    const contract = buildSchema(await readFile(CONTRACT_FILE, 'utf8'));
    const problems: string[] = [];
    const signature = (arg: GraphQLArgument | GraphQLInputField) =>
      `${arg.type.toString()}${arg.defaultValue === undefined ? '' : ` = ${JSON.stringify(arg.defaultValue)}`}`;
    for (const [name, type] of Object.entries(served.getTypeMap()) as [string, GraphQLNamedType][]) {
      if (name.startsWith('__')) continue;
      const expected = contract.getType(name);
      if (expected === undefined || expected === null) {
        if (
          !['Query', 'Mutation', 'Subscription'].includes(name) &&
          !['String', 'Int', 'Boolean', 'ID', 'Float'].includes(name)
        ) {
          problems.push(`type ${name} is not in the contract (fine if added on purpose; list it here)`);
        }
        continue;
      }
      if (expected.constructor !== type.constructor)
        problems.push(`${name} is a ${type.constructor.name}, the contract says ${expected.constructor.name}`);
      if (isEnumType(type) && isEnumType(expected)) {
        const values = type
          .getValues()
          .map((value) => value.name)
          .join(',');
        const contractValues = expected
          .getValues()
          .map((value) => value.name)
          .join(',');
        if (values !== contractValues) problems.push(`enum ${name}: [${values}] vs contract [${contractValues}]`);
      }
      if ((isObjectType(type) && isObjectType(expected)) || (isInputObjectType(type) && isInputObjectType(expected))) {
        const contractFields = expected.getFields() as Record<
          string,
          GraphQLField<unknown, unknown> | GraphQLInputField
        >;
        for (const [fieldName, field] of Object.entries(
          type.getFields() as Record<string, GraphQLField<unknown, unknown> | GraphQLInputField>,
        )) {
          const contractField = contractFields[fieldName];
          if (contractField === undefined) continue;
          if (field.type.toString() !== contractField.type.toString()) {
            problems.push(
              `${name}.${fieldName}: ${field.type.toString()} vs contract ${contractField.type.toString()}`,
            );
          }
          if ('args' in field && 'args' in contractField) {
            const args = field.args
              .map((arg) => `${arg.name}: ${signature(arg)}`)
              .sort()
              .join(', ');
            const contractArgs = contractField.args
              .map((arg) => `${arg.name}: ${signature(arg)}`)
              .sort()
              .join(', ');
            if (args !== contractArgs) problems.push(`${name}.${fieldName}(${args}) vs contract (${contractArgs})`);
          }
        }
        if (isInputObjectType(type)) {
          for (const [fieldName, field] of Object.entries(contractFields)) {
            if (!(fieldName in type.getFields()))
              problems.push(`input ${name} lacks the contract's field ${fieldName}: ${field.type.toString()}`);
          }
        }
      }
    }
    for (const root of ['Query', 'Mutation', 'Subscription'] as const) {
      const servedRoot = served.getType(root);
      const contractRoot = contract.getType(root);
      if (!isObjectType(servedRoot) || !isObjectType(contractRoot)) continue;
      for (const field of Object.keys(servedRoot.getFields())) {
        if (!(field in contractRoot.getFields())) problems.push(`${root}.${field} is not in the contract`);
      }
    }
    expect(problems.filter((problem) => !ADDITIONS.has(problem))).toEqual([]);
  });

  it('serves every type, field, argument and enum value of the contract', async () => {
    const served = await buildEchelonSchema();
    const contract = buildSchema(await readFile(CONTRACT_FILE, 'utf8'));
    const missing: string[] = [];
    for (const [name, type] of Object.entries(contract.getTypeMap())) {
      if (name.startsWith('__')) continue;
      const servedType = served.getType(name);
      if (servedType === undefined || servedType === null) {
        missing.push(`type ${name}`);
        continue;
      }
      if (
        (isObjectType(type) || isInputObjectType(type)) &&
        (isObjectType(servedType) || isInputObjectType(servedType))
      ) {
        const servedFields = servedType.getFields() as Record<
          string,
          GraphQLField<unknown, unknown> | GraphQLInputField
        >;
        for (const [fieldName, field] of Object.entries(
          type.getFields() as Record<string, GraphQLField<unknown, unknown> | GraphQLInputField>,
        )) {
          const servedField = servedFields[fieldName];
          if (servedField === undefined) {
            missing.push(`field ${name}.${fieldName}`);
            continue;
          }
          if ('args' in field && 'args' in servedField) {
            for (const arg of field.args) {
              if (!servedField.args.some((candidate) => candidate.name === arg.name))
                missing.push(`argument ${name}.${fieldName}(${arg.name})`);
            }
          }
        }
      }
      if (isEnumType(type) && isEnumType(servedType)) {
        for (const value of type.getValues()) {
          if (servedType.getValue(value.name) === undefined || servedType.getValue(value.name) === null)
            missing.push(`enum value ${name}.${value.name}`);
        }
      }
    }
    expect(missing.sort()).toEqual([]);
  });
});
