// Outbox delivery: what recording costs the writer (vs an unsynced table, same run), bulk and
// single-row, at three sizes, and how fast a drain delivers what was recorded.
import { buildMigration, drainOutbox, env, fdwLink, runMigration, syncEndpoint, syncTrigger } from 'pg-sync-link';
import { median, round, spread, timeMs } from './measure.mjs';
import { emptyTable, PRODUCT_COLUMNS, productRows, productTable } from './products.mjs';

const ROWS = 100_000;
const SCALES = [10_000, 100_000, 1_000_000];
const SINGLE_ROWS = 10_000;
const DRAIN_BATCH = 5_000;
const ROUNDS = 3;

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
  const tables = /** @type {const} */ (['plain', 'boxed']);
  // Between write runs the recorded changes are dropped (the drain is measured on its own).
  const reset = async (/** @type {string} */ table) => {
    await emptyTable(app.client, table);
    if (table === 'boxed') await app.client.query('TRUNCATE boxed__outbox_legacy');
  };

  /** @type {Record<number, number>} */
  const bulkRatios = {};
  for (const rows of SCALES) {
    const writes = { plain: /** @type {number[]} */ ([]), boxed: /** @type {number[]} */ ([]) };
    for (let attempt = 0; attempt < ROUNDS; attempt += 1) {
      for (const table of tables) {
        await reset(table);
        writes[table].push(await timeMs(() => app.client.query(productRows(table, rows))));
      }
    }
    bulkRatios[rows] = median(writes.boxed) / median(writes.plain);
    say(
      `outbox: bulk INSERT of ${rows} rows: plain ${median(writes.plain).toFixed(0)} ms, recorded in the outbox ${median(writes.boxed).toFixed(0)} ms (${bulkRatios[rows].toFixed(2)}×)`,
    );
  }

  // Single-row autocommit inserts (one round: 10 slices, the two tables taking turns so noise hits both).
  const single = { plain: /** @type {number[]} */ ([]), boxed: /** @type {number[]} */ ([]) };
  const insertOne = (/** @type {string} */ table) =>
    `INSERT INTO ${table} VALUES ($1::bigint, 'product ' || $1, repeat('x', 60), $1::bigint % 5000, timestamp '2020-01-01', timestamp '2024-01-01')`;
  for (let attempt = 0; attempt < 1; attempt += 1) {
    const total = { plain: 0, boxed: 0 };
    for (const table of tables) await reset(table);
    for (let slice = 0; slice < 10; slice += 1) {
      for (const table of tables) {
        total[table] += await timeMs(async () => {
          for (let id = slice * (SINGLE_ROWS / 10) + 1; id <= (slice + 1) * (SINGLE_ROWS / 10); id += 1)
            await app.client.query(insertOne(table), [id]);
        });
      }
    }
    single.plain.push(total.plain);
    single.boxed.push(total.boxed);
  }
  const singleRatio = median(single.boxed) / median(single.plain);
  say(
    `outbox: ${SINGLE_ROWS} single-row autocommit INSERTs: plain ${median(single.plain).toFixed(0)} ms, recorded ${median(single.boxed).toFixed(0)} ms (${singleRatio.toFixed(2)}×)`,
  );

  const drains = /** @type {number[]} */ ([]);
  for (let attempt = 0; attempt < ROUNDS; attempt += 1) {
    await reset('boxed');
    await app.client.query(productRows('boxed', ROWS));
    await emptyTable(legacy.client, 'boxed');
    const start = process.hrtime.bigint();
    const { delivered, error } = await drainOutbox(app.client, sync, { batchSize: DRAIN_BATCH });
    drains.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (error !== null || delivered !== ROWS)
      throw new Error(`the drain delivered ${delivered} of ${ROWS} changes: ${error}`);
  }
  const remote = await legacy.client.query('SELECT count(*)::int AS n FROM boxed');
  if (remote.rows[0].n !== ROWS) throw new Error(`the other side has ${remote.rows[0].n} rows, not ${ROWS}`);
  say(`outbox: drain of ${ROWS} changes in batches of ${DRAIN_BATCH}: ${median(drains).toFixed(0)} ms`);

  // The drain's floors, same rows: the postgres_fdw transport alone (one INSERT of every row into
  // the sync's upsert foreign table, nothing read from the outbox), and the apply alone (the
  // upsert run on the other side itself, no transport). A drain through postgres_fdw cannot
  // beat the first; no drain that upserts can beat the second.
  const transport = /** @type {number[]} */ ([]);
  const transportBatched = /** @type {number[]} */ ([]);
  const apply = /** @type {number[]} */ ([]);
  const upsertTail =
    ' ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description, price = EXCLUDED.price, created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at';
  for (let attempt = 0; attempt < ROUNDS; attempt += 1) {
    await emptyTable(legacy.client, 'boxed');
    transport.push(
      await timeMs(() => app.client.query('INSERT INTO boxed__sync_to_legacy_upsert SELECT * FROM boxed')),
    );
    // The same, cut as the drain cuts it: one transaction per DRAIN_BATCH rows, read by key range.
    await emptyTable(legacy.client, 'boxed');
    transportBatched.push(
      await timeMs(async () => {
        for (let first = 1; first <= ROWS; first += DRAIN_BATCH)
          await app.client.query(
            'INSERT INTO boxed__sync_to_legacy_upsert SELECT * FROM boxed WHERE id BETWEEN $1 AND $2',
            [first, first + DRAIN_BATCH - 1],
          );
      }),
    );
    await emptyTable(legacy.client, 'boxed');
    apply.push(await timeMs(() => legacy.client.query(productRows('boxed', ROWS) + upsertTail)));
  }
  say(
    `outbox: the same ${ROWS} rows through postgres_fdw alone ${median(transport).toFixed(0)} ms (in batches of ${DRAIN_BATCH}, one transaction each: ${median(transportBatched).toFixed(0)} ms); upserted on the other side alone ${median(apply).toFixed(0)} ms`,
  );

  await runMigration(sender, 'down', run(app.client));
  await runMigration(endpoint, 'down', run(legacy.client));
  await app.client.query('DROP TABLE plain, boxed');
  await legacy.client.query('DROP TABLE boxed');
  const ratios = SCALES.map((rows) => bulkRatios[rows] ?? 0);
  return {
    outbox_write_ratio: round(bulkRatios[ROWS] ?? 0),
    outbox_write_ratio_10k: round(bulkRatios[10_000] ?? 0),
    outbox_write_ratio_1m: round(bulkRatios[1_000_000] ?? 0),
    // Cost linear in rows: how far apart the three ratios are, as for the synced bulk insert.
    outbox_write_scaling_spread: spread(ratios),
    outbox_single_row_ratio: round(singleRatio),
    outbox_drain_rows_per_s: Math.round(ROWS / (median(drains) / 1000)),
    outbox_drain_fdw_floor_rows_per_s: Math.round(ROWS / (median(transport) / 1000)),
    outbox_drain_fdw_batch_floor_rows_per_s: Math.round(ROWS / (median(transportBatched) / 1000)),
    outbox_drain_apply_floor_rows_per_s: Math.round(ROWS / (median(apply) / 1000)),
  };
}
