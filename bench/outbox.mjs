// Outbox delivery: what recording costs the writer (vs an unsynced table, same run), and how
// fast a drain delivers what was recorded.
import { buildMigration, drainOutbox, env, fdwLink, runMigration, syncEndpoint, syncTrigger } from 'pg-sync-link';
import { round } from './measure.mjs';
import { emptyTable, PRODUCT_COLUMNS, productRows, productTable } from './products.mjs';

const ROWS = 100_000;
const DRAIN_BATCH = 5_000;

/**
 * @param {{ legacy: import('../examples/support/embedded-server.mjs').Server, app: import('../examples/support/embedded-server.mjs').Server }} pair
 * @param {(line: string) => void} say
 */
export async function benchOutbox({ legacy, app }, say) {
  const run =
    (/** @type {import('pg').Client} */ client) =>
    (/** @type {string} */ sql, /** @type {readonly string[]} */ values) =>
      client.query(sql, [...values]);
  await legacy.client.query(productTable('boxed'));
  await app.client.query(productTable('plain'));
  await app.client.query(productTable('boxed'));
  process.env.BENCH_OUTBOX_PASSWORD = legacy.password;
  const link = fdwLink({
    name: 'legacy',
    host: legacy.host,
    port: legacy.port,
    dbname: legacy.name,
    userMappings: [{ user: legacy.user, password: env('BENCH_OUTBOX_PASSWORD') }],
  });
  const sync = syncTrigger({
    server: 'legacy',
    table: 'boxed',
    key: ['id'],
    columns: PRODUCT_COLUMNS,
    delivery: 'outbox',
  });
  const endpoint = buildMigration('endpoint', syncEndpoint({ table: 'boxed', key: ['id'], columns: PRODUCT_COLUMNS }));
  const sender = buildMigration('outbox', link, sync);
  await runMigration(endpoint, 'up', run(legacy.client));
  await runMigration(sender, 'up', run(app.client));

  const writes = { plain: /** @type {number[]} */ ([]), boxed: /** @type {number[]} */ ([]) };
  const drains = /** @type {number[]} */ ([]);
  for (let attempt = 0; attempt < 3; attempt += 1) {
    for (const table of /** @type {const} */ (['plain', 'boxed'])) {
      await emptyTable(app.client, table);
      const start = process.hrtime.bigint();
      await app.client.query(productRows(table, ROWS));
      writes[table].push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    await emptyTable(legacy.client, 'boxed');
    // TRUNCATE fires no row triggers: only the inserts above are in the outbox.
    const start = process.hrtime.bigint();
    const { delivered, error } = await drainOutbox(app.client, sync, { batchSize: DRAIN_BATCH });
    drains.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (error !== null || delivered !== ROWS)
      throw new Error(`the drain delivered ${delivered} of ${ROWS} changes: ${error}`);
  }
  const median = (/** @type {number[]} */ times) => [...times].sort((a, b) => a - b)[1] ?? 0;
  const remote = await legacy.client.query('SELECT count(*)::int AS n FROM boxed');
  if (remote.rows[0].n !== ROWS) throw new Error(`the other side has ${remote.rows[0].n} rows, not ${ROWS}`);
  say(
    `outbox: bulk INSERT of ${ROWS} rows: plain ${median(writes.plain).toFixed(0)} ms, recorded in the outbox ${median(writes.boxed).toFixed(0)} ms`,
  );
  say(`outbox: drain of ${ROWS} changes in batches of ${DRAIN_BATCH}: ${median(drains).toFixed(0)} ms`);

  await runMigration(sender, 'down', run(app.client));
  await runMigration(endpoint, 'down', run(legacy.client));
  await app.client.query('DROP TABLE plain, boxed');
  await legacy.client.query('DROP TABLE boxed');
  return {
    outbox_write_ratio: round(median(writes.boxed) / median(writes.plain)),
    outbox_drain_rows_per_s: Math.round(ROWS / (median(drains) / 1000)),
  };
}
