'use client';

import Link from 'next/link';
import { usePathname } from 'next/navigation';
import type { ViewerSummary } from '@/lib/types';

const NAV_ITEMS = [
  { href: '/jobs', label: 'Backup jobs' },
  { href: '/storage', label: 'Storage systems' },
  { href: '/identities', label: 'Identities' },
] as const;

export function AppHeader({ viewer, onSignOut }: { viewer: ViewerSummary; onSignOut: () => void }) {
  return (
    <header className="app-header">
      <div className="app-header__inner">
        <Link href="/jobs" className="brand" aria-label="Echelon home">
          <span className="brand__mark" aria-hidden="true">
            E
          </span>
          <span className="brand__name">Echelon</span>
        </Link>
        <nav aria-label="Main" className="app-nav">
          <ul>
            {NAV_ITEMS.map((item) => (
              <NavItem key={item.href} href={item.href} label={item.label} />
            ))}
          </ul>
        </nav>
        <div className="app-header__account">
          <span
            className="tenant"
            data-testid="tenant-name"
            title={viewer.tenant ? `Tenant ${viewer.tenant.slug}` : undefined}
          >
            {viewer.tenant?.name ?? 'Platform'}
          </span>
          <span className="identity" data-testid="viewer-name" title={viewer.identity.externalId}>
            {viewer.identity.displayName}
          </span>
          <button type="button" className="button button--ghost" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </div>
    </header>
  );
}

function NavItem({ href, label }: { href: string; label: string }) {
  const isActive = useIsActivePath(href);
  return (
    <li>
      <Link href={href} className="app-nav__link" aria-current={isActive ? 'page' : undefined}>
        {label}
      </Link>
    </li>
  );
}

function useIsActivePath(href: string): boolean {
  const pathname = usePathname();
  return pathname === href || pathname.startsWith(`${href}/`);
}
