import { readFileSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { expect, it } from 'vitest';
import { buildMigration, diagnose, env, fdwLink, syncEndpoint, syncTrigger, type Migration } from '../../src/index.js';
import { applyInTransaction } from '../harness/apply.js';
import { PRODUCTS_DDL } from '../harness/legacy-fixture.js';
import { connect, connectionString, type PgServer } from '../harness/server.js';
import { loginRole, ROLE_PASSWORD } from '../harness/roles.js';
import { useServers } from '../harness/suite.js';

// Every wait of a writer on the other server ends: a frozen peer (its postmaster stopped: the
// connection is accepted and never answered) and a deadlock across the two servers, which
// neither server can see, both end at the writer's own statement_timeout / lock_timeout.
const COLUMNS = ['id', 'name', 'description', 'price', 'created_at', 'updated_at'];

function sender(
  other: PgServer,
  otherDb: string,
  server: string,
  outgoingRole: string,
  incomingRole: string,
): Migration {
  const link = fdwLink({
    name: server,
    host: other.peerHost,
    port: other.peerPort,
    dbname: otherDb,
    userMappings: [{ user: outgoingRole, password: env('BOUNDED_ROLE_PASSWORD') }],
  });
  return buildMigration(
    `two-way ${server}`,
    link,
    syncTrigger({ server, table: 'products', key: ['id'], columns: COLUMNS, ignoreWritesBy: { role: incomingRole } }),
  );
}

const servers = useServers(
  'bounded',
  async ({ pair, legacy, app, names }) => {
    process.env.BOUNDED_ROLE_PASSWORD = ROLE_PASSWORD;
    await loginRole(legacy, 'bounded_from_app');
    await loginRole(app, 'bounded_from_legacy');
    await legacy.query(PRODUCTS_DDL);
    await app.query(PRODUCTS_DDL);
    const endpoint = (role: string) =>
      buildMigration('endpoint', syncEndpoint({ table: 'products', key: ['id'], columns: COLUMNS, grantTo: role }));
    await applyInTransaction(app, endpoint('bounded_from_legacy'), 'up');
    await applyInTransaction(legacy, endpoint('bounded_from_app'), 'up');
    await applyInTransaction(
      app,
      sender(pair.legacy, names.legacy, 'legacy', 'bounded_from_app', 'bounded_from_legacy'),
      'up',
    );
    await applyInTransaction(
      legacy,
      sender(pair.app, names.app, 'app', 'bounded_from_legacy', 'bounded_from_app'),
      'up',
    );
  },
  { private: true },
);

/** A new session (so a new postgres_fdw connection) with the writer-side bounds the README advises. */
async function writer(server: PgServer, database: string): Promise<pg.Client> {
  const client = await connect(server, database);
  await client.query(`SET statement_timeout = '2s'`);
  await client.query(`SET lock_timeout = '1s'`);
  return client;
}

async function postmasterPid(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ dir: string }>(`SELECT pg_catalog.current_setting('data_directory') AS dir`);
  return Number(readFileSync(path.join(rows[0]!.dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
}

// SIGSTOP needs the postmaster's process on this machine: the embedded and system backends. In a
// container (or an external server) its data directory and process are not ours to signal.
const localServers = ['embedded', 'system'].includes(process.env.PG_SYNC_LINK_BACKEND ?? 'embedded');

it.runIf(localServers)(
  "a write through a link to a frozen server ends at the writer's statement_timeout, naming the sync and what to set",
  {
    timeout: 60_000,
  },
  async () => {
    const { legacy, app, pair, names } = servers;
    const pid = await postmasterPid(legacy);
    const client = await writer(pair.app, names.app);
    // Up to PostgreSQL 16, postgres_fdw connects with libpq's blocking call, which no cancel
    // interrupts: the link's connect_timeout (10 s by default) ends it, within a longer writer bound.
    if (pair.app.major < 17) await client.query(`SET statement_timeout = '30s'`);
    process.kill(pid, 'SIGSTOP');
    let error: unknown;
    try {
      error = await client
        .query(`INSERT INTO products (id, name, price, created_at, updated_at) VALUES (1, 'frozen', 1, now(), now())`)
        .catch((caught: unknown) => caught);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await client.end();
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toContain(
      'pg-sync-link: INSERT not synced from public.products to public.products on server legacy',
    );
    if (pair.app.major >= 17) {
      // postgres_fdw waits in its own, interruptible loop: the statement_timeout ends it.
      expect((error as { code?: string }).code).toBe('57014');
      expect((error as { hint?: string }).hint).toContain(
        "ALTER ROLE app SET statement_timeout = '30s'; ALTER ROLE app SET lock_timeout = '5s'",
      );
    } else {
      expect(message).toMatch(/could not connect to server "legacy"/);
      expect((error as { detail?: string }).detail).toContain('timeout expired');
      expect((error as { hint?: string }).hint).toContain("a timeout here is the link's connect_timeout");
    }
    expect((await app.query('SELECT count(*)::int AS n FROM products')).rows[0].n).toBe(0);
  },
);

it('a cross-server deadlock between two writers ends at their lock_timeout; a retry succeeds and both sides agree', {
  timeout: 60_000,
}, async () => {
  const { legacy, app, pair, names } = servers;
  await app.query(
    `INSERT INTO products (id, name, price, created_at, updated_at) VALUES (1, 'one', 1, now(), now()), (2, 'two', 2, now(), now())`,
  );
  const onApp = await writer(pair.app, names.app);
  const onLegacy = await writer(pair.legacy, names.legacy);
  try {
    await onApp.query('BEGIN');
    await onLegacy.query('BEGIN');
    await onApp.query(`UPDATE products SET price = 10 WHERE id = 1`); // holds id 1 here and, through the sync, on legacy
    await onLegacy.query(`UPDATE products SET price = 20 WHERE id = 2`); // holds id 2 there and on app
    const results = await Promise.allSettled([
      onApp
        .query(`UPDATE products SET price = 11 WHERE id = 2`)
        .finally(() => onApp.query('ROLLBACK').catch(() => undefined)),
      onLegacy
        .query(`UPDATE products SET price = 21 WHERE id = 1`)
        .finally(() => onLegacy.query('ROLLBACK').catch(() => undefined)),
    ]);
    const failures = results.flatMap((result) =>
      result.status === 'rejected' ? [result.reason as { code?: string; message: string }] : [],
    );
    expect(failures.length).toBeGreaterThan(0);
    for (const failure of failures) expect(['55P03', '57014', '40P01', '40001']).toContain(failure.code);
  } finally {
    await Promise.all([onApp.end(), onLegacy.end()]);
  }
  // A retry, with no contention, goes through on both sides.
  await app.query(`UPDATE products SET price = 11 WHERE id = 2`);
  await legacy.query(`UPDATE products SET price = 21 WHERE id = 1`);
  const prices = async (client: pg.Client) => (await client.query('SELECT id, price FROM products ORDER BY id')).rows;
  expect(await prices(app)).toEqual([
    { id: expect.anything(), price: expect.anything() },
    { id: expect.anything(), price: expect.anything() },
  ]);
  expect(await prices(app)).toEqual(await prices(legacy));
});

it('the doctor warns about a role that writes to synced tables with no statement_timeout or lock_timeout', async () => {
  const { app, pair, names } = servers;
  await app.query(`DO $$ BEGIN CREATE ROLE bounded_writer LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
  await app.query('GRANT INSERT, UPDATE, DELETE ON products TO bounded_writer');
  try {
    const before = await diagnose(connectionString(pair.app, names.app));
    const warned = before.findings.find(
      (item) => item.check === 'writer-timeout' && item.subject === 'role bounded_writer',
    );
    expect(warned?.severity).toBe('warning');
    expect(warned?.message).toContain('with no statement_timeout and no lock_timeout');
    expect(warned?.fix).toContain(
      "ALTER ROLE bounded_writer SET statement_timeout = '30s'; ALTER ROLE bounded_writer SET lock_timeout = '5s';",
    );
    await app.query(`ALTER ROLE bounded_writer IN DATABASE ${names.app} SET statement_timeout = '20s'`);
    await app.query(`ALTER ROLE bounded_writer SET lock_timeout = '3s'`);
    const after = await diagnose(connectionString(pair.app, names.app));
    expect(
      after.findings.find((item) => item.check === 'writer-timeout' && item.subject === 'role bounded_writer')
        ?.severity,
    ).toBe('ok');
  } finally {
    await app.query('REVOKE ALL ON products FROM bounded_writer');
    await app.query('ALTER ROLE bounded_writer RESET ALL');
  }
});
