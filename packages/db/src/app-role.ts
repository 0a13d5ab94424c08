import { createHmac } from 'node:crypto';
import pg from 'pg';
import type { Db } from './client.js';

/** The role the API and the worker connect as (created without LOGIN by the `row_level_security` migration). */
export const APP_ROLE = 'echelon_app';

/**
 * Lets the application's role sign in and returns the URL the API and the worker use: the owner's URL with that
 * role and its password. Run by the launcher, with the owner's URL, after the migrations. The password is derived
 * from the owner's credentials and the database name, so every launcher of one database sets the same one (a
 * second `npm start`, or a stack sharing an external database, never locks out the processes of another); whoever
 * can derive it already holds the owner's credentials.
 */
export async function ensureAppRole(ownerUrl: string): Promise<string> {
  const url = new URL(ownerUrl);
  const password = createHmac('sha256', decodeURIComponent(url.password) || 'echelon')
    .update(`${APP_ROLE}|${decodeURIComponent(url.username)}|${url.pathname}`)
    .digest('hex');
  const owner = new pg.Client({ connectionString: ownerUrl });
  await owner.connect();
  try {
    const { rows } = await owner.query<{ statement: string }>(
      'SELECT format($$ALTER ROLE %I WITH LOGIN PASSWORD %L$$, $1::text, $2::text) AS statement',
      [APP_ROLE, password],
    );
    await owner.query(rows[0]?.statement ?? '');
  } finally {
    await owner.end();
  }
  url.username = APP_ROLE;
  url.password = password;
  return url.toString();
}

/**
 * Warns when the role `db` connects as escapes row-level security (a superuser, or BYPASSRLS): then only the
 * application's own filters keep tenants apart. `process` names the caller in the warning.
 */
export async function warnIfRowSecurityBypassed(db: Db, process: string): Promise<void> {
  const [row] = await db.$queryRaw<{ bypasses: boolean }[]>`
    SELECT rolsuper OR rolbypassrls AS bypasses FROM pg_roles WHERE rolname = current_user`;
  if (row?.bypasses === true) {
    console.warn(
      `${process}: the database role is a superuser or has BYPASSRLS, so row-level security does not apply to it`,
    );
  }
}
