import type pg from 'pg';
import { expect, it } from 'vitest';
import {
  buildMigration,
  changeFeed,
  diagnose,
  env,
  fdwLink,
  syncEndpoint,
  syncTrigger,
  type Migration,
} from '../../src/index.js';
import { applyInTransaction } from '../harness/apply.js';
import { catalogSnapshot } from '../harness/catalog.js';
import { notOk } from '../harness/doctor-setup.js';
import type { ServerPair } from '../harness/pair.js';
import { connectionString } from '../harness/server.js';
import { useServers } from '../harness/suite.js';

// Any name PostgreSQL holds (63 bytes) works as a synced table, server or column: the names the
// library derives from them are shortened with a hash when they would not fit.
const long = (start: string) => `${start}_${'x'.repeat(62 - start.length)}`;
const TABLE = long('synced');
const OUTBOXED = long('outboxed');
const COPIES = long('copies');
const COLUMN = long('column');
const SERVER = long('server');
const COLUMNS = ['id', COLUMN];
let pair: ServerPair;
let legacy: pg.Client;
let app: pg.Client;
let names: { legacy: string; app: string };

useServers('longnames', async (servers) => {
  ({ pair, legacy, app, names } = servers);
  process.env.LONG_NAMES_PASSWORD = pair.legacy.password;
  for (const client of [legacy, app]) {
    for (const table of [TABLE, OUTBOXED, COPIES])
      await client.query(`CREATE TABLE "${table}" (id bigint PRIMARY KEY, "${COLUMN}" text)`);
  }
});

const endpoints = () =>
  buildMigration(
    'endpoints',
    ...[TABLE, OUTBOXED].map((table) => syncEndpoint({ table, key: ['id'], columns: COLUMNS })),
  );

const appSide = (): Migration => {
  const link = fdwLink({
    name: SERVER,
    host: pair.legacy.peerHost,
    port: pair.legacy.peerPort,
    dbname: names.legacy,
    userMappings: [{ user: pair.legacy.user, password: env('LONG_NAMES_PASSWORD') }],
  });
  return buildMigration(
    'app side',
    link,
    syncTrigger({ server: SERVER, table: TABLE, key: ['id'], columns: COLUMNS, timing: 'commit' }),
    syncTrigger({ server: SERVER, table: OUTBOXED, key: ['id'], columns: COLUMNS, delivery: 'outbox' }),
    syncTrigger({ table: TABLE, target: COPIES, key: ['id'], columns: COLUMNS }),
    changeFeed({ table: TABLE, key: ['id'] }),
  );
};

it('63-byte table, server and column names: every kind installs, syncs, is seen by the doctor, and goes', async () => {
  const before = { legacy: await catalogSnapshot(legacy), app: await catalogSnapshot(app) };
  await applyInTransaction(legacy, endpoints(), 'up');
  await applyInTransaction(app, appSide(), 'up');

  await app.query(`INSERT INTO "${TABLE}" VALUES (1, 'one'); INSERT INTO "${OUTBOXED}" VALUES (2, 'two')`);
  const [drain] = (
    await app.query(`SELECT o.proname AS name FROM pg_catalog.pg_proc o WHERE o.proname LIKE 'outboxed%drain%'`)
  ).rows;
  await app.query(`SELECT * FROM "${drain.name}"()`);
  expect((await legacy.query(`SELECT id::int, "${COLUMN}" AS v FROM "${TABLE}"`)).rows).toEqual([{ id: 1, v: 'one' }]);
  expect((await legacy.query(`SELECT id::int, "${COLUMN}" AS v FROM "${OUTBOXED}"`)).rows).toEqual([
    { id: 2, v: 'two' },
  ]);
  expect((await app.query(`SELECT id::int, "${COLUMN}" AS v FROM "${COPIES}"`)).rows).toEqual([{ id: 1, v: 'one' }]);
  const [feed] = (
    await app.query(
      `SELECT c.relname FROM pg_catalog.pg_class c WHERE c.relname LIKE 'synced%changes' AND c.relkind = 'r'`,
    )
  ).rows;
  expect((await app.query(`SELECT op FROM "${feed.relname}"`)).rows).toEqual([{ op: 'insert' }]);

  // The doctor finds every kind by the names the library derives.
  const diagnosis = await diagnose(connectionString(pair.app, names.app));
  expect(notOk(diagnosis)).toEqual([]);
  const checks = diagnosis.findings.map((item) => item.check);
  expect(checks.filter((check) => check === 'sync-trigger')).toHaveLength(2);
  expect(checks).toContain('same-database-sync');
  expect(checks).toContain('change-feed');
  expect(checks).toContain('outbox');

  await app.query(`DELETE FROM "${TABLE}"; DELETE FROM "${OUTBOXED}"; DELETE FROM "${COPIES}"`);
  await app.query(`SELECT * FROM "${drain.name}"()`);
  await applyInTransaction(app, appSide(), 'down');
  await applyInTransaction(legacy, endpoints(), 'down');
  await legacy.query(`DELETE FROM "${TABLE}"; DELETE FROM "${OUTBOXED}"`);
  expect(await catalogSnapshot(app)).toEqual(before.app);
  expect(await catalogSnapshot(legacy)).toEqual(before.legacy);
});
