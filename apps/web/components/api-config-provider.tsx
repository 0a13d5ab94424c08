'use client';

import { createContext, type ReactNode, useContext } from 'react';

/** The API URL the server was configured with (ECHELON_PUBLIC_API_URL), or null to derive it from the page URL. */
const ApiConfigContext = createContext<string | null>(null);

export function ApiConfigProvider({
  configuredApiUrl,
  children,
}: {
  configuredApiUrl: string | null;
  children: ReactNode;
}) {
  return <ApiConfigContext.Provider value={configuredApiUrl}>{children}</ApiConfigContext.Provider>;
}

export function useConfiguredApiUrl(): string | null {
  return useContext(ApiConfigContext);
}
