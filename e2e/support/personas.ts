import { gqlOk } from '@echelon/stack';
import type { E2eTenant } from './world.js';

/** A new identity in `tenant` with `roles`, and an API key for it: how a person of that role signs in. */
export async function personaKey(
  apiUrl: string,
  tenant: E2eTenant,
  persona: { externalId: string; displayName: string; roles: string[]; groups?: string[] },
): Promise<{ identityId: string; secret: string }> {
  const { createIdentity } = await gqlOk<{ createIdentity: { id: string } }>(
    apiUrl,
    tenant.apiKey,
    'mutation($input: CreateIdentityInput!) { createIdentity(input: $input) { id } }',
    { input: persona },
  );
  const { createApiKey } = await gqlOk<{ createApiKey: { secret: string } }>(
    apiUrl,
    tenant.apiKey,
    'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }',
    { input: { identityId: createIdentity.id, name: `e2e ${persona.externalId}` } },
  );
  return { identityId: createIdentity.id, secret: createApiKey.secret };
}
