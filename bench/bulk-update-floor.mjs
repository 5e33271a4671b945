// The bulk update's floor, for `node bench/write-through-floor.mjs`: the same 100k-row UPDATE
// unsynced, synced, and its new rows pushed through the sync's upsert foreign table with no
// trigger (postgres_fdw and the upsert there, which finds every key: an update on that side),
// all as ratios to the unsynced UPDATE, interleaved in one run. Beside them, the parts: the
// upsert on the other side alone (its endpoint view, no postgres_fdw), and a local UPDATE whose
// statement trigger captures the same transition table and does nothing with it.
import { median, round, timeMs } from './measure.mjs';
import { productRows, productTable } from './products.mjs';

const SET = "price = price + 1, updated_at = updated_at + interval '1 second'";
// The rows the UPDATE above writes, as the sync sends them (every column, new values).
const NEW_ROWS = (/** @type {string} */ table) =>
  `SELECT id, name, description, price + 1, created_at, updated_at + interval '1 second' FROM ${table}`;

/**
 * @param {import('./synced-table.mjs').Pair} pair
 * @param {{ clear: (name: string) => Promise<void> }} synced the synced table `synced`, sender at its default batch size
 * @param {string} upsert the sync's upsert foreign table here
 * @param {number} rows
 * @param {(line: string) => void} say
 */
export async function benchBulkUpdateFloor({ legacy, app }, synced, upsert, rows, say) {
  const { rows: views } = await legacy.client.query(
    `SELECT c.relname AS name FROM pg_catalog.pg_class c WHERE c.relname ~ '^synced__sync_upsert_' AND c.relkind = 'v'`,
  );
  const endpoint = views[0].name;
  await app.client.query(productTable('captured'));
  await app.client.query(`CREATE FUNCTION captured() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$`);
  await app.client.query(
    `CREATE TRIGGER capture AFTER UPDATE ON captured REFERENCING NEW TABLE AS nt FOR EACH STATEMENT EXECUTE FUNCTION captured()`,
  );
  for (const table of ['plain', 'synced']) await synced.clear(table);
  for (const table of ['plain', 'synced', 'captured']) await app.client.query(productRows(table, rows));

  /** @type {Record<string, [() => Promise<unknown>, number[]]>} */
  const shapes = {
    plain: [() => app.client.query(`UPDATE plain SET ${SET}`), []],
    synced: [() => app.client.query(`UPDATE synced SET ${SET}`), []],
    transport: [() => app.client.query(`INSERT INTO ${upsert} ${NEW_ROWS('synced')}`), []],
    apply_there: [() => legacy.client.query(`INSERT INTO ${endpoint} ${NEW_ROWS('synced')}`), []],
    capture_here: [() => app.client.query(`UPDATE captured SET ${SET}`), []],
  };
  // One warm-up each (every table then has one dead version per row, as in every later run),
  // then interleaved, so a busy moment weighs on every shape alike.
  for (const [work] of Object.values(shapes)) await work();
  for (let attempt = 0; attempt < 3; attempt += 1) {
    for (const [work, times] of Object.values(shapes)) times.push(await timeMs(work));
  }

  // What the synced UPDATE sends there: batched upserts only, no DELETE (no key moved).
  await legacy.client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  await legacy.client.query('SELECT pg_stat_statements_reset()');
  await shapes.synced?.[0]();
  const { rows: sent } = await legacy.client.query(
    `SELECT pg_catalog.string_agg(pg_catalog.split_part(query, ' ', 1) || ' ×' || calls, ', ' ORDER BY query) AS sent
     FROM pg_stat_statements WHERE query !~* 'pg_stat_statements'`,
  );
  const { rows: there } = await legacy.client.query(
    `SELECT count(*)::int AS n, count(*) FILTER (WHERE price = (id % 5000) + 5)::int AS updated FROM synced`,
  );
  if (there[0].n !== rows || there[0].updated !== rows)
    throw new Error(`the other side has ${there[0].n} rows, ${there[0].updated} updated, not ${rows}`);

  const plain = median(shapes.plain?.[1] ?? []);
  const ratios = Object.fromEntries(
    Object.entries(shapes)
      .filter(([name]) => name !== 'plain')
      .map(([name, [, times]]) => [name, round(median(times) / plain)]),
  );
  say(`bulk UPDATE of ${rows} rows (unsynced ${plain.toFixed(0)} ms, median of 3), × unsynced:`);
  say(`  the sync as shipped                                          ${ratios.synced}×`);
  say(`  its new rows into the sync's foreign table, no trigger       ${ratios.transport}× (floor: 1 + this)`);
  say(`  those rows into the endpoint view there, no postgres_fdw     ${ratios.apply_there}×`);
  say(`  a local UPDATE capturing its NEW TABLE, trigger does nothing ${ratios.capture_here}×`);
  say(`  statements the synced UPDATE sent there: ${sent[0].sent}`);
  await app.client.query('DROP TABLE captured; DROP FUNCTION captured()');
  return {
    bulk_update: ratios.synced,
    bulk_update_transport: ratios.transport,
    bulk_update_floor: round(1 + (ratios.transport ?? 0)),
    bulk_update_apply_there: ratios.apply_there,
    bulk_update_capture_here: ratios.capture_here,
  };
}
