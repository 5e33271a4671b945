import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  buildMigration,
  diagnose,
  drainOutbox,
  outboxLag,
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
import { connectionString } from '../harness/server.js';
import { useServers } from '../harness/suite.js';

// A row the other side refuses (a CHECK there) is set aside after a bounded number of attempts;
// every other change keeps flowing, and later changes to the refused key wait behind it.
const COLUMNS = ['id', 'name', 'description', 'price', 'created_at', 'updated_at'];
const products = { name: 'products' };

let pair: ServerPair;
let legacy: pg.Client;
let app: pg.Client;
let names: { legacy: string; app: string };

const sync = () =>
  syncTrigger({ server: 'legacy', table: 'products', key: ['id'], columns: COLUMNS, delivery: 'outbox' });
const endpoint = () => buildMigration('endpoint', syncEndpoint({ table: 'products', key: ['id'], columns: COLUMNS }));
const sender = () => buildMigration('outbox', linkTo(pair.legacy, names.legacy, 'POISON_LEGACY_PASSWORD'), sync());

useServers('poison', async (servers) => {
  ({ pair, legacy, app, names } = servers);
  await legacy.query(PRODUCTS_DDL);
  await app.query(PRODUCTS_DDL);
  await legacy.query('ALTER TABLE products ADD CONSTRAINT price_positive CHECK (price > 0)');
});

async function install(): Promise<void> {
  await applyInTransaction(legacy, endpoint(), 'up');
  await applyInTransaction(app, sender(), 'up');
}

const insert = (id: number, price: number) =>
  app.query(`INSERT INTO products VALUES ($1::int, 'item ' || $1::int, NULL, $2, '2020-01-01', '2020-01-01')`, [
    id,
    price,
  ]);

async function drain(maxAttempts: number): Promise<{ delivered: number; set_aside: number; error: string | null }> {
  const { rows } = await app.query('SELECT * FROM products__drain_legacy(1000, $1)', [maxAttempts]);
  return rows[0];
}

const ids = async (client: pg.Client) =>
  (await client.query<{ id: number }>('SELECT id::int AS id FROM products ORDER BY id')).rows.map((row) => row.id);

describe('outbox poison rows', () => {
  it('a refused row is retried, then set aside; the rest flows, later changes to it are held; retry delivers it', async () => {
    await install();
    for (const [id, price] of [
      [1, 5],
      [2, 5],
      [3, 0],
      [4, 5],
      [5, 5],
    ] as const)
      await insert(id, price);

    // The batch is refused as a whole; key by key, every other row goes through.
    const first = await drain(3);
    expect(first).toMatchObject({ delivered: 4, set_aside: 0 });
    expect(first.error).toMatch(
      /could not deliver the outbox of public\.products to public\.products on server legacy: .*violates check constraint "price_positive"/,
    );
    expect(await ids(legacy)).toEqual([1, 2, 4, 5]);
    expect(await outboxLag(app, sync())).toMatchObject({
      pending: 1,
      setAside: 0,
      currentError: first.error,
      consecutiveFailures: 1,
    });

    expect(await drain(3)).toMatchObject({ delivered: 0, set_aside: 0, error: first.error });
    // The third refusal sets it aside: the failure is no longer current, the key is in the failed table.
    expect(await drain(3)).toEqual({ delivered: 0, set_aside: 1, error: null });
    expect(await outboxLag(app, sync())).toMatchObject({
      pending: 0,
      setAside: 1,
      held: 0,
      currentError: null,
      consecutiveFailures: 0,
    });
    const { rows: failed } = await app.query(
      'SELECT id::int AS id, pg_sync_attempts AS attempts, pg_sync_error AS error FROM products__outbox_legacy_failed',
    );
    expect(failed).toEqual([{ id: 3, attempts: 3, error: first.error }]);

    // A later change to the set-aside key waits behind it; other keys still flow.
    await app.query('UPDATE products SET price = 7 WHERE id = 3');
    await app.query(`UPDATE products SET name = 'renamed' WHERE id = 4`);
    expect(await drain(3)).toEqual({ delivered: 1, set_aside: 0, error: null });
    expect(await outboxLag(app, sync())).toMatchObject({ pending: 1, held: 1, setAside: 1 });
    expect(await ids(legacy)).toEqual([1, 2, 4, 5]);

    // The doctor reports the set-aside key as an error, with the functions to run.
    const findings = (await diagnose(connectionString(pair.app, names.app))).findings.filter(
      (finding) => finding.check === 'outbox',
    );
    expect(findings).toContainEqual(
      expect.objectContaining({
        severity: 'error',
        message: expect.stringContaining('1 keys were set aside'),
        fix: expect.stringContaining('SELECT public.products__retry_legacy()'),
      }),
    );

    // Fixed at the source: retry puts it back, the next drain sends the row as it is now.
    expect((await app.query(`SELECT products__retry_legacy('{"id": 3}') AS n`)).rows[0].n).toBe(1);
    expect(await drainOutbox(app, sync())).toMatchObject({ setAside: 0, error: null });
    expect(await readProducts(legacy, products)).toEqual(await readProducts(app, products));
    expect(await outboxLag(app, sync())).toMatchObject({ pending: 0, held: 0, setAside: 0, currentError: null });
  });

  it('discard drops a set-aside key and its held changes; down refuses while any is set aside', async () => {
    const before = { legacy: await catalogSnapshot(legacy), app: await catalogSnapshot(app) };
    await install();
    await insert(1, 5);
    await insert(6, 0);
    expect(await drainOutbox(app, sync(), { maxAttempts: 1 })).toEqual({ delivered: 1, setAside: 1, error: null });
    await app.query(`UPDATE products SET name = 'still refused' WHERE id = 6`);
    await expect(applyInTransaction(app, sender(), 'down')).rejects.toThrow(
      /holds 1 set-aside keys[\s\S]*public\.products__discard_legacy\(\)/,
    );

    const notices: string[] = [];
    const onNotice = (notice: { message?: string }) => notices.push(notice.message ?? '');
    app.on('notice', onNotice);
    expect((await app.query('SELECT products__discard_legacy() AS n')).rows[0].n).toBe(1);
    app.off('notice', onNotice);
    expect(notices).toEqual([
      expect.stringContaining('discarded 1 set-aside keys and 1 held changes of public.products'),
    ]);
    expect(await outboxLag(app, sync())).toMatchObject({ pending: 0, setAside: 0, held: 0 });
    expect(await ids(legacy)).toEqual([1]);

    await applyInTransaction(app, sender(), 'down');
    await applyInTransaction(legacy, endpoint(), 'down');
    expect(await catalogSnapshot(legacy)).toEqual(before.legacy);
    expect(await catalogSnapshot(app)).toEqual(before.app);
  });

  it('drainOutbox names the sync also for an error raised outside the drain', async () => {
    const elsewhere = syncTrigger({
      server: 'nowhere',
      table: 'products',
      key: ['id'],
      columns: COLUMNS,
      delivery: 'outbox',
    });
    await expect(drainOutbox(app, elsewhere)).rejects.toThrow(
      /^pg-sync-link: could not deliver the outbox of public\.products to server nowhere: function public\.products__drain_nowhere\(/,
    );
  });

  it('the worker sets a refused key aside, says so, and keeps delivering the rest', async () => {
    await install();
    const events: OutboxWorkerEvent[] = [];
    const worker = startOutboxWorker({
      connection: connectionString(pair.app, names.app),
      syncs: [sync()],
      maxAttempts: 2,
      pollIntervalMs: 3_600_000,
      retry: { initialMs: 20, maxMs: 100 },
      onEvent: (event) => events.push(event),
    });
    try {
      await insert(1, 0);
      await insert(2, 5);
      await until(() => events.some((event) => event.type === 'set-aside'));
      await insert(3, 5);
      await worker.idle();
      expect(await ids(legacy)).toEqual([2, 3]);
      expect(events.filter((event) => event.type === 'failed')).toEqual([
        expect.objectContaining({
          sync: 'public.products to server legacy',
          error: expect.stringMatching(
            /^pg-sync-link: could not deliver the outbox of public\.products .*price_positive/,
          ),
        }),
      ]);
      expect(events).toContainEqual({ type: 'set-aside', sync: 'public.products to server legacy', keys: 1 });
      expect(await outboxLag(app, sync())).toMatchObject({ pending: 0, setAside: 1, currentError: null });
    } finally {
      await worker.stop();
    }
  });
});

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('Timed out waiting for a condition.');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
