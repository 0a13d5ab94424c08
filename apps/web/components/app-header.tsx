'use client';

import { Burger, Button } from '@mantine/core';
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { useEffect, useState } from 'react';
import { CONSOLE_PAGES, type Permission } from '@/lib/permissions';
import type { ViewerSummary } from '@/lib/view-types';

/** The console's header: only the pages the viewer's roles can use; at narrow widths the pages fold behind a menu. */
export function AppHeader({
  viewer,
  can,
  onSignOut,
}: {
  viewer: ViewerSummary;
  can: (permission: Permission) => boolean;
  onSignOut: () => void;
}) {
  const pages = CONSOLE_PAGES.filter((page) => page.needs.every(can));
  const [isMenuOpen, setMenuOpen] = useState(false);
  const pathname = usePathname();
  // Moving to another page closes the menu.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the path is the trigger
  useEffect(() => setMenuOpen(false), [pathname]);
  return (
    <header className="app-header">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <div className="app-header__inner">
        <Link href={pages[0]?.href ?? '/jobs'} className="brand" aria-label="Echelon home">
          <span className="brand__mark" aria-hidden="true">
            E
          </span>
          <span className="brand__name">Echelon</span>
        </Link>
        <Burger
          className="app-header__burger"
          opened={isMenuOpen}
          onClick={() => setMenuOpen((open) => !open)}
          color="#f1f5f9"
          size="sm"
          aria-label={isMenuOpen ? 'Close the menu' : 'Open the menu'}
          aria-expanded={isMenuOpen}
          aria-controls="main-nav"
        />
        <nav aria-label="Main" id="main-nav" className="app-nav" data-open={isMenuOpen ? 'true' : 'false'}>
          <ul>
            {pages.map((page) => (
              <NavItem key={page.href} href={page.href} label={page.label} />
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
          <Button variant="outline" color="gray.2" size="xs" onClick={onSignOut}>
            Sign out
          </Button>
        </div>
      </div>
    </header>
  );
}

function NavItem({ href, label }: { href: string; label: string }) {
  const pathname = usePathname();
  const isActive = pathname === href || pathname.startsWith(`${href}/`);
  return (
    <li>
      <Link href={href} className="app-nav__link" aria-current={isActive ? 'page' : undefined}>
        {label}
      </Link>
    </li>
  );
}
