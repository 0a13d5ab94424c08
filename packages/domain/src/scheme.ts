import {
  orderSecondaries,
  placeOnSystem,
  type Placement,
  type SecondaryOrdering,
  type SkippedCandidate,
  type StorageCapacity,
} from './capacity.js';
import { DomainError } from './errors.js';
import { plannedOffsetsSeconds } from './schedule.js';

/** The published template version a scheme is built from. */
export interface TemplateVersion {
  templateId: string;
  version: number;
  name: string;
  copies: number;
  primaryStorageSystemId: string;
  candidateStorageSystemIds: readonly string[];
  delaySeconds: number;
  ordering: SecondaryOrdering;
  dataClass: string | null;
}

export interface Assignment {
  id: string;
  templateId: string;
  identityId: string | null;
  group: string | null;
  tenantDefault: boolean;
  dataClass: string | null;
  createdAt: Date;
}

export interface Requester {
  identityId: string;
  externalId: string;
  groups: readonly string[];
}

export interface AssignmentMatch {
  assignment: Assignment;
  matchedBy: string;
}

/** Locale-independent ordering: two API processes must pick the same assignment whatever their locale. */
const compareCodePoints = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

type Scope = 'identity' | 'group' | 'tenant default';

const scopeOf = (assignment: Assignment, requester: Requester): Scope | undefined => {
  if (assignment.identityId !== null) return assignment.identityId === requester.identityId ? 'identity' : undefined;
  if (assignment.group !== null) return requester.groups.includes(assignment.group) ? 'group' : undefined;
  return assignment.tenantDefault ? 'tenant default' : undefined;
};

const SCOPE_RANK: Record<Scope, number> = { identity: 0, group: 1, 'tenant default': 2 };

/**
 * Picks the assignment that applies to a request. Precedence: identity, then group, then tenant default; within
 * one scope an assignment for the request's data class comes before a generic one. When two groups of the
 * identity match at the same precedence, the group whose name sorts first wins, then the older assignment —
 * a rule that never depends on the order rows come back from the database.
 */
export function matchAssignment(
  assignments: readonly Assignment[],
  requester: Requester,
  dataClass: string | null,
): AssignmentMatch | undefined {
  const ranked = assignments
    .map((assignment) => ({ assignment, scope: scopeOf(assignment, requester) }))
    .filter((entry): entry is { assignment: Assignment; scope: Scope } => entry.scope !== undefined)
    .filter((entry) => entry.assignment.dataClass === null || entry.assignment.dataClass === dataClass)
    .sort(
      (a, b) =>
        SCOPE_RANK[a.scope] - SCOPE_RANK[b.scope] ||
        Number(a.assignment.dataClass === null) - Number(b.assignment.dataClass === null) ||
        compareCodePoints(a.assignment.group ?? '', b.assignment.group ?? '') ||
        a.assignment.createdAt.getTime() - b.assignment.createdAt.getTime() ||
        compareCodePoints(a.assignment.id, b.assignment.id),
    );
  const best = ranked[0];
  if (best === undefined) return undefined;
  const { assignment, scope } = best;
  const classWords = assignment.dataClass === null ? 'for any data class' : `for data class "${assignment.dataClass}"`;
  const whom =
    scope === 'identity'
      ? `identity ${requester.externalId}`
      : scope === 'group'
        ? `group "${assignment.group}" of identity ${requester.externalId}`
        : 'the tenant default';
  return { assignment, matchedBy: `assigned to ${whom} ${classWords}` };
}

export interface SchemeRequest {
  sizeBytes: number;
  dataClass: string | null;
}

export interface ResolvedScheme {
  templateId: string;
  templateVersion: number;
  matchedBy: string;
  copies: number;
  delaySeconds: number;
  ordering: SecondaryOrdering;
  primary: Placement;
  secondaries: Placement[];
  skipped: SkippedCandidate[];
  plannedOffsetsSeconds: number[];
}

/**
 * Resolves the backup scheme for a request: the template by assignment, the primary and its space, and the
 * secondaries in write order. Throws NO_POLICY when nothing applies and INSUFFICIENT_CAPACITY when the
 * primary cannot hold the data.
 */
export function resolveScheme(input: {
  requester: Requester;
  request: SchemeRequest;
  assignments: readonly Assignment[];
  templates: ReadonlyMap<string, TemplateVersion>;
  storage: ReadonlyMap<string, StorageCapacity>;
}): ResolvedScheme {
  const { requester, request } = input;
  // A template that names a data class applies to requests of that class only; its class counts as the
  // assignment's when the assignment names none.
  const applicable = input.assignments.flatMap((assignment) => {
    const templateClass = input.templates.get(assignment.templateId)?.dataClass ?? null;
    if (assignment.dataClass !== null && templateClass !== null && assignment.dataClass !== templateClass) return [];
    return [{ ...assignment, dataClass: assignment.dataClass ?? templateClass }];
  });
  const match = matchAssignment(applicable, requester, request.dataClass);
  if (match === undefined) {
    const classWords = request.dataClass === null ? '' : ` and data class "${request.dataClass}"`;
    throw new DomainError(
      'NO_POLICY',
      `no policy template is assigned to identity ${requester.externalId}, its groups or the tenant default${classWords}; assign one with assignPolicy`,
    );
  }
  const template = input.templates.get(match.assignment.templateId);
  if (template === undefined) {
    throw new DomainError('NO_POLICY', `the assigned policy template ${match.assignment.templateId} has no version`);
  }
  return buildScheme(template, match.matchedBy, request.sizeBytes, input.storage);
}

/** Places the data for one template version; used at request time and for previews alike. */
export function buildScheme(
  template: TemplateVersion,
  matchedBy: string,
  sizeBytes: number,
  storage: ReadonlyMap<string, StorageCapacity>,
): ResolvedScheme {
  const primarySystem = storage.get(template.primaryStorageSystemId);
  if (primarySystem === undefined) {
    throw new DomainError('NOT_FOUND', `the primary storage system ${template.primaryStorageSystemId} does not exist`);
  }
  const primary = placeOnSystem(primarySystem, sizeBytes);
  if ('reason' in primary) {
    throw new DomainError('INSUFFICIENT_CAPACITY', `the primary cannot take the data: ${primary.reason}`, {
      storageSystemId: primarySystem.storageSystemId,
      sizeBytes,
    });
  }
  const candidates: StorageCapacity[] = [];
  const skipped: SkippedCandidate[] = [];
  for (const id of template.candidateStorageSystemIds) {
    if (id === template.primaryStorageSystemId) {
      skipped.push({ storageSystemId: id, reason: 'it is the primary: a second copy there adds no protection' });
      continue;
    }
    const candidate = storage.get(id);
    if (candidate === undefined) skipped.push({ storageSystemId: id, reason: `storage system ${id} no longer exists` });
    else candidates.push(candidate);
  }
  const order = orderSecondaries(candidates, sizeBytes, template.ordering);
  const wanted = Math.max(0, template.copies - 1);
  const secondaries = order.ordered.slice(0, wanted);
  // FIXED does not rank by room, so the reason must not claim the chosen systems have more of it.
  const chosenBecause =
    template.ordering === 'CAPACITY' ? 'systems with more room' : 'systems earlier in the template order';
  for (const unused of order.ordered.slice(wanted)) {
    skipped.push({
      storageSystemId: unused.storageSystemId,
      reason: `not needed: the template's ${template.copies} copies are placed on ${chosenBecause}`,
    });
  }
  skipped.push(...order.skipped);
  return {
    templateId: template.templateId,
    templateVersion: template.version,
    matchedBy,
    copies: template.copies,
    delaySeconds: template.delaySeconds,
    ordering: template.ordering,
    primary: primary.placement,
    secondaries,
    skipped,
    plannedOffsetsSeconds: plannedOffsetsSeconds(1 + secondaries.length, sizeBytes, template.delaySeconds),
  };
}
