// Whether a synced bulk insert costs the same per row at 10k, 100k and 1M rows: the ratio to
// the same unsynced insert at each size (they should stay within 15% of each other).
import { median, round, spread, timeMs } from './measure.mjs';
import { productRows } from './products.mjs';
import { installSyncedTable } from './synced-table.mjs';

const SIZES = [10_000, 100_000, 1_000_000];
const label = (/** @type {number} */ rows) => (rows >= 1_000_000 ? `${rows / 1_000_000}m` : `${rows / 1000}k`);

/**
 * @param {import('./synced-table.mjs').Pair} pair
 * @param {(line: string) => void} say
 */
export async function benchSyncScaling(pair, say) {
  const { app } = pair;
  const synced = await installSyncedTable(pair, 'synced');
  /** @type {Record<string, number>} */
  const results = {};
  for (const rows of SIZES) {
    // Fewer repeats of the big insert, so the run stays short; medians either way.
    const runs = rows >= 1_000_000 ? 1 : 3;
    const times = { plain: /** @type {number[]} */ ([]), synced: /** @type {number[]} */ ([]) };
    for (let attempt = 0; attempt < runs; attempt += 1) {
      for (const table of /** @type {const} */ (['plain', 'synced'])) {
        await synced.clear(table);
        times[table].push(await timeMs(() => app.client.query(productRows(table, rows))));
      }
    }
    const ratio = round(median(times.synced) / median(times.plain));
    say(
      `bulk INSERT ... SELECT of ${rows} rows: plain ${median(times.plain).toFixed(0)} ms, synced ${median(times.synced).toFixed(0)} ms (${ratio}×)`,
    );
    results[`bulk_insert_ratio_${label(rows)}`] = ratio;
  }
  await synced.remove();
  results.bulk_insert_scaling_spread = spread(Object.values(results));
  return results;
}
