import type pg from 'pg';
import { expect, it } from 'vitest';
import {
  applySyncLink,
  buildMigration,
  drainOutbox,
  env,
  fdwLink,
  formatStatus,
  status,
  syncEndpoint,
  syncTrigger,
} from '../../src/index.js';
import type { ServerPair } from '../harness/pair.js';
import { connectionString } from '../harness/server.js';
import { loginRole, ROLE_PASSWORD } from '../harness/roles.js';
import { useServers } from '../harness/suite.js';

// status() over syncs whose table and link names are 63 bytes: every name derived from them
// (outbox, lag view, drain, retry, conflict log, triggers) is shortened with a hash, and status
// must still find each object and name the sync in full.
const long = (start: string) => `${start}_${'x'.repeat(62 - start.length)}`;
const TABLE = long('orders'); // two-way outbox, with a conflict policy
const ITEMS = long('items'); // one-way, write-through
const APP = long('app'); // legacy's link to app
const LEGACY = long('legacy'); // app's link to legacy
const COLUMNS = ['id', 'name'];

let pair: ServerPair;
let legacy: pg.Client;
let app: pg.Client;
let names: { legacy: string; app: string };

/** This side's outbox sync of TABLE to `server`: app always wins. */
function outboxSync(server: string) {
  const fromApp = server === LEGACY;
  return syncTrigger({
    server,
    table: TABLE,
    key: ['id'],
    columns: COLUMNS,
    delivery: 'outbox',
    ignoreWritesBy: { role: fromApp ? 'longstatus_from_legacy' : 'longstatus_from_app' },
    conflicts: { thisSide: fromApp ? APP : LEGACY, winner: APP },
  });
}

const link = (name: string, side: 'app' | 'legacy', outgoing: string) =>
  fdwLink({
    name,
    host: pair[side].peerHost,
    port: pair[side].peerPort,
    dbname: names[side],
    userMappings: [{ user: outgoing, password: env('STATUS_LONG_NAMES_PASSWORD') }],
  });

const endpoint = (table: string, incoming: string) =>
  syncEndpoint({ table, key: ['id'], columns: COLUMNS, grantTo: incoming });

useServers('statuslongnames', async (servers) => {
  ({ pair, legacy, app, names } = servers);
  process.env.STATUS_LONG_NAMES_PASSWORD = ROLE_PASSWORD;
  await loginRole(legacy, 'longstatus_from_app');
  await loginRole(app, 'longstatus_from_legacy');
  for (const client of [legacy, app]) {
    for (const table of [TABLE, ITEMS])
      await client.query(`CREATE TABLE "${table}" (id bigint PRIMARY KEY, name text)`);
  }
  await applySyncLink(app, [buildMigration('endpoint', endpoint(TABLE, 'longstatus_from_legacy'))]);
  await applySyncLink(legacy, [
    buildMigration('endpoints', endpoint(TABLE, 'longstatus_from_app'), endpoint(ITEMS, 'longstatus_from_app')),
  ]);
  await applySyncLink(app, [
    buildMigration(
      'to legacy',
      link(LEGACY, 'legacy', 'longstatus_from_app'),
      outboxSync(LEGACY),
      syncTrigger({ server: LEGACY, table: ITEMS, key: ['id'], columns: COLUMNS }),
    ),
  ]);
  await applySyncLink(legacy, [buildMigration('to app', link(APP, 'app', 'longstatus_from_legacy'), outboxSync(APP))]);
});

const drain = async (client: pg.Client, server: string, maxAttempts?: number) => {
  const result = await drainOutbox(client, outboxSync(server), { maxAttempts });
  expect(result.error).toBeNull();
  return result;
};

it('status finds the hashed objects of 63-byte names and names each sync in full', async () => {
  await app.query(`INSERT INTO "${TABLE}" VALUES (1, 'one'), (2, 'two')`);
  await app.query(`INSERT INTO "${ITEMS}" VALUES (1, 'item')`);
  await drain(app, LEGACY);
  // A conflict, settled on app (legacy's drain reaches it first): app wins.
  await app.query(`UPDATE "${TABLE}" SET name = 'app' WHERE id = 1`);
  await legacy.query(`UPDATE "${TABLE}" SET name = 'legacy' WHERE id = 1`);
  await drain(legacy, APP);
  await drain(app, LEGACY);
  expect((await legacy.query(`SELECT name FROM "${TABLE}" WHERE id = 1`)).rows).toEqual([{ name: 'app' }]);
  await app.query(`INSERT INTO "${TABLE}" VALUES (3, 'waiting')`);

  const now = await status(connectionString(pair.app, names.app));
  expect(now.links).toEqual([expect.objectContaining({ server: LEGACY, reachable: true, error: null })]);
  expect([...now.syncs].sort((a, b) => a.table.localeCompare(b.table))).toEqual([
    { table: `public.${ITEMS}`, server: LEGACY, mode: 'immediate', enabled: true, lastError: null },
    { table: `public.${TABLE}`, server: LEGACY, mode: 'outbox', enabled: true, lastError: null },
  ]);
  expect(now.outboxes).toEqual([
    expect.objectContaining({
      sync: `public.${TABLE} to server ${LEGACY}`,
      pending: 1,
      deliveredTotal: 3,
      consecutiveFailures: 0,
      currentError: null,
      failedRows: 0,
    }),
  ]);
  // The lag view's name is the hashed one: not the table's name with a suffix.
  expect(now.outboxes[0]!.lagView).not.toContain(TABLE);
  expect(now.conflicts).toEqual([
    expect.objectContaining({
      key: { id: 1 },
      winner: APP,
      sync: `public.${TABLE} to public.${TABLE} on server ${LEGACY}`,
      thisVersion: { id: 1, name: 'app' },
      otherVersion: { id: 1, name: 'legacy' },
    }),
  ]);
  expect(now.conflicts[0]!.log.name).not.toContain(TABLE);
  expect(now.findings.filter((finding) => finding.severity === 'error')).toEqual([]);
  expect(now.findings).toContainEqual(expect.objectContaining({ check: 'outbox', severity: 'ok' }));
  expect(now.findings).toContainEqual(expect.objectContaining({ check: 'conflicts', severity: 'warning' }));
  expect(now.exitCode).toBe(1);
  expect(formatStatus(now)).toContain(`public.${TABLE} to server ${LEGACY}`);

  // A key legacy refuses is set aside: the finding's fix names the hashed retry function.
  await legacy.query(`ALTER TABLE "${TABLE}" ADD CHECK (name <> 'refused')`);
  await app.query(`INSERT INTO "${TABLE}" VALUES (4, 'refused')`);
  expect(await drain(app, LEGACY, 1)).toMatchObject({ delivered: 1, setAside: 1 });
  const setAside = await status(app);
  expect(setAside.outboxes[0]).toMatchObject({ sync: `public.${TABLE} to server ${LEGACY}`, failedRows: 1 });
  const failed = setAside.findings.find((finding) => finding.check === 'outbox' && finding.severity === 'error');
  const retry = /^Fix the cause, then (SELECT \S+\(\));/.exec(failed?.fix ?? '');
  expect(retry).not.toBeNull();
  await legacy.query(`ALTER TABLE "${TABLE}" DROP CONSTRAINT ${await checkName()}`);
  expect((await app.query(retry![1]!)).rows).toHaveLength(1);
  expect(await drain(app, LEGACY)).toMatchObject({ delivered: 1, setAside: 0 });

  // Broken: the link down, the outbox failing, the write-through sync disabled.
  await app.query(`ALTER TABLE "${ITEMS}" DISABLE TRIGGER USER`);
  await app.query(`ALTER SERVER "${LEGACY}" OPTIONS (SET port '1')`);
  await app.query(`UPDATE "${TABLE}" SET name = 'undelivered' WHERE id = 2`);
  expect((await drainOutbox(app, outboxSync(LEGACY))).error).not.toBeNull();
  const broken = await status(app);
  expect(broken.links[0]).toMatchObject({ server: LEGACY, reachable: false });
  expect([...broken.syncs].sort((a, b) => a.table.localeCompare(b.table))).toEqual([
    expect.objectContaining({ table: `public.${ITEMS}`, enabled: false }),
    expect.objectContaining({ table: `public.${TABLE}`, mode: 'outbox', lastError: expect.stringContaining(TABLE) }),
  ]);
  expect(broken.outboxes[0]).toMatchObject({ pending: 1, consecutiveFailures: 1 });
  expect(broken.exitCode).toBe(1);
});

/** The CHECK constraint's name on legacy's table, quoted (PostgreSQL shortens it too). */
async function checkName(): Promise<string> {
  const { rows } = await legacy.query(
    `SELECT quote_ident(conname) AS name FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'c'`,
    [`"${TABLE}"`],
  );
  return rows[0].name;
}
