import '@mantine/core/styles.css';
import '@mantine/charts/styles.css';
import { ColorSchemeScript, MantineProvider, mantineHtmlProps } from '@mantine/core';
import type { Metadata, Viewport } from 'next';
import { connection } from 'next/server';
import type { ReactNode } from 'react';
import { ApiConfigProvider } from '@/components/api-config-provider';
import { consoleTheme } from '@/lib/theme';
import { readConfiguredApiUrl } from '@/lib/server-config';
import './globals.css';

export const metadata: Metadata = {
  title: { default: 'Echelon', template: '%s · Echelon' },
  description: 'Echelon backup orchestration — admin console',
};

export const viewport: Viewport = { width: 'device-width', initialScale: 1 };

export default async function RootLayout({ children }: { children: ReactNode }) {
  // Render per request, so ECHELON_PUBLIC_API_URL is read from the running server's environment, not frozen at build.
  await connection();
  const configuredApiUrl = readConfiguredApiUrl();
  return (
    <html lang="en" {...mantineHtmlProps}>
      <head>
        <ColorSchemeScript defaultColorScheme="light" />
      </head>
      <body>
        <MantineProvider theme={consoleTheme} defaultColorScheme="light">
          <ApiConfigProvider configuredApiUrl={configuredApiUrl}>{children}</ApiConfigProvider>
        </MantineProvider>
      </body>
    </html>
  );
}
