import { expect, it } from 'vitest';
import { applySyncLink, diagnose, removeSyncLink, type Diagnosis } from '../../src/index.js';
import {
  LOGICAL_REPLICATION,
  notesPublisherSide,
  notesSubscription,
  uniqueSlot,
  waitFor,
} from '../harness/replication.js';
import { connectionString } from '../harness/server.js';
import { useServers } from '../harness/suite.js';

// The doctor watches logical replication: a subscription whose apply worker is stuck, a slot no
// one reads, and tells the truth about origin.
const servers = useServers(
  'repldoc',
  async ({ legacy, app, pair }) => {
    process.env.PG_SYNC_LINK_DOC_LEGACY_PASSWORD = pair.legacy.password;
    process.env.PG_SYNC_LINK_DOC_APP_PASSWORD = pair.app.password;
    for (const client of [legacy, app])
      await client.query('CREATE TABLE notes (id integer PRIMARY KEY, body text NOT NULL)');
  },
  LOGICAL_REPLICATION,
);

const subscribeTo = notesSubscription;
const publisherSide = notesPublisherSide;
const doctorOn = (side: 'legacy' | 'app') => diagnose(connectionString(servers.pair[side], servers.names[side]));
const about = (diagnosis: Diagnosis, check: string) => diagnosis.findings.filter((item) => item.check === check);

it('a healthy one-way subscription is ok, with origin reported truthfully; an unread slot is a warning', async () => {
  const { legacy, app, pair, names } = servers;
  const slot = uniqueSlot('doc');
  const sub = subscribeTo(pair.legacy, names.legacy, 'PG_SYNC_LINK_DOC_LEGACY_PASSWORD', slot);
  await applySyncLink(legacy, publisherSide(slot));
  await applySyncLink(app, sub);
  await legacy.query(`INSERT INTO notes VALUES (1, 'one')`);
  await waitFor(
    async () => (await app.query('SELECT 1 FROM notes')).rowCount,
    (rows) => rows === 1,
    'the note on app',
  );
  const healthy = await waitFor(
    () => doctorOn('app'),
    (diagnosis) => about(diagnosis, 'subscription')[0]?.severity === 'ok',
    'an ok subscription finding',
  );
  expect(about(healthy, 'subscription')[0]!.message).toContain(
    'Subscription notes_sub is enabled, its apply worker runs, every table is ready',
  );
  // The default origin is not origin = none.
  expect(about(healthy, 'version')[0]!.message).not.toMatch(/In use and supported: [^.]*subscription origin = none/);
  expect(healthy.exitCode).toBe(0);
  const publisher = await doctorOn('legacy');
  expect(about(publisher, 'replication-slot')).toEqual([
    expect.objectContaining({ severity: 'ok', subject: `replication slot '${slot}'` }),
  ]);

  await app.query('ALTER SUBSCRIPTION notes_sub DISABLE');
  const disabled = await doctorOn('app');
  expect(about(disabled, 'subscription')).toEqual([
    expect.objectContaining({
      severity: 'warning',
      fix: expect.stringContaining('ALTER SUBSCRIPTION notes_sub ENABLE;'),
    }),
  ]);
  const unread = await waitFor(
    () => doctorOn('legacy'),
    (diagnosis) => about(diagnosis, 'replication-slot')[0]?.severity === 'warning',
    'an unread slot',
  );
  expect(about(unread, 'replication-slot')[0]!.message).toMatch(
    /is not being read by any subscriber and keeps [\d.]+ MB of WAL on this server \(max_slot_wal_keep_size = -1: no limit/,
  );
  expect(about(unread, 'replication-slot')[0]!.fix).toContain(`SELECT pg_catalog.pg_drop_replication_slot('${slot}');`);
  expect(unread.exitCode).toBe(1);
  await app.query('ALTER SUBSCRIPTION notes_sub ENABLE');
  await removeSyncLink(app, sub);
  await removeSyncLink(legacy, publisherSide(slot));
});

it('a stuck apply worker (the same key inserted on both sides of a two-way pair) is an error with what to run', {
  timeout: 90_000,
}, async () => {
  const { legacy, app, pair, names } = servers;
  if (pair.app.major < 16) return; // two-way needs origin = none
  const slots = { legacy: uniqueSlot('stuck_l'), app: uniqueSlot('stuck_a') };
  const fromLegacy = subscribeTo(pair.legacy, names.legacy, 'PG_SYNC_LINK_DOC_LEGACY_PASSWORD', slots.legacy, {
    origin: 'none',
    copyData: false,
  });
  const fromApp = subscribeTo(pair.app, names.app, 'PG_SYNC_LINK_DOC_APP_PASSWORD', slots.app, {
    origin: 'none',
    copyData: false,
  });
  await applySyncLink(legacy, publisherSide(slots.legacy));
  await applySyncLink(app, publisherSide(slots.app));
  await applySyncLink(app, fromLegacy);
  await applySyncLink(legacy, fromApp);
  const two = await doctorOn('app');
  expect(about(two, 'version')[0]!.message).toMatch(/In use and supported: [^.]*subscription origin = none/);
  // The same key on both sides: each apply worker fails on the other's row, and retries forever.
  await legacy.query(`INSERT INTO notes VALUES (7, 'legacy')`);
  await app.query(`INSERT INTO notes VALUES (7, 'app')`);
  const counted = (diagnosis: Diagnosis) =>
    about(diagnosis, 'subscription').find(
      (item) => item.severity === 'error' && /counted [1-9]\d* apply errors/.test(item.message),
    );
  const stuck = await waitFor(
    () => doctorOn('app'),
    (diagnosis) => counted(diagnosis) !== undefined,
    'the doctor to see the stuck worker',
    60_000,
  );
  expect(stuck.exitCode).toBe(1);
  expect(stuck.worst).toBe('error');
  expect(counted(stuck)!.message).toContain(
    'an apply worker that fails on a change retries it forever and applies nothing after it',
  );
  expect(counted(stuck)!.fix).toContain('a two-way pair must not write the same key on both sides');
  expect(counted(stuck)!.fix).toMatch(/SELECT pg_catalog\.pg_stat_reset_subscription_stats\(\d+\);/);
  // Undo the conflict: remove both subscriptions (their slots go with them), then the rest.
  await removeSyncLink(legacy, fromApp);
  await removeSyncLink(app, fromLegacy);
  await removeSyncLink(app, publisherSide(slots.app));
  await removeSyncLink(legacy, publisherSide(slots.legacy));
});

it('a one-way apply conflict (the key exists on the subscriber already) is an error on every version with its counters', {
  timeout: 90_000,
}, async () => {
  const { legacy, app, pair, names } = servers;
  const slot = uniqueSlot('conflict');
  const sub = subscribeTo(pair.legacy, names.legacy, 'PG_SYNC_LINK_DOC_LEGACY_PASSWORD', slot, { copyData: false });
  await applySyncLink(legacy, publisherSide(slot));
  await applySyncLink(app, sub);
  await app.query(`INSERT INTO notes VALUES (5, 'here first')`);
  await legacy.query(`INSERT INTO notes VALUES (5, 'from legacy')`);
  const counted = (diagnosis: Diagnosis) =>
    about(diagnosis, 'subscription').find(
      (item) => item.severity === 'error' && /counted [1-9]\d* apply errors/.test(item.message),
    );
  const stuck = await waitFor(
    () => doctorOn('app'),
    (diagnosis) => counted(diagnosis) !== undefined,
    'the doctor to count the apply error',
    60_000,
  );
  expect(stuck.exitCode).toBe(1);
  expect(stuck.worst).toBe('error');
  if (pair.app.major >= 18) {
    // PostgreSQL 18 also counts the conflict by kind.
    expect(
      about(stuck, 'subscription')
        .map((item) => item.message)
        .join('\n'),
    ).toMatch(/[1-9]\d* inserts of a key that exists here/);
  }
  // Fixed by removing the row here: the worker applies the change, and after a reset the doctor is content.
  await app.query('DELETE FROM notes WHERE id = 5');
  await waitFor(
    async () => (await app.query(`SELECT body FROM notes WHERE id = 5`)).rows,
    (rows) => rows[0]?.body === 'from legacy',
    'the change applied',
  );
  await app.query(
    `SELECT pg_stat_reset_subscription_stats(oid) FROM pg_subscription WHERE subname = 'notes_sub' AND subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())`,
  );
  await waitFor(
    () => doctorOn('app'),
    (diagnosis) => about(diagnosis, 'subscription')[0]?.severity === 'ok',
    'an ok subscription after the fix',
  );
  await removeSyncLink(app, sub);
  await removeSyncLink(legacy, publisherSide(slot));
});
