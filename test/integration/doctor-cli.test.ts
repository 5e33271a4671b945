import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { catalogSnapshot } from '../harness/catalog.js';
import { installHealthy } from '../harness/doctor-setup.js';
import type { ServerPair } from '../harness/pair.js';
import { connectionString } from '../harness/server.js';
import { useServers } from '../harness/suite.js';

// `npx pg-sync-link doctor`: the built command (dist/cli.js) in a child process, as a user runs it.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const scratch = mkdtemp(path.join(ROOT, 'test', '.cli-doctor-'));
afterAll(async () => rm(await scratch, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function doctor(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      'node',
      [path.join(ROOT, 'dist/cli.js'), 'doctor', ...args],
      { cwd: ROOT, env: { ...process.env, DATABASE_URL: undefined, ...env } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

let pair: ServerPair;
let app: pg.Client;
let appUrl: string;
let appDb: string;

useServers('doctorcli', async (servers) => {
  ({ pair, app } = servers);
  appDb = servers.names.app;
  appUrl = connectionString(pair.app, appDb);
  await installHealthy(servers.legacy, app, pair.legacy, servers.names.legacy);
});

describe('npx pg-sync-link doctor', () => {
  it('prints the findings and exits 0 on a healthy database, changing nothing; --json for machines', async () => {
    const before = await catalogSnapshot(app);
    const run = await doctor([], { DATABASE_URL: appUrl });
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^pg-sync-link doctor: PostgreSQL \d+\.\d+/);
    expect(run.stdout).toMatch(/\nok {6}\[server-reachable\] server legacy: Reached database /);
    expect(run.stdout).toMatch(/\n0 errors, 0 warnings, 15 ok \(exit code 0\)\.\n$/);
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain(pair.app.password);

    const json = await doctor(['--url-env', 'APP_URL', '--json'], { APP_URL: appUrl });
    expect(json.code).toBe(0);
    const diagnosis = JSON.parse(json.stdout);
    expect(diagnosis).toMatchObject({ worst: 'ok', exitCode: 0 });
    expect(diagnosis.findings).toHaveLength(15);
    expect(await catalogSnapshot(app)).toEqual(before);
  });

  it('exits 1 when a finding is a warning or an error, with what to run', async () => {
    await app.query('ALTER TABLE products ENABLE REPLICA TRIGGER sync_to_legacy_insert');
    const warning = await doctor([], { DATABASE_URL: appUrl });
    expect(warning.code).toBe(1);
    expect(warning.stdout).toMatch(
      /^pg-sync-link doctor: PostgreSQL [^\n]+\n\nWARNING \[sync-trigger\] sync of public\.products to server legacy: sync_to_legacy_insert fire only when session_replication_role = replica/,
    );
    expect(warning.stdout).toContain(
      '\n        fix: ALTER TABLE public.products ENABLE ALWAYS TRIGGER sync_to_legacy_insert (then copy the rows changed meanwhile).\n',
    );

    await app.query('DROP USER MAPPING FOR CURRENT_USER SERVER legacy');
    const error = await doctor(['--json'], { DATABASE_URL: appUrl });
    expect(error.code).toBe(1);
    expect(JSON.parse(error.stdout)).toMatchObject({ worst: 'error', exitCode: 1 });
    expect(JSON.parse(error.stdout).findings).toContainEqual(
      expect.objectContaining({ check: 'user-mapping', severity: 'error', subject: 'server legacy, role postgres' }),
    );
  });

  it('reads the connection of a knexfile environment, also one given as a function', async () => {
    const file = path.join(await scratch, 'knexfile.mjs');
    await writeFile(
      file,
      `export default {
  app: { client: 'pg', connection: () => ({ host: ${JSON.stringify(pair.app.host)}, port: ${pair.app.port}, user: ${JSON.stringify(pair.app.user)}, database: ${JSON.stringify(appDb)}, password: process.env.APP_DB_PASSWORD }) },
  other: { client: 'mysql2', connection: 'mysql://x' },
};\n`,
    );
    const run = await doctor(['--knexfile', file, '--env', 'app'], { APP_DB_PASSWORD: pair.app.password });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    for (const fixture of ['test/fixtures/knex-esm/knexfile.mjs', 'test/fixtures/knex-cjs/knexfile.cjs']) {
      const run = await doctor(['--knexfile', fixture, '--json'], { APP_DATABASE_URL: appUrl });
      expect(run.code, run.stderr).toBe(0);
    }
    const missing = await doctor(['--knexfile', file, '--env', 'staging']);
    expect(missing).toMatchObject({
      code: 3,
      stderr: expect.stringContaining('has no environment "staging"; it has: app, other. Choose one with --env.'),
    });
    const mysql = await doctor(['--knexfile', file, '--env', 'other']);
    expect(mysql.stderr).toContain('uses client "mysql2"; the doctor needs a PostgreSQL (pg) connection.');
  });

  it('reads a TypeScript knexfile, and a broken one fails in one line', async () => {
    const file = path.join(await scratch, 'knexfile.ts');
    await writeFile(
      file,
      `import type { Knex } from 'knex';
const config: Record<string, Knex.Config> = {
  development: { client: 'pg', connection: process.env.APP_DATABASE_URL as string },
};
export default config;\n`,
    );
    const run = await doctor(['--knexfile', file], { APP_DATABASE_URL: appUrl, NODE_ENV: undefined });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^pg-sync-link doctor: PostgreSQL \d+/);

    const broken = path.join(await scratch, 'broken-knexfile.ts');
    await writeFile(broken, `const config: = {;\n`);
    const failed = await doctor(['--knexfile', broken, '--json']);
    expect(failed.code).toBe(3);
    expect(failed.stderr).toMatch(/^pg-sync-link doctor: Could not load .*broken-knexfile\.ts: /);
    expect(failed.stderr.trim().split('\n')).toHaveLength(1);
    expect(failed.stderr).not.toMatch(/ERR_UNKNOWN_FILE_EXTENSION| {4}at /);
    expect(JSON.parse(failed.stdout)).toMatchObject({ error: { code: 'CANNOT_RUN', exitCode: 3 } });
  });

  it('exits 2 on a wrong command line, 3 when it cannot run, and never prints a password it was given', async () => {
    const secret = 'hunter2-doctor-secret';
    const url = `postgres://postgres:${secret}@127.0.0.1:1/nowhere`;
    const positional = await doctor([url]);
    expect(positional).toMatchObject({ code: 2, stdout: '' });
    expect(positional.stderr).toBe(
      'pg-sync-link doctor: doctor takes no arguments: pass the database URL through an environment variable (--url-env NAME) or a knexfile (--knexfile). See pg-sync-link doctor --help.\n',
    );
    const option = await doctor([`--url=${url}`, '--json']);
    expect(option.code).toBe(2);
    expect(JSON.parse(option.stdout)).toMatchObject({
      error: { code: 'USAGE', exitCode: 2, message: expect.stringContaining('--url-env NAME') },
    });
    expect(option.stderr).toContain('put the URL in an environment variable and pass its name with --url-env NAME.');
    expect((await doctor(['--url-env', url])).stderr).toContain('--url-env takes the name of an environment variable');
    expect(await doctor([])).toMatchObject({
      code: 3,
      stderr: expect.stringContaining('Environment variable DATABASE_URL is not set'),
    });
    expect(await doctor(['--sequence-warn', '2'], { DATABASE_URL: url })).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--sequence-warn takes a share above 0 and at most 1'),
    });
    expect(await doctor(['--env', 'app'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--env chooses a knexfile environment: give --knexfile too.'),
    });
    const unreachable = await doctor(['--json'], { DATABASE_URL: url });
    expect(unreachable.code).toBe(3);
    expect(JSON.parse(unreachable.stdout)).toMatchObject({
      error: { code: 'CANNOT_RUN', exitCode: 3, message: expect.stringContaining('ECONNREFUSED') },
    });
    expect(unreachable.stderr).toMatch(
      /^pg-sync-link doctor: could not check the database \(\$DATABASE_URL\): connect ECONNREFUSED 127\.0\.0\.1:1/,
    );
    for (const run of [positional, option, unreachable]) expect(`${run.stdout}${run.stderr}`).not.toContain(secret);
    expect((await doctor(['--help'])).stdout).toMatch(
      /^Usage: pg-sync-link doctor \[--url-env <NAME> \| --knexfile <file> \[--env <name>\]\] \[--json\]/,
    );
  });
});
