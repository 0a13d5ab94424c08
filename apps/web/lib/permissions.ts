/**
 * The permissions the API reports in `viewer.permissions` (its map is apps/api/src/auth.ts), and which of them each
 * console page needs. The console offers a page or a button only when the viewer holds what it needs; the API
 * checks again on every request.
 */
export type Permission =
  | 'viewer:read'
  | 'storage:read'
  | 'policy:read'
  | 'scheme:preview'
  | 'job:read'
  | 'job:request'
  | 'job:cancel'
  | 'job:expedite'
  | 'replica:retry'
  | 'tenant:read'
  | 'tenant:create'
  | 'identity:read'
  | 'identity:write'
  | 'apikey:write'
  | 'storage:write'
  | 'policy:write'
  | 'dataset:read'
  | 'audit:verify'
  | 'restore:read'
  | 'restore:request';

export interface ConsolePage {
  href: string;
  label: string;
  /** All of these are needed to use the page. */
  needs: readonly Permission[];
}

/**
 * The tenant's configuration (storage, policies, identities) is for those who may read its identities
 * (`identity:read`: administrators, operators, auditors). A MEMBER's reads are narrowed by the API to its own
 * identity, so a MEMBER gets its own jobs only; the policies screens also need the identities to assign to.
 */
export const CONSOLE_PAGES: readonly ConsolePage[] = [
  { href: '/overview', label: 'Overview', needs: ['job:read'] },
  { href: '/jobs', label: 'Backup jobs', needs: ['job:read'] },
  { href: '/policies', label: 'Policies', needs: ['policy:read', 'identity:read'] },
  { href: '/storage', label: 'Storage systems', needs: ['storage:read', 'identity:read'] },
  { href: '/identities', label: 'Identities', needs: ['identity:read'] },
];

/** The first page of the navigation the viewer may use, its home. */
export const firstAllowedPage = (can: (permission: Permission) => boolean): ConsolePage | undefined =>
  CONSOLE_PAGES.find((page) => page.needs.every(can));
