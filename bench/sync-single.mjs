// Single-row autocommit writes, synced vs unsynced, what applications mostly do: INSERTs,
// `UPDATE ... WHERE id = $1`, and the latency of one INSERT with 1, 4 and 8 writers at once.
import pg from 'pg';
import { round, timeMs } from './measure.mjs';
import { installSyncedTable } from './synced-table.mjs';

const SINGLE_ROWS = 10_000;
// Plain and synced alternate in slices, so a busy moment weighs on both alike.
const SLICES = 4;
const WRITERS = [1, 4, 8];
// Rows each concurrency level writes, shared among its writers.
const CONCURRENT_ROWS = 4_000;

const INSERT = (/** @type {string} */ table) =>
  `INSERT INTO ${table} VALUES ($1, 'single', NULL, 1, '2020-01-01', '2020-01-01')`;
const UPDATE = (/** @type {string} */ table) =>
  `UPDATE ${table} SET price = price + 1, updated_at = updated_at + interval '1 second' WHERE id = $1`;

/**
 * @param {import('./synced-table.mjs').Pair} pair
 * @param {(line: string) => void} say
 */
export async function benchSyncSingle(pair, say) {
  const { app } = pair;
  const synced = await installSyncedTable(pair, 'synced');
  const tables = /** @type {const} */ (['plain', 'synced']);

  /** Runs `statement` once per id, slice by slice, alternating tables; total ms per table. */
  const alternate = async (/** @type {(table: string) => string} */ statement) => {
    const totals = { plain: 0, synced: 0 };
    const slice = SINGLE_ROWS / SLICES;
    for (let first = 1; first <= SINGLE_ROWS; first += slice) {
      for (const table of tables) {
        totals[table] += await timeMs(async () => {
          for (let id = first; id < first + slice; id += 1) await app.client.query(statement(table), [id]);
        });
      }
    }
    return totals;
  };
  const inserts = await alternate(INSERT);
  const updates = await alternate(UPDATE);
  say(
    `${SINGLE_ROWS} single-row autocommit INSERTs: plain ${inserts.plain.toFixed(0)} ms, synced ${inserts.synced.toFixed(0)} ms`,
  );
  say(
    `${SINGLE_ROWS} single-row autocommit UPDATE ... WHERE id = $1: plain ${updates.plain.toFixed(0)} ms, synced ${updates.synced.toFixed(0)} ms`,
  );
  const remote = await synced.remoteCount();
  if (remote !== SINGLE_ROWS)
    throw new Error(`the synced table has ${remote} rows on the other side, not ${SINGLE_ROWS}`);

  /** @type {Record<string, number>} */
  const concurrent = {};
  const clients = await Promise.all(
    Array.from({ length: Math.max(...WRITERS) }, async () => {
      const client = new pg.Client({ connectionString: app.url });
      await client.connect();
      return client;
    }),
  );
  try {
    for (const writers of WRITERS) {
      const latency = { plain: 0, synced: 0 };
      for (const table of tables) {
        await synced.clear(table);
        const each = CONCURRENT_ROWS / writers;
        const elapsed = await timeMs(() =>
          Promise.all(
            clients.slice(0, writers).map(async (client, writer) => {
              for (let id = writer * each + 1; id <= (writer + 1) * each; id += 1)
                await client.query(INSERT(table), [id]);
            }),
          ),
        );
        // Each writer waits for its own statements one after the other: the mean latency of one.
        latency[table] = (elapsed / each) * 1000;
      }
      say(
        `single-row INSERT with ${writers} writer(s) at once: plain ${latency.plain.toFixed(0)} µs, synced ${latency.synced.toFixed(0)} µs per statement`,
      );
      concurrent[`single_row_latency_us_${writers}_writers`] = Math.round(latency.synced);
      concurrent[`single_row_ratio_${writers}_writers`] = round(latency.synced / latency.plain);
    }
  } finally {
    await Promise.all(clients.map((client) => client.end()));
  }
  await synced.remove();
  return {
    single_row_ratio: round(inserts.synced / inserts.plain),
    single_row_update_ratio: round(updates.synced / updates.plain),
    ...concurrent,
  };
}
