// `npm start`: everything on one machine with embedded defaults, then the URLs and the demo login.
import { loadConfig } from '@echelon/config';
import { startStack } from '@echelon/stack';

const webMode = loadConfig().webMode;
let stopping = false;
let stop: (() => Promise<void>) | undefined;

async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping every Echelon process…`);
  await stop?.();
  console.log('stopped.');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

try {
  const stack = await startStack({ seedDemo: true, web: webMode });
  stop = stack.stop;
  if (stopping) await stack.stop();
  const line = '─'.repeat(72);
  console.log(`
${line}
 Echelon is up
   Web UI           ${stack.webUrl}
   GraphQL API      ${stack.apiUrl}/graphql   (HTTP and graphql-ws)
   Uploads (tus)    ${stack.apiUrl}/uploads
   Temporal UI      ${stack.temporalUiUrl ?? `(external Temporal at ${stack.temporalAddress})`}
   PostgreSQL       ${stack.databaseUrl.replace(/:[^:@/]+@/, ':***@')}
   Data             ${stack.config.dataDir}

 Demo login (tenant "${stack.demo?.tenantSlug}", identity "${stack.demo?.identity}")
   API key          ${stack.demo?.apiKey}
   Sign in at ${stack.webUrl}/login with that key, or send it as "Authorization: Bearer <key>".

 Ctrl-C stops everything.
${line}`);
} catch (error) {
  console.error(`\nEchelon could not start: ${error instanceof Error ? error.message : String(error)}`);
  await stop?.();
  process.exit(1);
}
