import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  applySyncLink,
  buildMigration,
  diagnose,
  drainOutbox,
  env,
  fdwLink,
  listConflicts,
  outboxLag,
  syncEndpoint,
  syncTrigger,
  startOutboxWorker,
  type ConflictPolicyOptions,
  type ConflictRecord,
  type OutboxWorkerEvent,
} from '../../src/index.js';
import { applyInTransaction } from '../harness/apply.js';
import { catalogSnapshot } from '../harness/catalog.js';
import type { ServerPair } from '../harness/pair.js';
import { connect, connectionString, type PgServer } from '../harness/server.js';
import { loginRole, ROLE_PASSWORD } from '../harness/roles.js';
import { at, drainBothWays } from '../harness/two-way-outbox.js';
import { useServers } from '../harness/suite.js';

// A two-way outbox: each side records its changes and delivers them later, so neither side's
// writers ever wait for the other. A key both sides change between drains is a conflict, which
// the declared policy settles the same way whichever side's drain finds it.
const ORDERS_DDL = `CREATE TABLE orders (
  id bigint PRIMARY KEY,
  name text NOT NULL,
  qty integer,
  updated_at timestamptz NOT NULL
)`;
const COLUMNS = ['id', 'name', 'qty', 'updated_at'];

type Policy = Omit<ConflictPolicyOptions, 'thisSide'> & Record<string, string>;

let pair: ServerPair;
let legacy: pg.Client;
let app: pg.Client;
let names: { legacy: string; app: string };

/** This side's outbox sync to `server`, with the policy stated the same on both sides. */
function outboxSync(server: 'app' | 'legacy', policy: Policy) {
  const thisSide = server === 'app' ? 'legacy' : 'app';
  return syncTrigger({
    server,
    table: 'orders',
    key: ['id'],
    columns: COLUMNS,
    delivery: 'outbox',
    ignoreWritesBy: { role: `sync_from_${server}` },
    conflicts: { thisSide, ...policy } as ConflictPolicyOptions,
  });
}

function link(other: PgServer, database: string, server: string, outgoingRole: string) {
  return fdwLink({
    name: server,
    host: other.peerHost,
    port: other.peerPort,
    dbname: database,
    remoteSettings: { lock_timeout: '2s' },
    userMappings: [{ user: outgoingRole, password: env('TWO_WAY_OUTBOX_PASSWORD') }],
  });
}

const endpoint = (incomingRole: string) =>
  buildMigration(
    'orders endpoint',
    syncEndpoint({ table: 'orders', key: ['id'], columns: COLUMNS, grantTo: incomingRole }),
  );
const appSender = (policy: Policy) =>
  buildMigration(
    'orders to legacy',
    link(pair.legacy, names.legacy, 'legacy', 'sync_from_app'),
    outboxSync('legacy', policy),
  );
const legacySender = (policy: Policy) =>
  buildMigration('orders to app', link(pair.app, names.app, 'app', 'sync_from_legacy'), outboxSync('app', policy));

/** Both endpoints first (each sender reaches the other side's endpoint), through applySyncLink. */
async function install(policy: Policy): Promise<void> {
  await applySyncLink(app, [endpoint('sync_from_legacy')]);
  await applySyncLink(legacy, [endpoint('sync_from_app')]);
  await applySyncLink(app, [appSender(policy)]);
  await applySyncLink(legacy, [legacySender(policy)]);
}

async function readOrders(client: pg.Client): Promise<Array<Record<string, unknown>>> {
  const { rows } = await client.query(
    `SELECT id::int, name, qty, to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS updated_at FROM orders ORDER BY id`,
  );
  return rows;
}

async function reconnect(server: PgServer, database: string, old: pg.Client): Promise<pg.Client> {
  await old.end().catch(() => undefined);
  return connect(server, database);
}

/** Drains both ways, app first: returns what each delivered. */
function drainBoth(first: 'app' | 'legacy', policy: Policy): Promise<{ app: number; legacy: number }> {
  return drainBothWays(first, {
    app: () => drainOutbox(app, outboxSync('legacy', policy)),
    legacy: () => drainOutbox(legacy, outboxSync('app', policy)),
  });
}

const summary = (conflicts: ConflictRecord[]) =>
  conflicts
    .map((conflict) => ({
      id: Number(conflict.key.id),
      winner: conflict.winner,
      here: conflict.thisVersion === null ? null : conflict.thisVersion.name,
      there: conflict.otherVersion === null ? null : conflict.otherVersion.name,
    }))
    .sort((a, b) => a.id - b.id);

// Its own servers: the tests stop and restart legacy.
useServers(
  'twoway',
  async (servers) => {
    ({ pair, legacy, app, names } = servers);
    process.env.TWO_WAY_OUTBOX_PASSWORD = ROLE_PASSWORD;
    await loginRole(legacy, 'sync_from_app');
    await loginRole(app, 'sync_from_legacy');
    await legacy.query(ORDERS_DDL);
    await app.query(ORDERS_DDL);
  },
  { private: true },
);

describe('two-way outbox with a conflict policy', () => {
  it('latest wins by updated_at, ties to legacy: both sides converge, nothing travels back, the log is right', async () => {
    const policy = { latest: 'updated_at', ties: 'legacy' };
    await install(policy);
    await app.query(`INSERT INTO orders SELECT g, 'order ' || g, g, '${at(0)}' FROM generate_series(1, 8) AS g`);
    expect(await drainBoth('app', policy)).toEqual({ app: 8, legacy: 0 });
    expect(await readOrders(legacy)).toEqual(await readOrders(app));

    // Legacy's writes, not yet delivered; then legacy goes away and app writes the same keys.
    await legacy.query(`UPDATE orders SET name = 'legacy older', updated_at = '${at(5)}' WHERE id = 1`);
    await legacy.query(`UPDATE orders SET name = 'legacy newer', updated_at = '${at(9)}' WHERE id = 2`);
    await legacy.query(`UPDATE orders SET name = 'legacy kept', updated_at = '${at(1)}' WHERE id = 3`);
    await legacy.query(`UPDATE orders SET name = 'legacy tie', updated_at = '${at(4)}' WHERE id = 4`);
    await legacy.query('DELETE FROM orders WHERE id = 5');
    await legacy.query(`UPDATE orders SET name = 'legacy alone', updated_at = '${at(2)}' WHERE id = 6`);
    await legacy.query(`INSERT INTO orders VALUES (9, 'legacy new', 1, '${at(8)}')`);
    await legacy.query('DELETE FROM orders WHERE id = 8');
    await pair.legacy.stop();
    try {
      await app.query(`UPDATE orders SET name = 'app newer', updated_at = '${at(10)}' WHERE id = 1`);
      await app.query(`UPDATE orders SET name = 'app older', updated_at = '${at(5)}' WHERE id = 2`);
      await app.query('DELETE FROM orders WHERE id = 3');
      await app.query(`UPDATE orders SET name = 'app tie', updated_at = '${at(4)}' WHERE id = 4`);
      await app.query('DELETE FROM orders WHERE id = 5');
      await app.query(`INSERT INTO orders VALUES (5, 'app re-inserted', 5, '${at(3)}')`);
      await app.query(`INSERT INTO orders VALUES (9, 'app new', 2, '${at(2)}')`);
      await app.query('DELETE FROM orders WHERE id = 8');
      const down = await drainOutbox(app, outboxSync('legacy', policy));
      expect(down.delivered).toBe(0);
      expect(down.error).toMatch(/could not deliver the outbox of public\.orders/);
    } finally {
      await pair.legacy.start();
    }
    legacy = await reconnect(pair.legacy, names.legacy, legacy);

    await drainBoth('app', policy);
    const expected = [
      { id: 1, name: 'app newer', qty: 1, updated_at: '2030-01-01 00:00:10.000000' },
      { id: 2, name: 'legacy newer', qty: 2, updated_at: '2030-01-01 00:00:09.000000' },
      // App deleted 3 while legacy changed it: the change beats the delete.
      { id: 3, name: 'legacy kept', qty: 3, updated_at: '2030-01-01 00:00:01.000000' },
      { id: 4, name: 'legacy tie', qty: 4, updated_at: '2030-01-01 00:00:04.000000' },
      { id: 5, name: 'app re-inserted', qty: 5, updated_at: '2030-01-01 00:00:03.000000' },
      { id: 6, name: 'legacy alone', qty: 6, updated_at: '2030-01-01 00:00:02.000000' },
      { id: 7, name: 'order 7', qty: 7, updated_at: '2030-01-01 00:00:00.000000' },
      { id: 9, name: 'legacy new', qty: 1, updated_at: '2030-01-01 00:00:08.000000' },
    ];
    expect(await readOrders(app)).toEqual(expected);
    expect(await readOrders(legacy)).toEqual(expected);

    // Nothing ping-pongs: a second round has nothing to deliver, both outboxes are empty.
    expect(await drainBoth('app', policy)).toEqual({ app: 0, legacy: 0 });
    expect((await outboxLag(app, outboxSync('legacy', policy))).pending).toBe(0);
    expect((await outboxLag(legacy, outboxSync('app', policy))).pending).toBe(0);

    // App's drain reached legacy first, so legacy found and settled every conflict.
    expect(await listConflicts(app)).toEqual([]);
    const conflicts = await listConflicts(legacy);
    expect(summary(conflicts)).toEqual([
      { id: 1, winner: 'app', here: 'legacy older', there: 'app newer' },
      { id: 2, winner: 'legacy', here: 'legacy newer', there: 'app older' },
      { id: 3, winner: 'legacy', here: 'legacy kept', there: null },
      { id: 4, winner: 'legacy', here: 'legacy tie', there: 'app tie' },
      { id: 5, winner: 'app', here: null, there: 'app re-inserted' },
      { id: 9, winner: 'legacy', here: 'legacy new', there: 'app new' },
    ]);
    for (const conflict of conflicts) {
      expect(conflict).toMatchObject({
        sync: 'public.orders to public.orders on server app',
        thisSide: 'legacy',
        otherSide: 'app',
        policy: 'latest updated_at, ties to legacy',
        log: { schema: 'public', name: 'orders__conflicts_app' },
      });
      expect(conflict.detectedAt).toBeInstanceOf(Date);
    }
    expect(conflicts[0]!.key).toEqual({ id: expect.any(Number) });
    const one = await listConflicts(legacy, { sync: outboxSync('app', policy), limit: 2 });
    expect(one).toHaveLength(2);
    expect(await listConflicts(legacy, { since: new Date(Date.now() + 60_000) })).toEqual([]);

    // The doctor reports them, with where to read them.
    const findings = (await diagnose(connectionString(pair.legacy, names.legacy))).findings.filter(
      (finding) => finding.check === 'conflicts',
    );
    expect(findings).toEqual([
      expect.objectContaining({
        severity: 'warning',
        subject: 'conflict log public.orders__conflicts_app',
        message: expect.stringContaining('6 conflicts in the last 24 hours'),
      }),
    ]);
  });

  it('one side always wins, whichever side drains first; deletes and re-inserts included', async () => {
    const policy = { winner: 'app' };
    await install(policy);
    await app.query(`INSERT INTO orders SELECT g, 'order ' || g, g, '${at(0)}' FROM generate_series(1, 4) AS g`);
    await drainBoth('app', policy);

    await pair.legacy.stop();
    try {
      await app.query(`UPDATE orders SET name = 'app' WHERE id IN (1, 2)`);
      await app.query('DELETE FROM orders WHERE id = 3');
      await app.query(`INSERT INTO orders VALUES (5, 'app five', 5, '${at(1)}')`);
    } finally {
      await pair.legacy.start();
    }
    legacy = await reconnect(pair.legacy, names.legacy, legacy);
    await legacy.query(`UPDATE orders SET name = 'legacy', updated_at = '${at(30)}' WHERE id IN (1, 3)`);
    await legacy.query('DELETE FROM orders WHERE id = 2');
    await legacy.query(`INSERT INTO orders VALUES (5, 'legacy five', 5, '${at(30)}')`);
    await legacy.query(`UPDATE orders SET name = 'legacy only' WHERE id = 4`);

    // Legacy's drain reaches app first this time: app settles the conflicts.
    await drainBoth('legacy', policy);
    const expected = [
      { id: 1, name: 'app', qty: 1, updated_at: '2030-01-01 00:00:00.000000' },
      { id: 2, name: 'app', qty: 2, updated_at: '2030-01-01 00:00:00.000000' },
      { id: 4, name: 'legacy only', qty: 4, updated_at: '2030-01-01 00:00:00.000000' },
      { id: 5, name: 'app five', qty: 5, updated_at: '2030-01-01 00:00:01.000000' },
    ];
    expect(await readOrders(app)).toEqual(expected);
    expect(await readOrders(legacy)).toEqual(expected);
    expect(await drainBoth('legacy', policy)).toEqual({ app: 0, legacy: 0 });
    expect(await listConflicts(legacy)).toEqual([]);
    expect(summary(await listConflicts(app))).toEqual([
      { id: 1, winner: 'app', here: 'app', there: 'legacy' },
      { id: 2, winner: 'app', here: 'app', there: null },
      { id: 3, winner: 'app', here: null, there: 'legacy' },
      { id: 5, winner: 'app', here: 'app five', there: 'legacy five' },
    ]);
  });

  it('up then down leaves both catalogs exactly as they were', async () => {
    const policy = { latest: 'updated_at', ties: 'app' };
    const before = { legacy: await catalogSnapshot(legacy), app: await catalogSnapshot(app) };
    await applyInTransaction(app, endpoint('sync_from_legacy'), 'up');
    await applyInTransaction(legacy, endpoint('sync_from_app'), 'up');
    await applyInTransaction(app, appSender(policy), 'up');
    await applyInTransaction(legacy, legacySender(policy), 'up');
    await app.query(`INSERT INTO orders VALUES (1, 'a', 1, '${at(1)}')`);
    await legacy.query(`INSERT INTO orders VALUES (1, 'b', 1, '${at(2)}')`);
    await drainBoth('app', policy);
    expect(await readOrders(app)).toEqual(await readOrders(legacy));
    await app.query('DELETE FROM orders');
    await drainBoth('app', policy);
    await applyInTransaction(legacy, legacySender(policy), 'down');
    await applyInTransaction(app, appSender(policy), 'down');
    await applyInTransaction(legacy, endpoint('sync_from_app'), 'down');
    await applyInTransaction(app, endpoint('sync_from_legacy'), 'down');
    expect(await catalogSnapshot(legacy)).toEqual(before.legacy);
    expect(await catalogSnapshot(app)).toEqual(before.app);
  });

  it('soak: writers on both sides, workers on both sides, legacy restarted three times: 0 lost, equal at the end', {
    timeout: 120_000,
  }, async () => {
    const policy = { latest: 'updated_at', ties: 'legacy' };
    await install(policy);
    await app.query(`INSERT INTO orders SELECT g, 'shared ' || g, 0, '${at(0)}' FROM generate_series(1, 20) AS g`);
    const events: OutboxWorkerEvent[] = [];
    const worker = (side: 'app' | 'legacy') =>
      startOutboxWorker({
        connection: connectionString(
          side === 'app' ? pair.app : pair.legacy,
          side === 'app' ? names.app : names.legacy,
        ),
        syncs: [outboxSync(side === 'app' ? 'legacy' : 'app', policy)],
        pollIntervalMs: 200,
        retry: { initialMs: 50, maxMs: 400 },
        onEvent: (event) => events.push(event),
      });
    const workers = [worker('app'), worker('legacy')];
    // Each writer inserts keys of its own range and updates the 20 shared keys (conflicts), and
    // deletes some of its own keys. Legacy's writer pauses while legacy is down.
    const expectedKeys = new Set<number>();
    let stopping = false;
    let legacyPaused = false;
    let legacyIdle = false;
    let legacyWriter = await connect(pair.legacy, names.legacy);
    const appWriter = await connect(pair.app, names.app);
    const write = async (client: pg.Client, base: number, round: number) => {
      const key = base + round;
      await client.query(
        `BEGIN;
         INSERT INTO orders VALUES (${key}, 'new', ${round}, clock_timestamp());
         UPDATE orders SET name = 'by ${base}', qty = ${round}, updated_at = clock_timestamp() WHERE id = ${1 + (round % 20)};
         ${round % 7 === 6 ? `DELETE FROM orders WHERE id = ${key - 3};` : ''}
         COMMIT`,
      );
      expectedKeys.add(key);
      if (round % 7 === 6) expectedKeys.delete(key - 3);
    };
    const writing = [
      (async () => {
        for (let round = 0; !stopping; round += 1) await write(appWriter, 1_000_000, round);
      })(),
      (async () => {
        for (let round = 0; !stopping; round += 1) {
          while (legacyPaused && !stopping) {
            legacyIdle = true;
            await sleep(20);
          }
          legacyIdle = false;
          if (stopping) break;
          await write(legacyWriter, 2_000_000, round);
        }
      })(),
    ];
    const writers = Promise.all(writing);
    try {
      for (let restart = 0; restart < 3; restart += 1) {
        await sleep(1000);
        legacyPaused = true;
        while (!legacyIdle) await sleep(10);
        await pair.legacy.stop();
        await sleep(400);
        await pair.legacy.start();
        legacyWriter = await reconnect(pair.legacy, names.legacy, legacyWriter);
        legacyPaused = false;
      }
      await sleep(1000);
    } finally {
      stopping = true;
      await writers;
    }
    await Promise.all([appWriter.end(), legacyWriter.end()]);
    legacy = await reconnect(pair.legacy, names.legacy, legacy);
    try {
      // Until both outboxes stay empty: a conflict this side won leaves its version to deliver.
      for (let round = 0; round < 20; round += 1) {
        await Promise.all(workers.map((running) => running.idle()));
        const pending = [
          (await outboxLag(app, outboxSync('legacy', policy))).pending,
          (await outboxLag(legacy, outboxSync('app', policy))).pending,
        ];
        if (pending[0] === 0 && pending[1] === 0) break;
      }
    } finally {
      await Promise.all(workers.map((running) => running.stop()));
    }
    const [onApp, onLegacy] = [await readOrders(app), await readOrders(legacy)];
    expect(onLegacy).toEqual(onApp);
    const keys = onApp.map((row) => Number(row.id)).filter((id) => id > 20);
    expect(keys).toEqual([...expectedKeys].sort((a, b) => a - b));
    expect(onApp.filter((row) => Number(row.id) <= 20)).toHaveLength(20);
    expect((await outboxLag(app, outboxSync('legacy', policy))).pending).toBe(0);
    expect((await outboxLag(legacy, outboxSync('app', policy))).pending).toBe(0);
    const conflicts = [
      ...(await listConflicts(app, { limit: 100_000 })),
      ...(await listConflicts(legacy, { limit: 100_000 })),
    ];
    console.log(
      `two-way outbox soak: ${expectedKeys.size} keys kept, ${onApp.length} rows equal on both sides, ${conflicts.length} conflicts settled, ${events.filter((event) => event.type === 'failed' || event.type === 'disconnected').length} failed or lost deliveries retried`,
    );
    // Every conflict's winner holds the newer updated_at (or legacy, on a tie).
    for (const conflict of conflicts) {
      if (conflict.thisVersion === null || conflict.otherVersion === null) continue;
      const here = String(conflict.thisVersion.updated_at);
      const there = String(conflict.otherVersion.updated_at);
      // Both rendered by one session in one format: the strings order as the times do.
      const newer = here === there ? 'legacy' : here > there ? conflict.thisSide : conflict.otherSide;
      expect(conflict.winner).toBe(newer);
    }
  });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
