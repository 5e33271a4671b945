import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PRODUCTS_DDL } from '../harness/legacy-fixture.js';
import { connectionString } from '../harness/server.js';
import { useServers } from '../harness/suite.js';

// `pg-sync-link verify` and `backfill`, the built dist/cli.js in a child process, as a user runs
// them. The module with the sync node lives inside the package so its import resolves to it.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = path.join(ROOT, 'dist/cli.js');
const scratch = mkdtemp(path.join(ROOT, 'test', '.cli-verify-'));
afterAll(async () => rm(await scratch, { recursive: true, force: true }));

let legacy: pg.Client;
let app: pg.Client;
let env: Record<string, string>;

const ROWS = (count: number) =>
  `INSERT INTO products SELECT g, 'product ' || g, NULL, g % 5000, timestamp '2020-01-01' + g * interval '1 second', timestamp '2024-01-01' FROM generate_series(1, ${count}) g`;

useServers('verifycli', async (servers) => {
  ({ legacy, app } = servers);
  env = {
    APP_URL: connectionString(servers.pair.app, servers.names.app),
    LEGACY_URL: connectionString(servers.pair.legacy, servers.names.legacy),
  };
  await legacy.query(PRODUCTS_DDL);
  await app.query(PRODUCTS_DDL);
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile('node', [CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

async function syncModule(extension = 'mjs'): Promise<string> {
  const file = path.join(await scratch, `sync-${Math.random().toString(36).slice(2)}.${extension}`);
  await writeFile(
    file,
    `import { syncTrigger, sqlExpression } from 'pg-sync-link';
${extension === 'ts' ? `const key: string[] = ['id'];\n` : ''}export const productsSync = syncTrigger({
  server: 'legacy', table: 'products', key: ['id'],
  columns: ['id', { remote: 'name', expression: sqlExpression('upper(src.name)') }, 'price', 'created_at', 'updated_at'],
});
`,
  );
  return file;
}

const count = async (client: pg.Client) => Number((await client.query('SELECT count(*) AS n FROM products')).rows[0].n);
const connections = ['--local-env', 'APP_URL', '--remote-env', 'LEGACY_URL'];

describe('pg-sync-link verify', () => {
  it('exits 0 when equal, 1 with the differing keys when not, through a module that exports the sync node', async () => {
    const file = await syncModule();
    await app.query(ROWS(50));
    await legacy.query(`${ROWS(50).replace("'product ' || g", "upper('product ' || g)")}`);
    const equal = await cli('verify', ...connections, file);
    expect(equal.code, equal.stderr).toBe(0);
    expect(equal.stdout).toBe('rows: 50 local, 50 remote\nequal\n');
    await legacy.query(`DELETE FROM products WHERE id = 3`);
    await legacy.query(`UPDATE products SET name = 'product 4' WHERE id = 4`);
    const differ = await cli('verify', ...connections, file);
    expect(differ.code).toBe(1);
    expect(differ.stdout).toBe(
      'rows: 50 local, 49 remote\nmissing on remote: 1\n  id="3"\nmissing on local: 0\ndiffering: 1\n  id="4"\n',
    );
    expect(differ.stderr).toContain('counting rows'); // plain progress lines: stderr is not a terminal
    const typescript = await cli('verify', ...connections, await syncModule('ts'));
    expect(typescript.code, typescript.stderr).toBe(1);
    expect(typescript.stdout).toBe(differ.stdout);
    const two = path.join(await scratch, 'two.mjs');
    await writeFile(
      two,
      `import { syncTrigger } from 'pg-sync-link';
export const parts = [syncTrigger({ server: 'legacy', table: 'products', key: ['id'], columns: ['id', 'price'] })];
export const plain = { table: 'products', key: ['id'], columns: ['id', 'created_at'] };
`,
    );
    const ambiguous = await cli('verify', ...connections, two);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain('exports several: parts, plain. Choose one with --export <name>.');
    expect((await cli('verify', ...connections, two, '--export', 'plain')).stdout).toBe(
      'rows: 50 local, 49 remote\nmissing on remote: 1\n  id="3"\nmissing on local: 0\ndiffering: 0\n',
    );
    expect((await cli('verify', ...connections, two, '--export', 'parts')).code).toBe(1);
    const json = JSON.parse((await cli('verify', ...connections, file, '--json')).stdout);
    expect(json).toMatchObject({ equal: false, missingOnRemote: [{ id: '3' }], differing: [{ id: '4' }] });
  });

  it('takes plain tables from options; a wrong command line exits 2, what cannot run exits 3', async () => {
    await app.query(ROWS(5));
    await legacy.query(ROWS(5));
    expect(
      (await cli('verify', ...connections, '--table', 'products', '--key', 'id', '--columns', 'id,name,price')).code,
    ).toBe(0);
    const unknown = await cli('verify', ...connections, '--table', 'products', '--key', 'id', '--columns', 'id,colour');
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/^pg-sync-link verify: .*has no column "colour"/);
    const unknownJson = await cli(
      'verify',
      ...connections,
      '--table',
      'products',
      '--key',
      'id',
      '--columns',
      'id,colour',
      '--json',
    );
    expect(unknownJson.code).toBe(3);
    expect(JSON.parse(unknownJson.stdout)).toMatchObject({
      error: { code: 'CANNOT_RUN', exitCode: 3, message: expect.stringMatching(/has no column "colour"/) },
    });
    expect(
      (await cli('verify', '--remote-env', 'LEGACY_URL', '--table', 'products', '--key', 'id', '--columns', 'id'))
        .stderr,
    ).toMatch(/--local-env is required/);
    expect(
      (
        await cli(
          'verify',
          '--local-env',
          'NOT_SET_ANYWHERE',
          '--remote-env',
          'LEGACY_URL',
          '--table',
          'products',
          '--key',
          'id',
          '--columns',
          'id',
        )
      ).stderr,
    ).toMatch(/NOT_SET_ANYWHERE \(--local-env\) is not set/);
    expect((await cli('verify', ...connections, '--table', 'products', '--columns', 'id')).code).toBe(2);
    expect((await cli('verify', ...connections, 'no/such/module.mjs')).stderr).toContain(
      'No such file: no/such/module.mjs',
    );
    const down = await cli(
      'verify',
      '--local-env',
      'APP_URL',
      '--remote-env',
      'GONE_URL',
      '--table',
      'products',
      '--key',
      'id',
      '--columns',
      'id',
    );
    expect(down.code).toBe(3);
    env.GONE_URL = 'postgres://nobody@127.0.0.1:1/none';
    const refused = await cli(
      'verify',
      '--local-env',
      'APP_URL',
      '--remote-env',
      'GONE_URL',
      '--table',
      'products',
      '--key',
      'id',
      '--columns',
      'id',
    );
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/^pg-sync-link verify: .*ECONNREFUSED/);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('pg-sync-link backfill', () => {
  it('killed in the middle, finishes when run again, without duplicates; then verify exits 0', async () => {
    const file = await syncModule();
    await app.query(ROWS(30_000));
    const child = spawn('node', [CLI, 'backfill', ...connections, file, '--batch-size', '200'], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    let stderr = '';
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (/copy [1-9]\d*\/30000 rows/.test(stderr)) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', () => resolve());
    });
    const copied = await count(legacy);
    expect(copied).toBeGreaterThan(0);
    expect(copied).toBeLessThan(30_000);
    const rest = await cli('backfill', ...connections, file, '--batch-size', '5000');
    expect(rest.code, rest.stderr).toBe(0);
    expect(rest.stdout).toBe(
      `found ${30_000 - copied} missing on remote, 0 missing on local, 0 differing; wrote ${30_000 - copied} rows, deleted 0, in ${Math.ceil((30_000 - copied) / 5000)} batches\n`,
    );
    expect(await count(legacy)).toBe(30_000);
    expect((await cli('verify', ...connections, file)).code).toBe(0);
    expect((await cli('backfill', ...connections, file)).stdout).toMatch(/wrote 0 rows, deleted 0, in 0 batches/);
  });

  it('on SIGTERM, finishes the batch under way and stops with exit code 1', async () => {
    await app.query(ROWS(30_000));
    const plain = ['--table', 'products', '--key', 'id', '--columns', 'id,name,price,created_at,updated_at'];
    const child = spawn('node', [CLI, 'backfill', ...connections, ...plain, '--batch-size', '100'], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (/copy [1-9]\d*\/30000 rows/.test(stderr)) child.kill('SIGTERM');
      });
      child.on('exit', (exitCode) => resolve(exitCode));
    });
    expect(code, stderr).toBe(1);
    expect(stdout).toContain('stopped before the end: run the same command again to go on');
    const copied = await count(legacy);
    expect(copied % 100).toBe(0); // whole batches only
    expect(copied).toBeLessThan(30_000);
    expect(stdout).toContain(`wrote ${copied} rows`);
  });

  it('stops at --max-batches with exit code 1; --winner remote reconciles the local side', async () => {
    await app.query(ROWS(100));
    const plain = [
      '--table',
      'products',
      '--key',
      'id',
      '--columns',
      'id,name,description,price,created_at,updated_at',
    ];
    const partial = await cli('backfill', ...connections, ...plain, '--batch-size', '10', '--max-batches', '2');
    expect(partial.code).toBe(1);
    expect(partial.stdout).toContain('stopped before the end: run the same command again to go on');
    expect(await count(legacy)).toBe(20);
    const reconciled = await cli('backfill', ...connections, ...plain, '--winner', 'remote');
    expect(reconciled.code, reconciled.stderr).toBe(0);
    expect(reconciled.stdout).toMatch(/^found 80 missing on remote, .* deleted 80/);
    expect(await count(app)).toBe(20);
    expect((await cli('backfill', ...connections, ...plain, '--winner', 'sideways')).code).toBe(2);
    expect((await cli('backfill', ...connections, ...plain, '--batch-size', '0')).code).toBe(2);
  });

  it('takes the migration files sql reads: each sync of a file or a folder, one after the other', async () => {
    await app.query('CREATE TABLE notes (id bigint PRIMARY KEY, body text)');
    await legacy.query('CREATE TABLE notes (id bigint PRIMARY KEY, body text)');
    const folder = path.join(await scratch, `migrations-${Math.random().toString(36).slice(2)}`);
    await mkdir(folder);
    const columns = `['id', 'name', 'price', 'created_at', 'updated_at']`;
    await writeFile(
      path.join(folder, '20261201000001_products.mjs'),
      `import { syncTrigger } from 'pg-sync-link';
import { knexMigration } from 'pg-sync-link/knex';
export const { up, down, config } = knexMigration(syncTrigger({ server: 'legacy', table: 'products', key: ['id'], columns: ${columns} }));
`,
    );
    await writeFile(
      path.join(folder, '20261201000002_notes.mjs'),
      `import { syncEndpoint, syncTrigger } from 'pg-sync-link';
import { knexMigration } from 'pg-sync-link/knex';
export const { up, down, config } = knexMigration(
  syncEndpoint({ table: 'notes', key: ['id'], columns: ['id', 'body'] }),
  syncTrigger({ server: 'legacy', table: 'notes', key: ['id'], columns: ['id', 'body'], delivery: 'outbox' }),
);
`,
    );
    await app.query(ROWS(20));
    await legacy.query(ROWS(20));
    await app.query(`INSERT INTO notes VALUES (1, 'one'), (2, 'two')`);
    await legacy.query(`INSERT INTO notes VALUES (1, 'one')`);

    const both = await cli('verify', ...connections, folder);
    expect(both.code, both.stderr).toBe(1);
    expect(both.stdout).toBe(
      'public.products to server legacy\nrows: 20 local, 20 remote\nequal\n' +
        'public.notes to server legacy\nrows: 2 local, 1 remote\nmissing on remote: 1\n  id="2"\nmissing on local: 0\ndiffering: 0\n',
    );
    const one = await cli('verify', ...connections, path.join(folder, '20261201000001_products.mjs'), '--json');
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout)).toMatchObject({ sync: 'public.products to server legacy', equal: true });
    const chosen = await cli('verify', ...connections, folder, '--export', 'public.notes to server legacy');
    expect(chosen.stdout).toMatch(/^rows: 2 local, 1 remote\n/);
    const missing = await cli('verify', ...connections, folder, '--export', 'public.nothing to server legacy');
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('it has: public.products to server legacy, public.notes to server legacy');

    const filled = await cli('backfill', ...connections, folder);
    expect(filled.code, filled.stderr).toBe(0);
    expect(filled.stdout).toContain('public.notes to server legacy: found 1 missing on remote');
    expect((await cli('verify', ...connections, folder)).code).toBe(0);
  });
});
