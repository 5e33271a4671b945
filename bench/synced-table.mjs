// A products table synced write-through from app to legacy (syncEndpoint there, syncTrigger
// here), for the benchmarks that time synced writes; `remove` puts both databases back.
import { buildMigration, env, fdwLink, runMigration, syncEndpoint, syncTrigger } from 'pg-sync-link';
import { emptyTable, PRODUCT_COLUMNS, productTable } from './products.mjs';

/**
 * @typedef {{ legacy: import('../examples/support/embedded-server.mjs').Server, app: import('../examples/support/embedded-server.mjs').Server }} Pair
 */

/** Runs a migration's SQL on a client. */
export const runOn =
  (/** @type {import('pg').Client} */ client) => (/** @type {string} */ sql, /** @type {readonly string[]} */ values) =>
    client.query(sql, [...values]);

/** The link from app to legacy every synced benchmark uses. */
export function legacyLink(/** @type {Pair} */ { legacy }) {
  process.env.BENCH_SYNC_PASSWORD = legacy.password;
  return fdwLink({
    name: 'legacy',
    host: legacy.host,
    port: legacy.port,
    dbname: legacy.name,
    userMappings: [{ user: legacy.user, password: env('BENCH_SYNC_PASSWORD') }],
  });
}

/**
 * Creates `table` on both sides and syncs it; also creates the unsynced `plain` baseline here.
 * @param {Pair} pair
 * @param {string} table
 */
export async function installSyncedTable(pair, table) {
  const { legacy, app } = pair;
  await legacy.client.query(productTable(table));
  await app.client.query(productTable(table));
  await app.client.query(productTable('plain'));
  const endpoint = buildMigration('endpoint', syncEndpoint({ table, key: ['id'], columns: PRODUCT_COLUMNS }));
  const sender = buildMigration(
    'sync',
    legacyLink(pair),
    syncTrigger({ server: 'legacy', table, key: ['id'], columns: PRODUCT_COLUMNS }),
  );
  await runMigration(endpoint, 'up', runOn(legacy.client));
  await runMigration(sender, 'up', runOn(app.client));
  return {
    /** Empties a table here (and its synced copy there), without syncing the TRUNCATE. */
    async clear(/** @type {string} */ name) {
      await emptyTable(app.client, name);
      if (name === table) await emptyTable(legacy.client, name);
    },
    /** How many rows the other side has. */
    async remoteCount() {
      const { rows } = await legacy.client.query(`SELECT count(*)::int AS n FROM ${table}`);
      return /** @type {number} */ (rows[0].n);
    },
    async remove() {
      await runMigration(sender, 'down', runOn(app.client));
      await runMigration(endpoint, 'down', runOn(legacy.client));
      await app.client.query(`DROP TABLE plain, ${table}`);
      await legacy.client.query(`DROP TABLE ${table}`);
    },
  };
}
