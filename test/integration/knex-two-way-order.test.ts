import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { catalogSnapshot } from '../harness/catalog.js';
import { PRODUCTS_DDL } from '../harness/legacy-fixture.js';
import { connectionString } from '../harness/server.js';
import { useServers } from '../harness/suite.js';

// A two-way sync installed from nothing with the real Knex CLI, one knexfile with an environment
// per database, as the README shows it; run out of order, the failing migration says which
// migration must run first on which database.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const scratch = mkdtemp(path.join(ROOT, 'test', '.knex-two-way-'));
afterAll(async () => rm(await scratch, { recursive: true, force: true }));
const KNEX_TABLES = ['knex_migrations', 'knex_migrations_lock'];
const COLUMNS = `['id', 'name', 'description', 'price', 'created_at', 'updated_at']`;

interface Run {
  code: number;
  output: string;
}

function run(command: string, args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: ROOT, env: { ...process.env, ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` }),
    );
  });
}

/** One side's migrations: its endpoint first, then its link to the other side, then its sync there. */
async function side(folder: string, self: 'app' | 'legacy', other: 'app' | 'legacy'): Promise<void> {
  const upper = other.toUpperCase();
  await mkdir(folder, { recursive: true });
  const head = `import { env, fdwLink, syncEndpoint, syncTrigger } from 'pg-sync-link';\nimport { knexMigration } from 'pg-sync-link/knex';\n`;
  await writeFile(
    path.join(folder, '20261201000001_products_endpoint.mjs'),
    `${head}export const { up, down, config } = knexMigration(syncEndpoint({ table: 'products', key: ['id'], columns: ${COLUMNS} }));\n`,
  );
  await writeFile(
    path.join(folder, `20261201000002_link_${other}.mjs`),
    `${head}export const { up, down, config } = knexMigration(fdwLink({
  name: '${other}', host: env('${upper}_DB_HOST'), port: env('${upper}_DB_PORT'), dbname: env('${upper}_DB_NAME'),
  options: { application_name: 'pg-sync-link to ${other}' },
  userMappings: [{ user: process.env.${upper}_DB_USER, password: env('${upper}_DB_PASSWORD') }],
}));\n`,
  );
  await writeFile(
    path.join(folder, `20261201000003_sync_products_to_${other}.mjs`),
    `${head}export const { up, down, config } = knexMigration(syncTrigger({
  server: '${other}', table: 'products', key: ['id'], columns: ${COLUMNS},
  ignoreWritesBy: { applicationName: 'pg-sync-link to ${self}' },
}));\n`,
  );
}

let app: pg.Client;
let legacy: pg.Client;
let env: Record<string, string>;
let knexfile: string;

useServers('knextwoway', async (servers) => {
  ({ app, legacy } = servers);
  const { pair, names } = servers;
  await app.query(PRODUCTS_DDL);
  await legacy.query(PRODUCTS_DDL);
  const folder = path.join(await scratch, Math.random().toString(36).slice(2));
  await side(path.join(folder, 'migrations/app'), 'app', 'legacy');
  await side(path.join(folder, 'migrations/legacy'), 'legacy', 'app');
  knexfile = path.join(folder, 'knexfile.mjs');
  await writeFile(
    knexfile,
    `const side = (name) => ({ client: 'pg', connection: process.env[name.toUpperCase() + '_DATABASE_URL'],
  migrations: { directory: './migrations/' + name, loadExtensions: ['.mjs'] } });
export default { app: side('app'), legacy: side('legacy') };\n`,
  );
  env = {
    APP_DATABASE_URL: connectionString(pair.app, names.app),
    LEGACY_DATABASE_URL: connectionString(pair.legacy, names.legacy),
    APP_DB_HOST: pair.app.peerHost,
    APP_DB_PORT: String(pair.app.peerPort),
    APP_DB_NAME: names.app,
    APP_DB_USER: pair.app.user,
    APP_DB_PASSWORD: pair.app.password,
    LEGACY_DB_HOST: pair.legacy.peerHost,
    LEGACY_DB_PORT: String(pair.legacy.peerPort),
    LEGACY_DB_NAME: names.legacy,
    LEGACY_DB_USER: pair.legacy.user,
    LEGACY_DB_PASSWORD: pair.legacy.password,
  };
});

const knex = (...args: string[]) => run('npx', ['knex', '--knexfile', knexfile, ...args], env);
const rows = async (client: pg.Client) => (await client.query('SELECT id, name, price FROM products ORDER BY id')).rows;

describe('two-way sync with the Knex CLI, from nothing', () => {
  it('out of order, the sync migration names the missing endpoint and the database to migrate first; in order, both ways sync', async () => {
    const before = { app: await catalogSnapshot(app, KNEX_TABLES), legacy: await catalogSnapshot(legacy, KNEX_TABLES) };

    // app's sync before legacy's endpoint exists.
    const early = await knex('migrate:latest', '--env', 'app');
    expect(early.code).not.toBe(0);
    expect(early.output).toContain('20261201000003_sync_products_to_legacy.mjs');
    expect(early.output).toMatch(
      new RegExp(
        `cannot set up the sync of public\\.products to server legacy: the server has no sync endpoint for public\\.products .*relation "public\\.products__sync_upsert_\\w+" does not exist\\. Run the migration with that syncEndpoint on database ${env.LEGACY_DB_NAME} at [^:]+:${env.LEGACY_DB_PORT} \\(server legacy\\) first, then this migration again\\.`,
      ),
    );

    // The order the README gives: legacy's endpoint, then all of app, then the rest of legacy.
    expect((await knex('migrate:up', '--env', 'legacy')).code).toBe(0);
    const appRun = await knex('migrate:latest', '--env', 'app');
    expect(appRun.code, appRun.output).toBe(0);
    const legacyRun = await knex('migrate:latest', '--env', 'legacy');
    expect(legacyRun.code, legacyRun.output).toBe(0);

    await app.query(`INSERT INTO products VALUES (1, 'Kettle', NULL, 2999, now(), now())`);
    await legacy.query(`INSERT INTO products VALUES (2, 'Teapot', NULL, 4550, now(), now())`);
    await legacy.query('UPDATE products SET price = 3199 WHERE id = 1');
    expect(await rows(app)).toEqual([
      { id: '1', name: 'Kettle', price: 3199 },
      { id: '2', name: 'Teapot', price: 4550 },
    ]);
    expect(await rows(legacy)).toEqual(await rows(app));
    const verify = await run(
      'node',
      [
        path.join(ROOT, 'dist/cli.js'),
        'verify',
        '--local-env',
        'APP_DATABASE_URL',
        '--remote-env',
        'LEGACY_DATABASE_URL',
        path.join(path.dirname(knexfile), 'migrations/app'),
      ],
      env,
    );
    expect(verify.code, verify.output).toBe(0);

    expect((await knex('migrate:rollback', '--all', '--env', 'legacy')).code).toBe(0);
    expect((await knex('migrate:rollback', '--all', '--env', 'app')).code).toBe(0);
    expect(await catalogSnapshot(app, KNEX_TABLES)).toEqual(before.app);
    expect(await catalogSnapshot(legacy, KNEX_TABLES)).toEqual(before.legacy);
  });
});
