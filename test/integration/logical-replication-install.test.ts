import knexFactory from 'knex';
import { expect, it } from 'vitest';
import {
  applySyncLink,
  buildMigration,
  MigrationFailedError,
  noticesOf,
  publication,
  removeSyncLink,
  runMigration,
  type ServerNotice,
  type SubscriptionOptions,
} from '../../src/index.js';
import { Umzug } from 'umzug';
import { knexMigrationFrom } from '../../adapters/knex.js';
import { umzugMigrations } from '../../adapters/umzug.js';
import { catalogSnapshot } from '../harness/catalog.js';
import {
  LOGICAL_REPLICATION,
  notesPublisherSide,
  notesSubscription,
  slotNames,
  uniqueSlot,
  waitFor,
} from '../harness/replication.js';
import { connect, connectionString } from '../harness/server.js';
import { useServers } from '../harness/suite.js';

// Installing and removing logical replication in the orders a user may pick: each order either
// works or fails saying what to run first; nothing is left that receives nothing.
const servers = useServers(
  'replorder',
  async ({ legacy, app, pair }) => {
    process.env.PG_SYNC_LINK_ORDER_LEGACY_PASSWORD = pair.legacy.password;
    process.env.PG_SYNC_LINK_ORDER_APP_PASSWORD = pair.app.password;
    for (const client of [legacy, app]) {
      await client.query('CREATE TABLE notes (id integer PRIMARY KEY, body text NOT NULL)');
      await client.query('CREATE TABLE tags (id integer PRIMARY KEY)');
    }
  },
  { ...LOGICAL_REPLICATION, private: true },
);

const subscribeTo = notesSubscription;
const toLegacy = (slot: string, extra: Partial<SubscriptionOptions> = {}) =>
  subscribeTo(servers.pair.legacy, servers.names.legacy, 'PG_SYNC_LINK_ORDER_LEGACY_PASSWORD', slot, extra);
const publisherSide = notesPublisherSide;
const autocommit = (client: typeof servers.app) =>
  Object.assign(async (sql: string, values: readonly string[]) => client.query(sql, [...values]), {
    notices: noticesOf(client),
  });

it('a subscription made before its publication fails with what to run first, and creates nothing; the right order works', async () => {
  const { legacy, app } = servers;
  const slot = uniqueSlot('order');
  const before = await catalogSnapshot(app);
  const lines: string[] = [];
  const error = await applySyncLink(app, toLegacy(slot), { log: (line) => lines.push(line) }).catch(
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(MigrationFailedError);
  expect((error as Error).message).toContain(
    'Subscription "notes_sub" would receive no table: publication "notes_pub" does not exist on the publisher',
  );
  expect((error as Error).message).toContain(
    `Run the publisher's migration first, on database ${servers.names.legacy} on host`,
  );
  // PostgreSQL's own warning reached the log too (PostgreSQL 15+ checks the publication's name).
  expect(lines).toContainEqual(
    expect.stringMatching(/^WARNING: publication "notes_pub" does not exist on the publisher/),
  );
  expect(await catalogSnapshot(app)).toEqual(before);

  await applySyncLink(legacy, publisherSide(slot));
  await applySyncLink(app, toLegacy(slot));
  await legacy.query(`INSERT INTO notes VALUES (1, 'arrives')`);
  await waitFor(
    async () => (await app.query('SELECT body FROM notes')).rows,
    (rows) => rows.length === 1,
    'the note on app',
  );
  await removeSyncLink(app, toLegacy(slot));
  await removeSyncLink(legacy, publisherSide(slot));
  expect(await slotNames(legacy)).not.toContain(slot);
});

it('a publication without an expected table fails the subscription, creating nothing', async () => {
  const { legacy, app } = servers;
  const slot = uniqueSlot('expect');
  await applySyncLink(legacy, publisherSide(slot, ['tags']));
  const before = await catalogSnapshot(app);
  const error = await applySyncLink(app, toLegacy(slot, { expectTables: ['notes'] })).catch(
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(MigrationFailedError);
  expect((error as Error).message).toContain(
    'Subscription "notes_sub" would not receive every expected table: the publisher',
  );
  expect((error as Error).message).toContain('does not publish notes through "notes_pub"');
  expect(await catalogSnapshot(app)).toEqual(before);
  await removeSyncLink(legacy, publisherSide(slot, ['tags']));
});

it("PostgreSQL's warning that a publication is missing fails the migration, through Knex's logger too", async () => {
  const { legacy, app, pair, names } = servers;
  const slot = uniqueSlot('partial');
  await applySyncLink(legacy, publisherSide(slot));
  // Two publications, one missing: the subscription receives tables, so only the warning tells.
  const partial = toLegacy(slot, { publications: ['notes_pub', 'missing_pub'] });
  const warnings: string[] = [];
  const knex = knexFactory({
    client: 'pg',
    connection: connectionString(pair.app, names.app),
    log: { warn: (message: string) => void warnings.push(message) },
  });
  try {
    const error = await knexMigrationFrom(buildMigration('subscribe', partial))
      .up(knex)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MigrationFailedError);
    expect((error as Error).message).toContain(
      'publication "missing_pub" does not exist on the publisher: this subscription would receive nothing from "missing_pub".',
    );
    expect((error as Error).message).toContain(
      'ALTER SUBSCRIPTION notes_sub DISABLE; ALTER SUBSCRIPTION notes_sub SET (slot_name = NONE); DROP SUBSCRIPTION notes_sub;',
    );
    expect(warnings).toContainEqual(
      expect.stringContaining('pg-sync-link: WARNING: publication "missing_pub" does not exist on the publisher'),
    );
  } finally {
    await knex.destroy();
  }
  // The hint's removal works (without a transaction the subscription was made).
  for (const statement of ['DISABLE', 'SET (slot_name = NONE)'])
    await app.query(`ALTER SUBSCRIPTION notes_sub ${statement}`);
  await app.query('DROP SUBSCRIPTION notes_sub');
  await removeSyncLink(legacy, publisherSide(slot));
});

it('through Umzug, the warning reaches onNotice and fails the migration', async () => {
  const { legacy, app } = servers;
  const slot = uniqueSlot('umzug');
  await applySyncLink(legacy, publisherSide(slot));
  const notices: ServerNotice[] = [];
  const migrations = umzugMigrations(
    [buildMigration('subscribe', toLegacy(slot, { publications: ['notes_pub', 'missing_pub'] }))],
    { onNotice: (notice) => notices.push(notice) },
  );
  const umzug = new Umzug({ migrations, context: app, logger: undefined });
  const error = (await umzug.up().catch((caught: unknown) => caught)) as Error & { cause?: unknown };
  expect(`${error.message} ${String(error.cause)}`).toContain(
    'publication "missing_pub" does not exist on the publisher',
  );
  expect(notices).toContainEqual(
    expect.objectContaining({
      severity: 'WARNING',
      message: 'publication "missing_pub" does not exist on the publisher',
    }),
  );
  for (const statement of ['DISABLE', 'SET (slot_name = NONE)'])
    await app.query(`ALTER SUBSCRIPTION notes_sub ${statement}`);
  await app.query('DROP SUBSCRIPTION notes_sub');
  await removeSyncLink(legacy, publisherSide(slot));
});

it('removing a subscription whose slot is missing fails saying what to run; after that, down works', async () => {
  const { legacy, app } = servers;
  const slot = uniqueSlot('noslot');
  await applySyncLink(legacy, [publication({ name: 'notes_pub', tables: ['notes'] })]);
  const before = await catalogSnapshot(app);
  const migration = buildMigration('subscribe', toLegacy(slot));
  await runMigration(migration, 'up', autocommit(app));
  const notices: ServerNotice[] = [];
  const error = await runMigration(migration, 'down', autocommit(app), {
    onNotice: (notice) => notices.push(notice),
  }).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(MigrationFailedError);
  expect((error as Error).message).toContain(`could not drop replication slot "${slot}" on publisher`);
  expect((error as Error).message).toContain(
    'ALTER SUBSCRIPTION notes_sub DISABLE; ALTER SUBSCRIPTION notes_sub SET (slot_name = NONE); then run this down again',
  );
  await app.query('ALTER SUBSCRIPTION notes_sub DISABLE');
  await app.query('ALTER SUBSCRIPTION notes_sub SET (slot_name = NONE)');
  await runMigration(migration, 'down', autocommit(app));
  expect(await catalogSnapshot(app)).toEqual(before);
  await legacy.query('DROP PUBLICATION notes_pub');
});

it('removing a subscription whose publisher is down fails saying what to run; the recipe works', {
  timeout: 120_000,
}, async () => {
  const { legacy, app, pair } = servers;
  if (!pair.legacy.canRestart) return;
  const slot = uniqueSlot('gone');
  await applySyncLink(legacy, publisherSide(slot));
  const before = await catalogSnapshot(app);
  const migration = buildMigration('subscribe', toLegacy(slot));
  await runMigration(migration, 'up', autocommit(app));
  await pair.legacy.stop();
  try {
    const error = await runMigration(migration, 'down', autocommit(app)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MigrationFailedError);
    expect((error as Error).message).toContain('could not connect to publisher');
    expect((error as Error).message).toContain(
      'ALTER SUBSCRIPTION notes_sub DISABLE; ALTER SUBSCRIPTION notes_sub SET (slot_name = NONE); then run this down again',
    );
    await app.query('ALTER SUBSCRIPTION notes_sub DISABLE');
    await app.query('ALTER SUBSCRIPTION notes_sub SET (slot_name = NONE)');
    await runMigration(migration, 'down', autocommit(app));
    expect(await catalogSnapshot(app)).toEqual(before);
  } finally {
    await pair.legacy.start();
  }
  // The publisher is back: its own down drops the slot the subscription left.
  const back = await connect(pair.legacy, servers.names.legacy);
  try {
    await removeSyncLink(back, publisherSide(slot));
    expect(await slotNames(back)).not.toContain(slot);
  } finally {
    await back.end();
  }
});

it('two-way: both publications and slots first, then both subscriptions (PostgreSQL 16+)', async () => {
  const { legacy, app, pair, names } = servers;
  if (pair.app.major < 16) return;
  const slots = { legacy: uniqueSlot('two_l'), app: uniqueSlot('two_a') };
  const toApp = subscribeTo(pair.app, names.app, 'PG_SYNC_LINK_ORDER_APP_PASSWORD', slots.app, {
    origin: 'none',
    copyData: false,
  });
  const fromLegacy = toLegacy(slots.legacy, { origin: 'none', copyData: false });
  // Side A's whole set first (the order the issue describes) is refused at A's subscription...
  await applySyncLink(legacy, publisherSide(slots.legacy));
  const refused = await applySyncLink(legacy, toApp).catch((caught: unknown) => caught);
  expect((refused as Error).message).toContain(
    "For two-way replication, install both sides' publications and slots before either subscription.",
  );
  // ...and the documented order works both ways.
  await applySyncLink(app, publisherSide(slots.app));
  await applySyncLink(legacy, toApp);
  await applySyncLink(app, fromLegacy);
  await legacy.query(`INSERT INTO notes VALUES (1, 'from legacy')`);
  await app.query(`INSERT INTO notes VALUES (2, 'from app')`);
  for (const client of [legacy, app])
    await waitFor(
      async () => (await client.query('SELECT id FROM notes')).rows,
      (rows) => rows.length === 2,
      'both notes on each side',
    );
  await removeSyncLink(legacy, toApp);
  await removeSyncLink(app, fromLegacy);
  await removeSyncLink(app, publisherSide(slots.app));
  await removeSyncLink(legacy, publisherSide(slots.legacy));
});
