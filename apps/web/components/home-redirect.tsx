'use client';

import { Text } from '@mantine/core';
import { useRouter } from 'next/navigation';
import { useEffect } from 'react';
import { firstAllowedPage } from '@/lib/permissions';
import { useSession } from './session-gate';

/** Sends the viewer to the first page of the navigation it may use. */
export function HomeRedirect() {
  const session = useSession();
  const router = useRouter();
  const home = firstAllowedPage(session.can);
  useEffect(() => {
    if (home) router.replace(home.href);
  }, [home, router]);
  return home ? (
    <Text className="loading">Opening {home.label}…</Text>
  ) : (
    <Text data-testid="no-pages">Your role has no page in this console. Ask a tenant administrator for access.</Text>
  );
}
