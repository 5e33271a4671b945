import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applySyncLink,
  buildMigration,
  env,
  fdwLink,
  foreignServer,
  previewMigration,
  runMigration,
  syncEndpoint,
  syncRole,
  syncTrigger,
  userMapping,
} from '../../src/index.js';
import { fdwExtensionNode } from '../../src/kinds/index.js';
import { freePort } from '../../src/testing/embedded.js';
import { catalogSnapshot } from '../harness/catalog.js';
import type { ServerPair } from '../harness/pair.js';
import { connectionString } from '../harness/server.js';
import { logDuring, logMarked } from '../harness/server-log.js';
import { useServers } from '../harness/suite.js';

// One distinctive password, with a quote, a double quote, backslashes and format() and
// placeholder look-alikes, followed through every place it could leak: previews, the `sql`
// command, Knex's query log, applySyncLink, failing migrations (message, every printed form,
// the cause chain) and both servers' logs with every statement logged.
const MARK = 'Qx7vK2';
const PASSWORD = `${MARK}'"\\n\\'%s$1;--🔑`;
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const COLUMNS = ['id', 'name', 'price'];

let pair: ServerPair;
let legacy: pg.Client;
let app: pg.Client;
let names: { legacy: string; app: string };
/** Roles belong to the cluster, which outlives each test's databases: one per test. */
let ROLE: string;

// Its own servers: it turns on statement logging for the whole server (ALTER SYSTEM) and
// reads the whole log, where another file's statements would not belong.
const servers = useServers(
  'scan',
  async (servers) => {
    ({ pair, legacy, app, names } = servers);
    ROLE = `scan_sync_${randomBytes(3).toString('hex')}`;
    process.env.SCAN_PASSWORD = PASSWORD;
    process.env.SCAN_WRONG_PASSWORD = PASSWORD.replace(MARK, `${MARK}-wrong`);
    for (const client of [legacy, app])
      await client.query('CREATE TABLE products (id bigint PRIMARY KEY, name text, price integer)');
  },
  { private: true },
);

beforeAll(async () => {
  // Every statement logged, with the most detailed error reports, on both servers.
  for (const server of [servers.pair.legacy, servers.pair.app]) {
    const client = new pg.Client({ connectionString: connectionString(server, 'postgres') });
    await client.connect();
    await client.query(`ALTER SYSTEM SET log_statement = 'all'`);
    await client.query(`ALTER SYSTEM SET log_error_verbosity = 'verbose'`);
    await client.query(`ALTER SYSTEM SET log_min_error_statement = 'debug5'`);
    await client.query('SELECT pg_reload_conf()');
    await client.end();
  }
});

/** Every way an error could be printed or inspected, its cause chain included. */
function printedForms(error: unknown): string {
  const forms: string[] = [];
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 10; depth += 1) {
    forms.push(String(current), inspect(current, { depth: Infinity, showHidden: true }), JSON.stringify(current) ?? '');
    if (current instanceof Error) forms.push(current.message, current.stack ?? '');
    current = (current as { cause?: unknown }).cause;
  }
  return forms.join('\n');
}

async function failureOf(work: Promise<unknown>): Promise<unknown> {
  const error = await work.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(Error);
  return error;
}

function run(
  command: string,
  args: string[],
  environment: Record<string, string>,
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: ROOT, env: { ...process.env, ...environment } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` }),
    );
  });
}

const legacySide = () => [
  syncRole({ name: ROLE, password: env('SCAN_PASSWORD') }),
  syncEndpoint({ table: 'products', key: ['id'], columns: COLUMNS, grantTo: ROLE }),
];
const link = (password = 'SCAN_PASSWORD', port = pair.legacy.peerPort) =>
  fdwLink({
    name: 'legacy',
    host: pair.legacy.peerHost,
    port,
    dbname: names.legacy,
    userMappings: [{ user: ROLE, password: env(password) }],
  });
const appSide = () => [link(), syncTrigger({ server: 'legacy', table: 'products', key: ['id'], columns: COLUMNS })];

let scratch: string | undefined;
afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('a password, followed everywhere it could leak', () => {
  it('is in no preview and not in the output of the sql command', async () => {
    const printed = [buildMigration('legacy', legacySide()), buildMigration('app', appSide())].flatMap((migration) => [
      previewMigration(migration, 'up'),
      previewMigration(migration, 'down'),
      inspect(migration, { depth: Infinity }),
      JSON.stringify(migration),
    ]);
    expect(printed.join('\n')).toContain('[redacted env:SCAN_PASSWORD]');
    // The built command, as a DBA runs it (npx tsup first); the module imports the package itself.
    scratch = await mkdtemp(path.join(ROOT, 'test', '.scan-'));
    const file = path.join(scratch, 'link.mjs');
    await writeFile(
      file,
      `import { env, fdwLink, syncRole } from 'pg-sync-link';\nexport const role = syncRole({ name: 'r', password: env('SCAN_PASSWORD') });\nexport const link = fdwLink({ name: 'legacy', host: 'db', dbname: 'legacy', userMappings: [{ user: 'r', password: env('SCAN_PASSWORD') }] });\n`,
    );
    const up = await run('node', ['dist/cli.js', 'sql', file], { SCAN_PASSWORD: PASSWORD });
    const down = await run('node', ['dist/cli.js', 'sql', file, '--down'], { SCAN_PASSWORD: PASSWORD });
    expect(up.code).toBe(0);
    expect(up.output).toContain(`PASSWORD '[redacted env:SCAN_PASSWORD]'`);
    expect(`${printed.join('\n')}${up.output}${down.output}`).not.toContain(MARK);
  });

  it('is in no statement Knex logs (DEBUG=knex:query), and applySyncLink syncs with it', async () => {
    await applySyncLink(connectionString(pair.legacy, names.legacy), legacySide());
    const before = await catalogSnapshot(app, ['knex_migrations', 'knex_migrations_lock']);
    const environment = {
      APP_DATABASE_URL: connectionString(pair.app, names.app),
      LEGACY_DB_HOST: pair.legacy.peerHost,
      LEGACY_DB_PORT: String(pair.legacy.peerPort),
      LEGACY_DB_NAME: names.legacy,
      LEGACY_DB_USER: ROLE,
      LEGACY_DB_PASSWORD: PASSWORD,
      // knex:query only: Knex's separate knex:bindings log prints bound values, the password among them.
      DEBUG: 'knex:query',
    };
    const latest = await run(
      'npx',
      ['knex', 'migrate:latest', '--knexfile', 'test/fixtures/knex-esm/knexfile.mjs'],
      environment,
    );
    expect(latest.output).toContain('pg_sync_link.secret_1');
    expect(latest.code).toBe(0);
    const rollback = await run(
      'npx',
      ['knex', 'migrate:rollback', '--all', '--knexfile', 'test/fixtures/knex-esm/knexfile.mjs'],
      environment,
    );
    expect(rollback.code).toBe(0);
    expect(await catalogSnapshot(app, ['knex_migrations', 'knex_migrations_lock'])).toEqual(before);
    expect(`${latest.output}${rollback.output}`).not.toContain(MARK);

    const logged: string[] = [];
    const result = await applySyncLink(connectionString(pair.app, names.app), appSide(), {
      log: (line) => logged.push(line),
    });
    await app.query(`INSERT INTO products VALUES (1, 'synced', 10)`);
    expect((await legacy.query('SELECT name FROM products')).rows).toEqual([{ name: 'synced' }]);
    expect(`${logged.join('\n')}${inspect(result, { depth: Infinity })}`).not.toContain(MARK);
  });

  it('is in no error of a failing migration: wrong password, unreachable server, a failing statement that carries it', async () => {
    await applySyncLink(connectionString(pair.legacy, names.legacy), legacySide());
    const errors: unknown[] = [];
    const apply = (migration: ReturnType<typeof buildMigration>) =>
      runMigration(migration, 'up', (sql, values) => app.query(sql, [...values]));
    await app.query('BEGIN');
    errors.push(await failureOf(apply(buildMigration('wrong password', link('SCAN_WRONG_PASSWORD')))));
    await app.query('ROLLBACK');
    await app.query('BEGIN');
    errors.push(await failureOf(apply(buildMigration('unreachable', link('SCAN_PASSWORD', await freePort())))));
    await app.query('ROLLBACK');
    // The mapping exists already: the statement that carries the password is the one that fails.
    const again = buildMigration(
      'mapping again',
      userMapping({ server: 'legacy', user: ROLE, password: env('SCAN_PASSWORD') }),
    );
    await applySyncLink(connectionString(pair.app, names.app), appSide());
    errors.push(await failureOf(apply(again)));
    // The same through applySyncLink, which runs it in its own transaction.
    errors.push(await failureOf(applySyncLink(connectionString(pair.app, names.app), [again])));

    expect((errors[0] as Error).message).toContain(`password authentication failed for user "${ROLE}"`);
    expect((errors[1] as Error).message).toMatch(/foreign server legacy cannot reach its remote database/);
    expect((errors[2] as Error).message).toMatch(/user mapping for "postgres" already exists for server "?legacy"?/);
    expect(errors.map(printedForms).join('\n')).not.toContain(MARK);
  });

  it('a migrating role that is not a superuser needs SET on log_parameter_max_length, or its bound password is logged', async (context) => {
    if (!pair.app.log) return context.skip('this backend does not give the server log');
    const migrator = `scan_migrator_${randomBytes(3).toString('hex')}`;
    await app.query(`CREATE ROLE ${migrator}`);
    await applySyncLink(connectionString(pair.app, names.app), [
      fdwExtensionNode,
      foreignServer({ name: 'legacy', host: pair.legacy.peerHost, port: pair.legacy.peerPort, dbname: names.legacy }),
    ]);
    await app.query(`GRANT USAGE ON FOREIGN SERVER legacy TO ${migrator}`);
    const asMigrator = async (variable: string) => {
      const mapping = buildMigration('mapping', userMapping({ server: 'legacy', user: ROLE, password: env(variable) }));
      await app.query(`SET ROLE ${migrator}`);
      try {
        await runMigration(mapping, 'up', (sql, values) => app.query(sql, [...values]));
        await runMigration(mapping, 'down', (sql, values) => app.query(sql, [...values]));
      } finally {
        await app.query('RESET ROLE');
      }
    };
    // Without the right to change the setting, PostgreSQL logs the bound value in full.
    process.env.SCAN_UNPROTECTED = 'Wp3nL8-unprotected';
    const unprotected = await logDuring(pair.app, app, () => asMigrator('SCAN_UNPROTECTED'));
    expect(unprotected).toMatch(/parameters: \$1 = 'Wp3nL8-unprotected'/i); // PostgreSQL 18 writes Parameters
    // GRANT SET ON PARAMETER (PostgreSQL 15+), once, by a superuser: the value is not logged.
    await app.query(`GRANT SET ON PARAMETER log_parameter_max_length TO ${migrator}`);
    process.env.SCAN_PROTECTED = 'Hd5tR1-protected';
    const protectedLog = await logDuring(pair.app, app, () => asMigrator('SCAN_PROTECTED'));
    expect(protectedLog).toContain(`SELECT pg_catalog.set_config('pg_sync_link.secret_1', $1, false)`);
    expect(protectedLog).not.toContain('Hd5tR1');
    await app.query(`REVOKE SET ON PARAMETER log_parameter_max_length FROM ${migrator}`);
  });

  it('is in neither server log, with every statement logged', async (context) => {
    if (!pair.legacy.log || !pair.app.log) return context.skip('this backend does not give the server log');
    const logs = `${await logMarked(pair.legacy, legacy)}\n${await logMarked(pair.app, app)}`;
    // The log really holds the statements (and the failures) of the tests above.
    expect(logs).toContain('pg_sync_link.secret_1');
    expect(logs).toMatch(/already exists/);
    expect(logs).toMatch(/password authentication failed/);
    expect(logs).not.toContain(MARK);
  });
});
