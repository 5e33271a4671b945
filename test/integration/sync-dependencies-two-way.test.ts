import knexFactory from 'knex';
import pg from 'pg';
import { expect, it } from 'vitest';
import { knexMigrationSource } from '../../adapters/knex.js';
import {
  applySyncLink,
  buildMigration,
  env,
  fdwLink,
  planMigrations,
  removeSyncLink,
  sqlExpression,
  syncEndpoint,
  syncTrigger,
} from '../../src/index.js';
import { catalogSnapshot } from '../harness/catalog.js';
import type { ServerPair } from '../harness/pair.js';
import { connectionString, type PgServer } from '../harness/server.js';
import { loginRole, ROLE_PASSWORD } from '../harness/roles.js';
import { useServers } from '../harness/suite.js';

// The timesheets both ways: the new database sends the wide rows (hospital_id looked up in
// timesheet_options) to the old one, which sends worker and status changes back. Each side's
// user mapping connects as a sync role the other side's triggers ignore, the dependency's too.
const BACK_COLUMNS = ['id', 'worker_id', 'status'];
const OLD_COLUMNS = ['id', 'worker_id', 'status', 'hospital_id'];
const BOOKKEEPING = ['knex_migrations', '"sync_link"'];

let pair: ServerPair;
let legacy: pg.Client;
let app: pg.Client;
let names: { legacy: string; app: string };

// Who wrote each row, on both sides: a write by the incoming sync role that came back would show.
const NOTE_WRITES = `CREATE TABLE written (id int, by text);
  CREATE FUNCTION note_write() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
  BEGIN INSERT INTO public.written VALUES (NEW.id, SESSION_USER); RETURN NULL; END $$;
  CREATE TRIGGER note_write AFTER INSERT OR UPDATE ON timesheet FOR EACH ROW EXECUTE FUNCTION note_write()`;

useServers('deps2', async (servers) => {
  ({ pair, legacy, app, names } = servers);
  process.env.DEPS_SYNC_ROLE_PASSWORD = ROLE_PASSWORD;
  await loginRole(legacy, 'deps_from_app');
  await loginRole(app, 'deps_from_legacy');
  await app.query(`CREATE TABLE timesheet_options (id int PRIMARY KEY, hospital_id int);
    CREATE TABLE timesheet (id int PRIMARY KEY, worker_id int, status text, timesheet_options_id int)`);
  await legacy.query('CREATE TABLE timesheet (id int PRIMARY KEY, worker_id int, status text, hospital_id int)');
  await app.query(NOTE_WRITES);
  // So the test can write the options as the other side's sync role would.
  await app.query('GRANT UPDATE, SELECT ON timesheet_options TO deps_from_legacy');
  await legacy.query(NOTE_WRITES);
});

const link = (other: PgServer, dbname: string, server: string, outgoingRole: string) =>
  fdwLink({
    name: server,
    host: other.peerHost,
    port: other.peerPort,
    dbname,
    remoteSettings: { lock_timeout: '2s' },
    userMappings: [{ user: outgoingRole, password: env('DEPS_SYNC_ROLE_PASSWORD') }],
  });

/** The new database: its endpoint for the old rows coming back, its link, and the wide sync out. */
const appParts = () => [
  syncEndpoint({ table: 'timesheet', key: ['id'], columns: BACK_COLUMNS, grantTo: 'deps_from_legacy' }),
  link(pair.legacy, names.legacy, 'legacy', 'deps_from_app'),
  syncTrigger({
    server: 'legacy',
    table: 'timesheet',
    key: ['id'],
    columns: [
      ...BACK_COLUMNS,
      {
        remote: 'hospital_id',
        expression: sqlExpression(
          '(SELECT o.hospital_id FROM public.timesheet_options AS o WHERE o.id = src.timesheet_options_id)',
        ),
      },
    ],
    dependsOn: [{ table: 'timesheet_options', rows: sqlExpression('src.timesheet_options_id = dep.id') }],
    ignoreWritesBy: { role: 'deps_from_legacy' },
  }),
];

/** The old database, through Knex: its endpoint first, then (once the new side's is there) its sync back. */
const legacyMigrations = () => [
  buildMigration(
    '001-endpoint',
    syncEndpoint({ table: 'timesheet', key: ['id'], columns: OLD_COLUMNS, grantTo: 'deps_from_app' }),
  ),
  buildMigration(
    '002-sync-back',
    link(pair.app, names.app, 'app', 'deps_from_legacy'),
    syncTrigger({
      server: 'app',
      table: 'timesheet',
      key: ['id'],
      columns: BACK_COLUMNS,
      ignoreWritesBy: { role: 'deps_from_app' },
    }),
  ),
];

const writes = async (client: pg.Client) =>
  (await client.query<{ id: number; by: string }>('DELETE FROM written RETURNING id, by')).rows
    .map(
      (row) =>
        `${row.id} by ${row.by === 'deps_from_app' || row.by === 'deps_from_legacy' ? row.by : 'a local writer'}`,
    )
    .sort();

it('installs through applySyncLink and Knex, follows option changes both ways without echo, and comes off exactly', async () => {
  const before = { legacy: await catalogSnapshot(legacy, BOOKKEEPING), app: await catalogSnapshot(app, BOOKKEEPING) };
  const knex = knexFactory({ client: 'pg', connection: connectionString(pair.legacy, names.legacy) });
  const config = { migrationSource: knexMigrationSource(legacyMigrations()) };
  const appUrl = connectionString(pair.app, names.app);
  try {
    await knex.migrate.up(config);
    await applySyncLink(appUrl, planMigrations('timesheets', ...appParts()));
    await knex.migrate.latest(config);

    await app.query('INSERT INTO timesheet_options VALUES (1, 10), (2, 20)');
    await app.query(`INSERT INTO timesheet VALUES (1, 101, 'draft', 1), (2, 102, 'draft', 2), (3, 103, 'draft', 1)`);
    expect(await writes(legacy)).toEqual(['1 by deps_from_app', '2 by deps_from_app', '3 by deps_from_app']);
    expect(await writes(app)).toEqual(['1 by a local writer', '2 by a local writer', '3 by a local writer']);

    // An option change reaches the old rows that read it, and comes back to nobody.
    await app.query('UPDATE timesheet_options SET hospital_id = 11 WHERE id = 1');
    expect(await writes(legacy)).toEqual(['1 by deps_from_app', '3 by deps_from_app']);
    expect(await writes(app)).toEqual([]);
    // A change on the old side comes to the new one, and does not travel back.
    await legacy.query(`UPDATE timesheet SET status = 'approved' WHERE id = 2`);
    expect(await writes(app)).toEqual(['2 by deps_from_legacy']);
    expect(await writes(legacy)).toEqual(['2 by a local writer']);
    // A change the other side's sync role makes to the options is not sent back (no echo).
    const url = new URL(appUrl);
    url.username = 'deps_from_legacy';
    url.password = ROLE_PASSWORD;
    const asSyncRole = new pg.Client({ connectionString: url.toString() });
    await asSyncRole.connect();
    try {
      await asSyncRole.query('UPDATE timesheet_options SET hospital_id = 12 WHERE id = 1');
    } finally {
      await asSyncRole.end();
    }
    expect(await writes(legacy)).toEqual([]);
    await app.query('UPDATE timesheet_options SET hospital_id = 11 WHERE id = 1');
    expect(await writes(legacy)).toEqual(['1 by deps_from_app', '3 by deps_from_app']);
    // A deleted option: its readers read NULL there.
    await app.query('DELETE FROM timesheet_options WHERE id = 2');
    expect(await writes(legacy)).toEqual(['2 by deps_from_app']);
    expect((await legacy.query('SELECT id, worker_id, status, hospital_id FROM timesheet ORDER BY id')).rows).toEqual([
      { id: 1, worker_id: 101, status: 'draft', hospital_id: 11 },
      { id: 2, worker_id: 102, status: 'approved', hospital_id: null },
      { id: 3, worker_id: 103, status: 'draft', hospital_id: 11 },
    ]);

    await knex.migrate.rollback(config, true);
    await removeSyncLink(appUrl, planMigrations('timesheets', ...appParts()));
  } finally {
    await knex.destroy();
  }
  await app.query('DELETE FROM written');
  await legacy.query('DELETE FROM written');
  expect({ legacy: await catalogSnapshot(legacy, BOOKKEEPING), app: await catalogSnapshot(app, BOOKKEEPING) }).toEqual(
    before,
  );
});
