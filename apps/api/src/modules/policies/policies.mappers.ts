import { listTemplateVersionNumbers, type PolicyTemplateVersion } from '@echelon/db';
import { type ResolvedScheme, retentionRulesOf } from '@echelon/domain';
import type { RequestContext } from '../../context.js';
import { storageSystemViewIn } from '../storage/storage.mappers.js';
import type { StorageSystemView } from '../storage/storage.types.js';
import type { BackupSchemeView, PolicyTemplateView, SecondaryOrderingEnum } from './policies.types.js';

/** A system that was deleted since still shows, by id, rather than failing the whole answer. */
async function systemOrPlaceholder(context: RequestContext, id: string): Promise<StorageSystemView> {
  const systems = await context.storageSystems();
  return systems.has(id)
    ? storageSystemViewIn(systems, id)
    : {
        id,
        name: `(removed storage system ${id})`,
        kind: 'FILESYSTEM' as StorageSystemView['kind'],
        spaces: [],
        capacityBytes: 0,
        remainingBytes: 0,
        healthy: false,
      };
}

export async function toTemplateView(context: RequestContext, row: PolicyTemplateVersion): Promise<PolicyTemplateView> {
  const [primary, candidates, versions] = await Promise.all([
    systemOrPlaceholder(context, row.primaryStorageSystemId),
    Promise.all(row.candidateStorageSystemIds.map((id) => systemOrPlaceholder(context, id))),
    listTemplateVersionNumbers(context.db, row.tenantId, row.templateId),
  ]);
  return {
    id: row.templateId,
    name: row.name,
    version: row.version,
    copies: row.copies,
    minCopies: row.minCopies,
    primary,
    candidates,
    delaySeconds: row.delaySeconds,
    ordering: row.ordering as SecondaryOrderingEnum,
    dataClass: row.dataClass,
    versions,
    retention: retentionRulesOf(row),
  };
}

export async function toSchemeView(
  context: RequestContext,
  scheme: ResolvedScheme,
  template: PolicyTemplateVersion,
): Promise<BackupSchemeView> {
  const [templateView, primary, secondaries, skipped] = await Promise.all([
    toTemplateView(context, template),
    systemOrPlaceholder(context, scheme.primary.storageSystemId),
    Promise.all(scheme.secondaries.map((placement) => systemOrPlaceholder(context, placement.storageSystemId))),
    Promise.all(
      scheme.skipped.map(async (skip) => ({
        storageSystem: await systemOrPlaceholder(context, skip.storageSystemId),
        reason: skip.reason,
      })),
    ),
  ]);
  return {
    template: templateView,
    templateVersion: scheme.templateVersion,
    matchedBy: scheme.matchedBy,
    copies: scheme.copies,
    primary,
    secondaries,
    skipped,
    delaySeconds: scheme.delaySeconds,
    plannedOffsetsSeconds: scheme.plannedOffsetsSeconds,
    bytesToWrite: [scheme.primary, ...scheme.secondaries].map((placement) => placement.bytesToWrite ?? null),
  };
}
