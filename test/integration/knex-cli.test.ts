import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { catalogSnapshot } from '../harness/catalog.js';
import { PRODUCT_ROWS, readProducts, seedProducts } from '../harness/legacy-fixture.js';
import type { ServerPair } from '../harness/pair.js';
import { connectionString } from '../harness/server.js';
import { useServers } from '../harness/suite.js';

// The real Knex CLI in a child process, on the built package (dist/), as a user runs it.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const KNEXFILES = [
  { kind: 'ES module knexfile.mjs and .mjs migrations', path: 'test/fixtures/knex-esm/knexfile.mjs' },
  { kind: 'CommonJS (knexfile.cjs and .cjs migrations)', path: 'test/fixtures/knex-cjs/knexfile.cjs' },
];
const KNEX_TABLES = ['knex_migrations', 'knex_migrations_lock'];

interface CliResult {
  code: number;
  output: string;
}

function knex(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile('npx', ['knex', ...args], { cwd: ROOT, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

let pair: ServerPair;
let app: pg.Client;
let env: Record<string, string>;

useServers('knexcli', async (servers) => {
  ({ pair, app } = servers);
  await seedProducts(servers.legacy);
  env = {
    APP_DATABASE_URL: connectionString(pair.app, servers.names.app),
    LEGACY_DB_HOST: pair.legacy.peerHost,
    LEGACY_DB_PORT: String(pair.legacy.peerPort),
    LEGACY_DB_NAME: servers.names.legacy,
    LEGACY_DB_USER: pair.legacy.user,
    LEGACY_DB_PASSWORD: pair.legacy.password,
  };
});

describe.each(KNEXFILES)('npx knex with a $kind', ({ path }) => {
  it('migrate:latest links app to legacy; rollback leaves app as it was', async () => {
    // Knex creates its own bookkeeping tables on the first run; they are not ours to undo.
    const before = await catalogSnapshot(app, KNEX_TABLES);
    // Knex's query log is on: it prints every statement text, which must not hold the password.
    const latest = await knex(['migrate:latest', '--knexfile', path], { ...env, DEBUG: 'knex:query' });
    expect(latest.output).toMatch(/Batch 1 run: \d+ migrations/);
    expect(latest.output).toContain('pg_sync_link.secret_1');
    expect(latest.code).toBe(0);
    expect(await readProducts(app, { name: 'legacy_products' })).toEqual(PRODUCT_ROWS);

    const rollback = await knex(['migrate:rollback', '--all', '--knexfile', path], env);
    expect(rollback.code).toBe(0);
    expect(rollback.output).toMatch(/Batch 1 rolled back: \d+ migrations/);
    expect(await catalogSnapshot(app, KNEX_TABLES)).toEqual(before);
    expect(`${latest.output}${rollback.output}`).not.toContain(pair.legacy.password);
  });

  it('a missing password variable fails the run, names the variable and changes nothing', async () => {
    const before = await catalogSnapshot(app, KNEX_TABLES);
    const { LEGACY_DB_PASSWORD: _password, ...withoutPassword } = env;
    const result = await knex(['migrate:latest', '--knexfile', path], { ...withoutPassword, LEGACY_DB_PASSWORD: '' });
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('Environment variable LEGACY_DB_PASSWORD is not set');
    expect(await catalogSnapshot(app, KNEX_TABLES)).toEqual(before);
    const { rows } = await app.query(`SELECT count(*)::int AS n FROM knex_migrations`);
    expect(rows[0].n).toBe(0);
  });
});
