'use client';

import { Alert, Anchor, Stack, Text, Title } from '@mantine/core';
import Link from 'next/link';
import type { ReactNode } from 'react';
import { firstAllowedPage, type Permission } from '@/lib/permissions';
import { useSession } from './session-gate';

/**
 * Renders `children` only when the viewer holds every permission in `needs`; otherwise a plain "not allowed" page
 * (nothing is loaded, so there is no endless "Loading…" beside a refusal).
 */
export function RequirePermission({
  needs,
  what,
  children,
}: {
  needs: readonly Permission[];
  what: string;
  children: ReactNode;
}) {
  const session = useSession();
  const missing = needs.filter((permission) => !session.can(permission));
  if (missing.length === 0) return <>{children}</>;
  const home = firstAllowedPage(session.can);
  return (
    <Stack data-testid="not-allowed" maw={640}>
      <Title order={1}>Not allowed</Title>
      <Alert color="orange" title={`Your role cannot open ${what}`}>
        <Text>
          You are signed in as {session.viewer.identity.displayName} with the role{' '}
          {session.viewer.identity.roles.join(', ') || 'none'}. Ask a tenant administrator if you need access.
        </Text>
        <details>
          <summary>Details</summary>
          <Text size="xs" component="p">
            FORBIDDEN: the page needs {missing.join(', ')}
          </Text>
        </details>
      </Alert>
      {home ? (
        <Anchor component={Link} href={home.href}>
          Go to {home.label}
        </Anchor>
      ) : null}
    </Stack>
  );
}
