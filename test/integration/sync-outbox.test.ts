import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  buildMigration,
  diagnose,
  drainOutbox,
  outboxLag,
  outboxNames,
  startOutboxWorker,
  syncEndpoint,
  syncTrigger,
  type OutboxWorkerEvent,
} from '../../src/index.js';
import { applyInTransaction } from '../harness/apply.js';
import { catalogSnapshot } from '../harness/catalog.js';
import { PRODUCTS_DDL, readProducts } from '../harness/legacy-fixture.js';
import { linkTo } from '../harness/links.js';
import type { ServerPair } from '../harness/pair.js';
import { connect, connectionString } from '../harness/server.js';
import { useServers } from '../harness/suite.js';

// Outbox delivery: app's writes never wait for legacy; a drain delivers them later.
const COLUMNS = ['id', 'name', 'description', 'price', 'created_at', 'updated_at'];
const products = { name: 'products' };

let pair: ServerPair;
let legacy: pg.Client;
let app: pg.Client;
let names: { legacy: string; app: string };

const sync = () =>
  syncTrigger({ server: 'legacy', table: 'products', key: ['id'], columns: COLUMNS, delivery: 'outbox' });
const endpoint = () => buildMigration('endpoint', syncEndpoint({ table: 'products', key: ['id'], columns: COLUMNS }));
const sender = () => buildMigration('outbox', linkTo(pair.legacy, names.legacy, 'OUTBOX_LEGACY_PASSWORD'), sync());

async function install(): Promise<void> {
  await applyInTransaction(legacy, endpoint(), 'up');
  await applyInTransaction(app, sender(), 'up');
}

async function drain(batchSize?: number) {
  const { rows } = await app.query<{ delivered: number; set_aside: number; error: string | null }>(
    'SELECT * FROM products__drain_legacy($1)',
    [batchSize ?? 1000],
  );
  return rows[0]!;
}

// Its own servers: two tests stop and restart legacy.
useServers(
  'outbox',
  async (servers) => {
    ({ pair, legacy, app, names } = servers);
    await legacy.query(PRODUCTS_DDL);
    await app.query(PRODUCTS_DDL);
  },
  { private: true },
);

const insertRows = `INSERT INTO products (id, name, description, price, created_at, updated_at)
  SELECT g, 'item ' || g, NULL, g * 10, '2020-01-01', '2020-01-01' FROM generate_series(1, 25) AS g`;

describe('outbox delivery', () => {
  it('records changes without touching the other side, and a drain delivers them in batches', async () => {
    await install();
    await app.query(insertRows);
    await app.query('UPDATE products SET price = -price WHERE id <= 5');
    await app.query('DELETE FROM products WHERE id > 20');
    expect(await readProducts(legacy, products)).toEqual([]);
    const lag = await outboxLag(app, sync());
    expect(lag.pending).toBe(25 + 5 + 5);
    expect(lag.oldestPendingSeconds).toBeGreaterThanOrEqual(0);
    expect(lag.lastError).toBeNull();

    expect(await drain(10)).toEqual({ delivered: 10, set_aside: 0, error: null });
    expect((await readProducts(legacy, products)).length).toBe(10);
    // The rest, through the TypeScript call, which drains until the outbox is empty.
    expect(await drainOutbox(app, sync(), { batchSize: 10 })).toEqual({ delivered: 25, setAside: 0, error: null });
    expect(await readProducts(legacy, products)).toEqual(await readProducts(app, products));
    const after = await outboxLag(app, sync());
    expect(after).toMatchObject({ pending: 0, oldestPendingSeconds: null, deliveredTotal: 35, consecutiveFailures: 0 });
    expect(after.lastDeliveredAt).toBeInstanceOf(Date);
  });

  it('a batch delivered twice changes nothing; changes to one key arrive in order', async () => {
    await install();
    await app.query(insertRows);
    await drain();
    const delivered = await readProducts(legacy, products);
    // The same keys recorded again (as a retried batch would be): the drain sends the same rows.
    await app.query('INSERT INTO products__outbox_legacy (id) SELECT array_agg(id) FROM products');
    expect(await drain()).toEqual({ delivered: 25, set_aside: 0, error: null });
    expect(await readProducts(legacy, products)).toEqual(delivered);

    // Insert, update, delete, insert again, move: several transactions, one drain.
    await app.query(`INSERT INTO products VALUES (100, 'first', NULL, 1, '2020-01-01', '2020-01-01')`);
    await app.query(`UPDATE products SET name = 'second' WHERE id = 100`);
    await app.query('DELETE FROM products WHERE id = 100');
    await app.query(`INSERT INTO products VALUES (100, 'third', 'back', 3, '2020-01-01', '2020-01-01')`);
    await app.query('UPDATE products SET id = 200 WHERE id = 1');
    await drain();
    expect(await readProducts(legacy, products)).toEqual(await readProducts(app, products));
  });

  it('writes go on while the other side is down; the failure is recorded, then delivered after restart', async () => {
    await install();
    await app.query(insertRows);
    await pair.legacy.stop();
    try {
      await app.query(`UPDATE products SET name = 'changed while down' WHERE id = 3`);
      const failed = await drain();
      expect(failed.delivered).toBe(0);
      expect(failed.error).toMatch(
        /pg-sync-link: could not deliver the outbox of public\.products to public\.products on server legacy: .*(connect|connection)/i,
      );
      await drain();
      const lag = await outboxLag(app, sync());
      expect(lag).toMatchObject({ pending: 26, consecutiveFailures: 2 });

      expect(lag.lastError).toBe(failed.error);
      expect(lag.currentError).toBe(failed.error);
      // The other side being down is not a rejected row: no attempt is counted, nothing set aside.
      expect((await app.query('SELECT * FROM products__drain_legacy(1000, 1)')).rows[0]).toMatchObject({
        delivered: 0,
        set_aside: 0,
      });
      expect(await outboxLag(app, sync())).toMatchObject({ pending: 26, setAside: 0 });
      // The doctor reports it, with what to run.
      const outbox = (await diagnose(connectionString(pair.app, names.app))).findings.filter(
        (finding) => finding.check === 'outbox',
      );
      expect(outbox).toEqual([
        expect.objectContaining({
          severity: 'warning',
          subject: 'outbox public.products__outbox_legacy_lag',
          fix: expect.stringContaining('SELECT * FROM public.products__drain_legacy()'),
        }),
      ]);
      expect(outbox[0]!.message).toContain(
        '26 changes wait; the last 3 deliveries failed: pg-sync-link: could not deliver',
      );
    } finally {
      await pair.legacy.start();
    }
    legacy = await reconnect(pair.legacy, names.legacy, legacy);
    expect(await drain()).toEqual({ delivered: 26, set_aside: 0, error: null });
    expect(await readProducts(legacy, products)).toEqual(await readProducts(app, products));
    // The failure is past: current_error clears, last_error stays for the record.
    expect(await outboxLag(app, sync())).toMatchObject({
      pending: 0,
      consecutiveFailures: 0,
      currentError: null,
      lastError: expect.stringMatching(/could not deliver/),
    });
    const healthy = await diagnose(connectionString(pair.app, names.app));
    expect(healthy.findings.filter((finding) => finding.check === 'outbox')).toEqual([
      expect.objectContaining({ severity: 'ok', message: '0 changes waiting; deliveries succeed.' }),
    ]);
  });

  it('a composite key: big statements are taken in parts, a refused key alone is set aside', async () => {
    const stock = 'CREATE TABLE stock (region text, id integer, qty integer NOT NULL, PRIMARY KEY (region, id))';
    await app.query(stock);
    await legacy.query(stock);
    await legacy.query('ALTER TABLE stock ADD CHECK (qty >= 0)');
    const stockSync = syncTrigger({
      server: 'legacy',
      table: 'stock',
      key: ['region', 'id'],
      columns: ['region', 'id', 'qty'],
      delivery: 'outbox',
    });
    await applyInTransaction(
      legacy,
      buildMigration(
        'endpoint',
        syncEndpoint({ table: 'stock', key: ['region', 'id'], columns: ['region', 'id', 'qty'] }),
      ),
      'up',
    );
    await applyInTransaction(
      app,
      buildMigration('outbox', linkTo(pair.legacy, names.legacy, 'OUTBOX_LEGACY_PASSWORD'), stockSync),
      'up',
    );
    // 2,500 keys in one statement: three outbox rows, each a part of the statement's keys.
    await app.query(
      `INSERT INTO stock SELECT r, g, g FROM unnest(ARRAY['a', 'b']) AS r, generate_series(1, 1250) AS g`,
    );
    expect((await app.query('SELECT count(*)::int AS n FROM stock__outbox_legacy')).rows[0].n).toBe(3);
    await app.query(`UPDATE stock SET qty = -1 WHERE region = 'b' AND id = 7`);
    await app.query(`DELETE FROM stock WHERE region = 'a' AND id % 10 = 0`);
    const totals = { delivered: 0, set_aside: 0 };
    for (let round = 0; round < 20; round += 1) {
      const { rows } = await app.query('SELECT * FROM stock__drain_legacy(700, 1)');
      totals.delivered += rows[0].delivered;
      totals.set_aside += rows[0].set_aside;
      if (rows[0].delivered + rows[0].set_aside === 0) break;
    }
    // 2,500 inserts + 125 deletes but b/7's insert, which was sent as it is now (refused) and set
    // aside; its later update is held.
    expect(totals).toEqual({ delivered: 2500 + 125 - 1, set_aside: 1 });
    const read = (client: pg.Client) =>
      client.query('SELECT region, id, qty FROM stock ORDER BY region, id').then((result) => result.rows);
    const expected = (await read(app)).filter((row) => !(row.region === 'b' && row.id === 7));
    expect((await read(legacy)).filter((row) => !(row.region === 'b' && row.id === 7))).toEqual(expected);
    expect((await app.query('SELECT region, id FROM stock__outbox_legacy_failed')).rows).toEqual([
      { region: 'b', id: 7 },
    ]);
    expect(await outboxLag(app, stockSync)).toMatchObject({ pending: 1, setAside: 1, held: 1 });
  });

  it('a rolled-back write records nothing', async () => {
    await install();
    await app.query('BEGIN');
    await app.query(insertRows);
    await app.query('ROLLBACK');
    expect((await outboxLag(app, sync())).pending).toBe(0);
  });

  it('down refuses while changes are undelivered; after the drain it leaves both catalogs as they were', async () => {
    const before = { legacy: await catalogSnapshot(legacy), app: await catalogSnapshot(app) };
    await install();
    await app.query(insertRows);
    await expect(applyInTransaction(app, sender(), 'down')).rejects.toThrow(
      /outbox of public\.products to public\.products on server legacy still holds 25 undelivered changes[\s\S]*SELECT \* FROM public\.products__drain_legacy\(\)/,
    );
    await drain();
    await applyInTransaction(app, sender(), 'down');
    await applyInTransaction(legacy, endpoint(), 'down');
    expect(await catalogSnapshot(legacy)).toEqual(before.legacy);
    expect(await catalogSnapshot(app)).toEqual(before.app);
  });

  it('the worker wakes on NOTIFY, retries while the other side is down, and stops cleanly', async () => {
    await install();
    const events: OutboxWorkerEvent[] = [];
    const worker = startOutboxWorker({
      connection: connectionString(pair.app, names.app),
      syncs: [sync()],
      batchSize: 7,
      // Only a notification can wake it within the test: the poll would take an hour.
      pollIntervalMs: 3_600_000,
      retry: { initialMs: 50, maxMs: 400 },
      onEvent: (event) => events.push(event),
    });
    try {
      await until(() => events.length > 0);
      await app.query(insertRows);
      // No idle() here: it would wake the worker itself. The commit's NOTIFY must.
      await until(async () => (await outboxLag(app, sync())).deliveredTotal === 25);
      expect(await readProducts(legacy, products)).toEqual(await readProducts(app, products));
      expect(
        events.filter((event) => event.type === 'delivered').map((event) => (event as { count: number }).count),
      ).toEqual([7, 7, 7, 4]);

      await pair.legacy.stop();
      await app.query(`UPDATE products SET name = 'while down' WHERE id < 4`);
      await until(() => events.filter((event) => event.type === 'failed').length >= 3);
      const failures = events.filter(
        (event): event is Extract<OutboxWorkerEvent, { type: 'failed' }> => event.type === 'failed',
      );
      expect(failures[0]!.error).toMatch(/could not deliver the outbox of public\.products/);
      // Backoff: each wait is longer than the one before, up to the maximum.
      expect(failures[2]!.retryInMs).toBeGreaterThan(failures[0]!.retryInMs);
      await pair.legacy.start();
      legacy = await reconnect(pair.legacy, names.legacy, legacy);
      await worker.idle();
      expect(await readProducts(legacy, products)).toEqual(await readProducts(app, products));
    } finally {
      await worker.stop();
    }
    expect(events.at(-1)).toEqual({ type: 'stopped' });
    expect(events[0]).toEqual({ type: 'connected' });
    // Every error the worker reported in the outage names the sync, whatever raised it.
    for (const event of events)
      if ('error' in event)
        expect(event.error).toMatch(/^pg-sync-link: could not deliver the outbox of public\.products /);
    const { rows } = await app.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
    );
    expect(rows[0].n).toBe(0);
  });

  it('refuses an expression key, timing, and a worker without outbox syncs, saying what to change', () => {
    expect(() =>
      syncTrigger({
        server: 'legacy',
        table: 'products',
        key: ['id'],
        columns: ['id', 'name'],
        delivery: 'outbox',
        timing: 'commit',
      }),
    ).toThrow(/timing applies to write-through delivery/);
    expect(() =>
      syncTrigger({ server: 'legacy', table: 'products', key: ['id'], columns: ['id'], delivery: 'later' as never }),
    ).toThrow(/delivery must be 'write-through' or 'outbox', got "later"/);
    expect(() =>
      outboxNames(syncTrigger({ server: 'legacy', table: 'products', key: ['id'], columns: ['id'] })),
    ).toThrow(/delivery: 'outbox'/);
    expect(() => startOutboxWorker({ connection: 'postgres://x', syncs: [] })).toThrow(/needs syncs/);
  });
});

async function reconnect(server: ServerPair['legacy'], database: string, old: pg.Client): Promise<pg.Client> {
  await old.end().catch(() => undefined);
  return connect(server, database);
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('Timed out waiting for a condition.');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
