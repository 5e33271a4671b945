// Two-way outbox: both sides record their writes, then a drain each way delivers them, through
// the conflict trigger on each receiving side (a quarter of the keys changed on both sides).
import { buildMigration, drainOutbox, env, fdwLink, runMigration, syncEndpoint, syncTrigger } from 'pg-sync-link';
import { emptyTable, PRODUCT_COLUMNS, productRows, productTable } from './products.mjs';

const ROWS = 50_000;
const DRAIN_BATCH = 5_000;
const PASSWORD = 'bench-two-way';

/** The side's link to the other, connecting as the role the other side's conflict trigger knows. */
function linkTo(
  /** @type {import('../examples/support/embedded-server.mjs').Server} */ other,
  /** @type {string} */ name,
  /** @type {string} */ role,
) {
  process.env.BENCH_TWO_WAY_PASSWORD = PASSWORD;
  return fdwLink({
    name,
    host: other.host,
    port: other.port,
    dbname: other.name,
    userMappings: [{ user: role, password: env('BENCH_TWO_WAY_PASSWORD') }],
  });
}

/** This side's outbox sync to `server`, with the same policy on both sides. */
const duplexSync = (/** @type {'app' | 'legacy'} */ server) =>
  syncTrigger({
    server,
    table: 'duplex',
    key: ['id'],
    columns: PRODUCT_COLUMNS,
    delivery: 'outbox',
    ignoreWritesBy: { role: `bench_from_${server}` },
    conflicts: { thisSide: server === 'app' ? 'legacy' : 'app', latest: 'updated_at', ties: 'legacy' },
  });

/**
 * @param {import('./synced-table.mjs').Pair} pair
 * @param {(line: string) => void} say
 */
export async function benchOutboxTwoWay({ legacy, app }, say) {
  const run =
    (/** @type {import('pg').Client} */ client) =>
    (/** @type {string} */ sql, /** @type {readonly string[]} */ values) =>
      client.query(sql, [...values]);
  const role = (/** @type {string} */ name) =>
    `DO $$ BEGIN CREATE ROLE ${name} LOGIN PASSWORD '${PASSWORD}'; EXCEPTION WHEN duplicate_object THEN NULL; END $$`;
  await legacy.client.query(role('bench_from_app'));
  await app.client.query(role('bench_from_legacy'));
  await legacy.client.query(productTable('duplex'));
  await app.client.query(productTable('duplex'));
  const endpoint = (/** @type {string} */ incoming) =>
    buildMigration(
      'endpoint',
      syncEndpoint({ table: 'duplex', key: ['id'], columns: PRODUCT_COLUMNS, grantTo: incoming }),
    );
  const senders = {
    app: buildMigration('duplex to legacy', linkTo(legacy, 'legacy', 'bench_from_app'), duplexSync('legacy')),
    legacy: buildMigration('duplex to app', linkTo(app, 'app', 'bench_from_legacy'), duplexSync('app')),
  };
  await runMigration(endpoint('bench_from_app'), 'up', run(legacy.client));
  await runMigration(endpoint('bench_from_legacy'), 'up', run(app.client));
  await runMigration(senders.app, 'up', run(app.client));
  await runMigration(senders.legacy, 'up', run(legacy.client));

  const drains = /** @type {number[]} */ ([]);
  let conflicts = 0;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    await emptyTable(app.client, 'duplex');
    await emptyTable(legacy.client, 'duplex');
    await app.client.query('TRUNCATE duplex__conflicts_legacy');
    await legacy.client.query('TRUNCATE duplex__conflicts_app');
    // Each side writes its own rows and a quarter of the other side's range too: conflicts.
    await app.client.query(productRows('duplex', ROWS, 1));
    await legacy.client.query(productRows('duplex', ROWS, (ROWS / 4) * 3 + 1));
    await legacy.client.query(`UPDATE duplex SET name = 'changed on legacy' WHERE id <= ${ROWS}`);
    const start = process.hrtime.bigint();
    const fromApp = await drainOutbox(app.client, duplexSync('legacy'), { batchSize: DRAIN_BATCH });
    const fromLegacy = await drainOutbox(legacy.client, duplexSync('app'), { batchSize: DRAIN_BATCH });
    drains.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (fromApp.error !== null || fromLegacy.error !== null)
      throw new Error(`a drain failed: ${fromApp.error ?? fromLegacy.error}`);
    const counts = await Promise.all(
      [app, legacy].map(async (side) => (await side.client.query('SELECT count(*)::int AS n FROM duplex')).rows[0].n),
    );
    if (counts[0] !== counts[1] || counts[0] !== (ROWS / 4) * 7)
      throw new Error(`the sides hold ${counts.join(' and ')} rows, not ${(ROWS / 4) * 7} each`);
    conflicts = (await legacy.client.query('SELECT count(*)::int AS n FROM duplex__conflicts_app')).rows[0].n;
  }
  const median = [...drains].sort((a, b) => a - b)[1] ?? 0;
  say(
    `outbox two-way: ${ROWS} changes on each side (${conflicts} keys on both), drained both ways in batches of ${DRAIN_BATCH}: ${median.toFixed(0)} ms`,
  );

  await runMigration(senders.legacy, 'down', run(legacy.client));
  await runMigration(senders.app, 'down', run(app.client));
  await runMigration(endpoint('bench_from_legacy'), 'down', run(app.client));
  await runMigration(endpoint('bench_from_app'), 'down', run(legacy.client));
  await app.client.query('DROP TABLE duplex');
  await legacy.client.query('DROP TABLE duplex');
  return { outbox_two_way_drain_rows_per_s: Math.round((2 * ROWS) / (median / 1000)) };
}
