import { DomainError } from './errors.js';

/** Thirty days: the longest delay a policy may ask for between two copies. */
export const MAX_DELAY_SECONDS = 30 * 24 * 3600;
export const MAX_NAME_LENGTH = 200;

const bad = (field: string, message: string): DomainError => new DomainError('BAD_USER_INPUT', message, { field });

/** Trims and checks a human-readable name: 1–200 characters, no control characters. */
export function validateName(value: string, field: string): string {
  const name = value.trim();
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused
  if (name.length === 0 || name.length > MAX_NAME_LENGTH || /[\u0000-\u001f\u007f]/.test(name)) {
    throw bad(field, `${field} must be 1–${MAX_NAME_LENGTH} characters without control characters`);
  }
  return name;
}

const SLUG = /^[a-z0-9][a-z0-9-]{1,62}$/;
export function validateSlug(slug: string): string {
  if (!SLUG.test(slug))
    throw bad(
      'slug',
      `slug "${slug.slice(0, 80)}" must be 2–63 lowercase letters, digits and "-", starting with a letter or digit`,
    );
  return slug;
}

const EXTERNAL_ID = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,199}$/;
export function validateExternalId(externalId: string): string {
  if (!EXTERNAL_ID.test(externalId)) {
    throw bad(
      'externalId',
      `externalId "${externalId.slice(0, 80)}" must be 1–200 letters, digits, ".", "_", "@", "+" or "-"`,
    );
  }
  return externalId;
}

const GROUP = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;
export function validateGroups(groups: readonly string[]): string[] {
  if (groups.length > 100) throw bad('groups', 'an identity belongs to at most 100 groups');
  for (const group of groups) {
    if (!GROUP.test(group))
      throw bad('groups', `group "${group.slice(0, 80)}" must be 1–100 letters, digits, ".", "_", ":" or "-"`);
  }
  return [...new Set(groups)];
}

const DATA_CLASS = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export function validateDataClass(dataClass: string | null | undefined): string | null {
  if (dataClass === null || dataClass === undefined) return null;
  if (!DATA_CLASS.test(dataClass)) {
    throw bad('dataClass', `dataClass "${dataClass.slice(0, 80)}" must be 1–64 letters, digits, ".", "_" and "-"`);
  }
  return dataClass;
}

const SPACE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export interface SpaceInput {
  name: string;
  capacityBytes: number;
}

/** Backup spaces of one system: at least one, unique safe names (they become directories), positive capacity. */
export function validateSpaces(spaces: readonly SpaceInput[]): SpaceInput[] {
  if (spaces.length === 0) throw bad('spaces', 'a storage system needs at least one backup space');
  if (spaces.length > 100) throw bad('spaces', 'a storage system has at most 100 backup spaces');
  const seen = new Set<string>();
  for (const space of spaces) {
    if (!SPACE_NAME.test(space.name)) {
      throw bad(
        'spaces',
        `backup space name "${space.name.slice(0, 80)}" must be 1–63 letters, digits, ".", "_" or "-", starting with a letter or digit`,
      );
    }
    if (seen.has(space.name)) throw bad('spaces', `backup space "${space.name}" is listed twice`);
    seen.add(space.name);
    if (!Number.isSafeInteger(space.capacityBytes) || space.capacityBytes <= 0) {
      throw bad(
        'spaces',
        `backup space "${space.name}" needs a capacity of at least 1 byte, not ${space.capacityBytes}`,
      );
    }
  }
  return spaces.map((space) => ({ name: space.name, capacityBytes: space.capacityBytes }));
}

/** FILESYSTEM config: `{ "root": "/abs/path" }`, normalised, with nothing else in it. */
export function validateFilesystemConfig(config: unknown): { root: string } {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw bad('config', 'a FILESYSTEM config is an object: { "root": "/absolute/path" }');
  }
  const { root, ...rest } = config as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0)
    throw bad('config', `unknown FILESYSTEM config keys: ${extra.join(', ')}; only "root" is accepted`);
  if (typeof root !== 'string' || !root.startsWith('/') || root.length > 1024) {
    throw bad('config', 'config.root must be an absolute path (starting with "/")');
  }
  const segments = root.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..') || root.includes('\0')) throw bad('config', 'config.root must not contain ".." or NUL');
  if (segments.length === 0) throw bad('config', 'config.root must not be the filesystem root "/"');
  return { root: `/${segments.join('/')}` };
}

export interface PolicyTemplateInput {
  name: string;
  copies: number;
  minCopies?: number | null;
  primaryStorageSystemId: string;
  candidateStorageSystemIds: readonly string[];
  delaySeconds: number;
  ordering: 'CAPACITY' | 'FIXED';
  dataClass?: string | null;
}

export interface ValidTemplate {
  name: string;
  copies: number;
  minCopies: number;
  primaryStorageSystemId: string;
  candidateStorageSystemIds: string[];
  delaySeconds: number;
  ordering: 'CAPACITY' | 'FIXED';
  dataClass: string | null;
}

/**
 * A policy template's rules: copies from 1 to 1 + candidates, a minimum of verified copies from 1 to copies,
 * the primary not among the candidates, no candidate twice, a delay from 0 s to 30 days, and every storage
 * system one of the tenant's (`knownStorageIds`), else NOT_FOUND.
 */
export function validatePolicyTemplate(
  input: PolicyTemplateInput,
  knownStorageIds: ReadonlySet<string>,
): ValidTemplate {
  const name = validateName(input.name, 'name');
  const candidates = [...input.candidateStorageSystemIds];
  for (const id of [input.primaryStorageSystemId, ...candidates]) {
    if (!knownStorageIds.has(id))
      throw new DomainError('NOT_FOUND', `storage system ${id} does not exist in this tenant`, { id });
  }
  if (candidates.includes(input.primaryStorageSystemId)) {
    throw bad(
      'candidateStorageSystemIds',
      'the primary storage system cannot also be a candidate: a second copy there adds no protection',
    );
  }
  if (new Set(candidates).size !== candidates.length)
    throw bad('candidateStorageSystemIds', 'a candidate is listed twice');
  if (!Number.isInteger(input.copies) || input.copies < 1 || input.copies > 1 + candidates.length) {
    throw bad(
      'copies',
      `copies must be between 1 and ${1 + candidates.length} (the primary plus ${candidates.length} candidate${candidates.length === 1 ? '' : 's'}), not ${input.copies}`,
    );
  }
  const minCopies = input.minCopies ?? 1;
  if (!Number.isInteger(minCopies) || minCopies < 1 || minCopies > input.copies) {
    throw bad('minCopies', `minCopies must be between 1 and copies (${input.copies}), not ${minCopies}`);
  }
  if (!Number.isInteger(input.delaySeconds) || input.delaySeconds < 0 || input.delaySeconds > MAX_DELAY_SECONDS) {
    throw bad(
      'delaySeconds',
      `delaySeconds must be between 0 and ${MAX_DELAY_SECONDS} (30 days), not ${input.delaySeconds}`,
    );
  }
  return {
    name,
    copies: input.copies,
    minCopies,
    primaryStorageSystemId: input.primaryStorageSystemId,
    candidateStorageSystemIds: candidates,
    delaySeconds: input.delaySeconds,
    ordering: input.ordering,
    dataClass: validateDataClass(input.dataClass),
  };
}

export interface AssignmentInput {
  templateId: string;
  identityId?: string | null;
  group?: string | null;
  tenantDefault?: boolean | null;
  dataClass?: string | null;
}

/** Exactly one of identityId, group and tenantDefault says whom an assignment is for. */
export function validateAssignment(input: AssignmentInput): {
  identityId: string | null;
  group: string | null;
  tenantDefault: boolean;
  dataClass: string | null;
} {
  const targets = [input.identityId != null, input.group != null, input.tenantDefault === true].filter(Boolean).length;
  if (targets !== 1) {
    throw bad('identityId', 'an assignment names exactly one of identityId, group and tenantDefault: true');
  }
  const group = input.group == null ? null : (validateGroups([input.group])[0] ?? null);
  return {
    identityId: input.identityId ?? null,
    group,
    tenantDefault: input.tenantDefault === true,
    dataClass: validateDataClass(input.dataClass),
  };
}
