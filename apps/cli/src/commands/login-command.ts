import type { Command } from 'commander';
import { request } from '../api-client.js';
import type { CliContext } from '../cli-context.js';
import { CliError } from '../cli-errors.js';
import { guarded, withJson } from '../command-action.js';
import { manPage } from '../help-text.js';
import { VIEWER_QUERY } from '../operations.js';
import { printJson, printLine } from '../output.js';
import { saveSettings } from '../settings-store.js';

interface LoginOptions {
  apiUrl: string;
  key?: string;
  json?: boolean;
}

/** The first line of stdin: the key, piped or typed, so it need not appear in the shell's history or `ps`. */
async function readKey(context: CliContext): Promise<string> {
  if (context.io.isInteractive) context.io.stderr.write('API key: ');
  let text = '';
  for await (const piece of context.io.stdin) {
    text += piece.toString();
    if (text.includes('\n')) break;
  }
  return text.split('\n')[0]?.trim() ?? '';
}

function normalUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError('BAD_USER_INPUT', `--api-url "${raw}" is not a URL: give one such as http://localhost:4000`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError('BAD_USER_INPUT', `--api-url must be http:// or https://, not ${url.protocol}`);
  }
  return url.origin + url.pathname.replace(/\/+$/, '').replace(/\/graphql$/, '');
}

export function addLoginCommand(program: Command, context: CliContext): void {
  withJson(
    program
      .command('login')
      .summary('save the API URL and an API key for the next commands')
      .description('Checks an API key against the API and saves it, with the API URL, for the next commands.')
      .requiredOption('--api-url <url>', 'where the API is, e.g. http://localhost:4000')
      .option('--key <secret>', 'the API key (omit it to read the key from stdin, unseen by `ps`)'),
  )
    .addHelpText(
      'after',
      manPage({
        description: `Asks the API who the key belongs to (the viewer query); only a key the API accepts is saved.
The settings file is config.json in the config directory, readable by you alone (mode 0600).
A key the API refuses exits 3 and saves nothing.`,
        examples: [
          'echelon login --api-url http://localhost:4000 < key.txt',
          'echo "$ECHELON_KEY" | echelon login --api-url https://backup.example.com',
        ],
      }),
    )
    .action(
      guarded(context, async (options: LoginOptions) => {
        const apiUrl = normalUrl(options.apiUrl);
        const apiKey = options.key ?? (await readKey(context));
        if (apiKey === '') throw new CliError('BAD_USER_INPUT', 'no API key given: pass --key or send it on stdin');
        const { viewer } = await request({ apiUrl, apiKey }, VIEWER_QUERY, {}, context.signal);
        const file = await saveSettings(context.configDir, { apiUrl, apiKey });
        const who = { externalId: viewer.identity.externalId, tenant: viewer.tenant?.slug ?? null };
        if (options.json) printJson(context.io, { apiUrl, settingsFile: file, identity: who });
        else
          printLine(context.io, `logged in to ${apiUrl} as ${who.externalId}${who.tenant ? ` (${who.tenant})` : ''}`);
      }),
    );
}
