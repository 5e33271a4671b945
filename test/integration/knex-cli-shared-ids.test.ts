import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { expect, it } from 'vitest';
import { buildMigration, sharedIdSource } from '../../src/index.js';
import { applyInTransaction } from '../harness/apply.js';
import { catalogSnapshot } from '../harness/catalog.js';
import { connectionString } from '../harness/server.js';
import { useServers } from '../harness/suite.js';

// The real Knex CLI on the built package: Knex records each migration in knex_migrations by
// its unqualified name, in the migration's own transaction, so a migration that left
// search_path changed would fail there.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const KNEXFILE = 'test/fixtures/knex-ids/knexfile.mjs';
const KNEX_TABLES = ['knex_migrations', 'knex_migrations_lock'];
const TABLES =
  'CREATE TABLE products (id bigserial PRIMARY KEY, name text); CREATE TABLE things (id bigserial PRIMARY KEY, name text)';

function knex(args: string[], env: Record<string, string>): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('npx', ['knex', ...args], { cwd: ROOT, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

let app: pg.Client;
let env: Record<string, string>;

useServers('knexids', async (servers) => {
  const { pair, legacy } = servers;
  app = servers.app;
  await legacy.query(TABLES);
  await app.query(TABLES);
  await applyInTransaction(
    legacy,
    buildMigration(
      'id sources',
      sharedIdSource({ table: 'products', column: 'id', strategy: 'block', blockBase: 1000, blockSize: 10 }),
      sharedIdSource({ table: 'things', column: 'id', strategy: 'per-row' }),
    ),
    'up',
  );
  env = {
    APP_DATABASE_URL: connectionString(pair.app, servers.names.app),
    LEGACY_DB_HOST: pair.legacy.peerHost,
    LEGACY_DB_PORT: String(pair.legacy.peerPort),
    LEGACY_DB_NAME: servers.names.legacy,
    LEGACY_DB_USER: pair.legacy.user,
    LEGACY_DB_PASSWORD: pair.legacy.password,
  };
});

it('npx knex migrate:latest records shared-ids migrations (block and per-row); rollback undoes them', async () => {
  const before = await catalogSnapshot(app, KNEX_TABLES);
  const latest = await knex(['migrate:latest', '--knexfile', KNEXFILE], env);
  expect(latest.output).not.toContain('does not exist');
  expect(latest.output).toMatch(/Batch 1 run: 3 migrations/);
  expect(latest.code).toBe(0);
  await app.query(`INSERT INTO products (name) VALUES ('block'); INSERT INTO things (name) VALUES ('per row')`);
  expect(Number((await app.query('SELECT id FROM products')).rows[0].id)).toBeGreaterThanOrEqual(1000);

  const rollback = await knex(['migrate:rollback', '--all', '--knexfile', KNEXFILE], env);
  expect(rollback.output).toMatch(/Batch 1 rolled back: 3 migrations/);
  expect(rollback.code).toBe(0);
  await app.query('DELETE FROM products; DELETE FROM things');
  expect(await catalogSnapshot(app, KNEX_TABLES)).toEqual(before);
});
