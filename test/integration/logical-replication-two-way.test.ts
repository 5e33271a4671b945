import { expect, it } from 'vitest';
import { inspect } from 'node:util';
import {
  applySyncLink,
  buildMigration,
  env,
  MigrationFailedError,
  publication,
  removeSyncLink,
  replicationSlot,
  runMigration,
  subscription,
} from '../../src/index.js';
import { catalogSnapshot } from '../harness/catalog.js';
import {
  LOGICAL_REPLICATION,
  notesPublisherSide,
  notesSubscription,
  slotNames,
  uniqueSlot,
  waitFor,
} from '../harness/replication.js';
import { useServers } from '../harness/suite.js';

const servers = useServers(
  'repl2',
  async ({ legacy, app, pair }) => {
    process.env.PG_SYNC_LINK_REPL_LEGACY_PASSWORD = pair.legacy.password;
    process.env.PG_SYNC_LINK_REPL_APP_PASSWORD = pair.app.password;
    // No key and REPLICA IDENTITY FULL: a change that came back would be a duplicate row, not a conflict.
    for (const client of [legacy, app]) {
      await client.query('CREATE TABLE notes (body text NOT NULL)');
      await client.query('ALTER TABLE notes REPLICA IDENTITY FULL');
    }
  },
  LOGICAL_REPLICATION,
);

const subscribeTo = notesSubscription;

const publisherSide = notesPublisherSide;
const bodies = async (client: typeof servers.app) =>
  (await client.query<{ body: string }>('SELECT body FROM notes ORDER BY body')).rows.map((row) => row.body);
const autocommit = (client: typeof servers.app) => async (sql: string, values: readonly string[]) =>
  client.query(sql, [...values]);

it("two-way with origin = 'none' (PostgreSQL 16+) does not send a change back; on older servers it fails first, with nothing made", async () => {
  const { legacy, app, pair, names } = servers;
  const slots = { legacy: uniqueSlot('notes_l'), app: uniqueSlot('notes_a') };
  const appFromLegacy = subscribeTo(pair.legacy, names.legacy, 'PG_SYNC_LINK_REPL_LEGACY_PASSWORD', slots.legacy, {
    origin: 'none',
    copyData: false,
  });
  const legacyFromApp = subscribeTo(pair.app, names.app, 'PG_SYNC_LINK_REPL_APP_PASSWORD', slots.app, {
    origin: 'none',
    copyData: false,
  });
  const before = { legacy: await catalogSnapshot(legacy), app: await catalogSnapshot(app) };
  if (pair.app.major < 16) {
    const error = await runMigration(buildMigration('subscribe', appFromLegacy), 'up', autocommit(app)).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(MigrationFailedError);
    expect((error as MigrationFailedError).sqlState).toBe('0A000');
    expect((error as Error).message).toContain(
      `Subscription option origin = none needs PostgreSQL 16 or later; this server runs PostgreSQL ${pair.app.major}`,
    );
    expect(await catalogSnapshot(app)).toEqual(before.app);
    return;
  }
  await applySyncLink(legacy, publisherSide(slots.legacy));
  await applySyncLink(app, publisherSide(slots.app));
  await applySyncLink(app, appFromLegacy);
  await applySyncLink(legacy, legacyFromApp);

  await legacy.query(`INSERT INTO notes VALUES ('from legacy')`);
  await app.query(`INSERT INTO notes VALUES ('from app')`);
  await waitFor(
    () => bodies(app),
    (rows) => rows.includes('from legacy'),
    "legacy's note on app",
  );
  await waitFor(
    () => bodies(legacy),
    (rows) => rows.includes('from app'),
    "app's note on legacy",
  );
  await legacy.query(`UPDATE notes SET body = 'from legacy, edited' WHERE body = 'from legacy'`);
  await waitFor(
    () => bodies(app),
    (rows) => rows.includes('from legacy, edited'),
    'the update on app',
  );
  // A change that looped would arrive before a later one from the same side: after these
  // markers went across, each side must hold each note exactly once.
  await app.query(`INSERT INTO notes VALUES ('marker from app')`);
  await legacy.query(`INSERT INTO notes VALUES ('marker from legacy')`);
  await waitFor(
    () => bodies(legacy),
    (rows) => rows.includes('marker from app'),
    'the marker on legacy',
  );
  await waitFor(
    () => bodies(app),
    (rows) => rows.includes('marker from legacy'),
    'the marker on app',
  );
  const expected = ['from app', 'from legacy, edited', 'marker from app', 'marker from legacy'];
  expect(await bodies(legacy)).toEqual(expected);
  expect(await bodies(app)).toEqual(expected);

  await removeSyncLink(legacy, legacyFromApp);
  await removeSyncLink(app, appFromLegacy);
  await removeSyncLink(app, publisherSide(slots.app));
  await removeSyncLink(legacy, publisherSide(slots.legacy));
  expect(await slotNames(legacy)).not.toContain(slots.legacy);
  expect(await slotNames(app)).not.toContain(slots.app);
  expect({ legacy: await catalogSnapshot(legacy), app: await catalogSnapshot(app) }).toEqual(before);
});

it('a wrong password or an unreachable publisher fails the migration with a clear error and creates nothing', async () => {
  const { legacy, app, pair, names } = servers;
  const slot = uniqueSlot('notes');
  await applySyncLink(legacy, publisherSide(slot));
  const before = await catalogSnapshot(app);
  const wrong = 'not-the-pw-5c1f';
  process.env.PG_SYNC_LINK_REPL_WRONG_PASSWORD = wrong;
  const badPassword = subscribeTo(pair.legacy, names.legacy, 'PG_SYNC_LINK_REPL_WRONG_PASSWORD', slot);
  const error = await runMigration(buildMigration('subscribe', badPassword), 'up', autocommit(app)).catch(
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(MigrationFailedError);
  expect((error as MigrationFailedError).sqlState).toBe('08006');
  expect((error as Error).message).toMatch(
    /could not connect to the publisher: .*password authentication failed for user "postgres"/,
  );
  expect((error as Error).message).not.toContain(wrong);
  expect((error as Error).message).not.toContain('CREATE SUBSCRIPTION');
  expect((error as MigrationFailedError).sql).toContain(
    "CREATE SUBSCRIPTION notes_sub CONNECTION '[redacted connection host=",
  );
  expect(inspect((error as Error).cause)).not.toContain(wrong);
  expect(await catalogSnapshot(app)).toEqual(before);

  const unreachable = subscription({
    name: 'notes_sub',
    host: '127.0.0.1',
    port: 1,
    dbname: names.legacy,
    user: 'postgres',
    password: env('PG_SYNC_LINK_REPL_WRONG_PASSWORD'),
    connectTimeout: 2,
    publications: ['notes_pub'],
    slotName: slot,
  });
  const refused = await applySyncLink(app, unreachable).catch((caught: unknown) => caught);
  expect(refused).toBeInstanceOf(MigrationFailedError);
  expect((refused as Error).message).toMatch(/could not connect to the publisher: .*port 1 failed/);
  expect(await catalogSnapshot(app)).toEqual(before);
  await removeSyncLink(legacy, publisherSide(slot));
});

it('every publication and subscription option is accepted by the server, and down undoes it', async () => {
  const { legacy, app, pair, names } = servers;
  const slot = uniqueSlot('options');
  const before = { legacy: await catalogSnapshot(legacy), app: await catalogSnapshot(app) };
  const publisher = [
    publication({ name: 'notes_pub', allTables: true, publish: ['insert', 'truncate'], publishViaPartitionRoot: true }),
    replicationSlot({ name: slot }),
  ];
  const subscriber = subscribeTo(pair.legacy, names.legacy, 'PG_SYNC_LINK_REPL_LEGACY_PASSWORD', slot, {
    enabled: false,
    binary: true,
    streaming: true,
    disableOnError: true,
    copyData: false,
    sslmode: 'prefer',
    connectTimeout: 5,
  });
  await applySyncLink(legacy, publisher);
  await applySyncLink(app, subscriber);
  const { rows } = await app.query(
    `SELECT subenabled, subbinary, substream::text, subdisableonerr, subslotname FROM pg_subscription WHERE subname = 'notes_sub' AND subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())`,
  );
  expect(rows).toEqual([
    {
      subenabled: false,
      subbinary: true,
      substream: expect.stringMatching(/^(t|true)$/),
      subdisableonerr: true,
      subslotname: slot,
    },
  ]);
  const published = await legacy.query(
    `SELECT puballtables, pubinsert, pubupdate, pubtruncate, pubviaroot FROM pg_publication WHERE pubname = 'notes_pub'`,
  );
  expect(published.rows).toEqual([
    { puballtables: true, pubinsert: true, pubupdate: false, pubtruncate: true, pubviaroot: true },
  ]);
  await removeSyncLink(app, subscriber);
  await removeSyncLink(legacy, publisher);
  expect(await slotNames(legacy)).not.toContain(slot);
  expect({ legacy: await catalogSnapshot(legacy), app: await catalogSnapshot(app) }).toEqual(before);
});
