// verifyTables on a million rows per side with a few differences, against reads of the same
// table on one side in the same run: a count(*), and a server-side pass that turns every row
// into text (what any comparison must at least do once per side). Then backfillTables of
// 100,000 rows into an empty table, against the same rows inserted by INSERT ... SELECT there,
// and the floor under it: its comparison plus an upsert of rows already on that server.
import { backfillTables, verifyTables } from 'pg-sync-link';
import { medianMs, round } from './measure.mjs';
import { emptyTable } from './products.mjs';

const ROWS = 1_000_000;
const BACKFILL_ROWS = 100_000;
const TABLE = `CREATE TABLE verified (
  id bigint PRIMARY KEY, name varchar(255) NOT NULL, description text, price integer,
  created_at timestamp without time zone NOT NULL, updated_at timestamp without time zone NOT NULL)`;
const FILL = `INSERT INTO verified SELECT g, 'product ' || g, CASE WHEN g % 7 = 0 THEN NULL ELSE repeat('x', 60) END, g % 5000,
  timestamp '2020-01-01' + g * interval '1 second', timestamp '2024-01-01' FROM generate_series(1, ${ROWS}) g`;
const TABLES = {
  table: 'verified',
  key: ['id'],
  columns: ['id', 'name', 'description', 'price', 'created_at', 'updated_at'],
};

/**
 * @param {{ legacy: import('../examples/support/embedded-server.mjs').Server, app: import('../examples/support/embedded-server.mjs').Server }} pair
 * @param {(line: string) => void} say
 */
export async function benchVerify({ legacy, app }, say) {
  for (const server of [legacy, app]) {
    await server.client.query(TABLE);
    await server.client.query(FILL);
    await server.client.query('VACUUM ANALYZE verified');
  }
  await legacy.client.query('DELETE FROM verified WHERE id IN (17, 500000, 999999)');
  await app.client.query('DELETE FROM verified WHERE id IN (42, 424242)');
  await legacy.client.query(`UPDATE verified SET price = -1 WHERE id IN (1, 2, 3, 654321, 777777)`);

  const count = await medianMs(() => app.client.query('SELECT count(*) FROM verified'), 3);
  const fullRead = await medianMs(() => app.client.query('SELECT sum(length(v::text)) FROM verified v'), 3);
  /** @type {import('pg-sync-link').VerifyResult | undefined} */
  let result;
  const verify = await medianMs(async () => {
    result = await verifyTables({ local: app.url, remote: legacy.url, tables: TABLES });
  }, 3);
  const found = [result?.missingOnRemote.length, result?.missingOnLocal.length, result?.differing.length].join('/');
  if (found !== '3/2/5')
    throw new Error(`verify found ${found} missing on remote / missing on local / differing, not 3/2/5`);
  say(
    `verify of ${ROWS} rows per side: ${(verify / 1000).toFixed(2)} s (${result?.passes} passes, ${result?.rowsFetched} keys read); one side's count(*) ${count.toFixed(0)} ms, every row as text ${fullRead.toFixed(0)} ms`,
  );

  const fill = (/** @type {string} */ table) =>
    FILL.replace('INSERT INTO verified', `INSERT INTO ${table}`).replace(String(ROWS), String(BACKFILL_ROWS));
  await app.client.query('CREATE TABLE backfilled (LIKE verified INCLUDING ALL)');
  await app.client.query(fill('backfilled'));
  const backfill = await medianMs(async () => {
    await emptyTable(legacy.client, 'verified');
    const done = await backfillTables({
      local: app.url,
      remote: legacy.url,
      tables: { ...TABLES, table: 'backfilled', remote: { name: 'verified' } },
    });
    if (done.written !== BACKFILL_ROWS) throw new Error(`backfill wrote ${done.written} rows, not ${BACKFILL_ROWS}`);
  }, 3);
  const insert = await medianMs(async () => {
    await emptyTable(legacy.client, 'verified');
    await legacy.client.query(fill('verified'));
  }, 3);
  say(
    `backfill of ${BACKFILL_ROWS} rows into an empty table: ${(backfill / 1000).toFixed(2)} s; the same rows by INSERT ... SELECT there: ${insert.toFixed(0)} ms`,
  );
  // Where a backfill's floor is: the comparison it starts with (every row hashed on both sides),
  // and the idempotent write, an upsert that skips unchanged rows, of rows already on the server.
  await emptyTable(legacy.client, 'verified');
  const compare = await medianMs(
    () =>
      verifyTables({
        local: app.url,
        remote: legacy.url,
        tables: { ...TABLES, table: 'backfilled', remote: { name: 'verified' } },
      }),
    3,
  );
  await legacy.client.query('CREATE TABLE staged (LIKE verified INCLUDING ALL)');
  await legacy.client.query(fill('staged'));
  const others = TABLES.columns.filter((name) => name !== 'id');
  const upsert = await medianMs(async () => {
    await emptyTable(legacy.client, 'verified');
    await legacy.client.query(`INSERT INTO verified AS t SELECT * FROM staged ON CONFLICT (id) DO UPDATE SET ${others.map((name) => `${name} = EXCLUDED.${name}`).join(', ')}
      WHERE ROW(${others.map((name) => `t.${name}::text`).join(', ')}) IS DISTINCT FROM ROW(${others.map((name) => `EXCLUDED.${name}::text`).join(', ')})`);
  }, 3);
  await legacy.client.query('DROP TABLE staged');
  say(
    `backfill floor: its comparison ${compare.toFixed(0)} ms (${round(compare / insert)}× the insert), the upsert of rows already on that server ${upsert.toFixed(0)} ms (${round(upsert / insert)}×), together ${round((compare + upsert) / insert)}×`,
  );

  for (const server of [legacy, app]) await server.client.query('DROP TABLE verified');
  await app.client.query('DROP TABLE backfilled');
  return {
    verify_1m_rows_s: round(verify / 1000),
    verify_vs_count_ratio: round(verify / count),
    verify_vs_row_text_ratio: round(verify / fullRead),
    backfill_100k_rows_s: round(backfill / 1000),
    backfill_vs_insert_ratio: round(backfill / insert),
    backfill_floor_ratio: round((compare + upsert) / insert),
  };
}
