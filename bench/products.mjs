// The products table every write benchmark uses, and bulk rows for it (the seed stories' shape).
import { quoteIdentifier } from 'pg-sync-link';

export const PRODUCT_COLUMNS = ['id', 'name', 'description', 'price', 'created_at', 'updated_at'];

/** @param {string} name */
export const productTable = (name) => `CREATE TABLE ${name} (
  id bigint PRIMARY KEY, name varchar(255) NOT NULL, description text, price integer,
  created_at timestamp without time zone NOT NULL, updated_at timestamp without time zone NOT NULL)`;

/** An INSERT ... SELECT of `count` rows with ids from `from`. */
export const productRows = (/** @type {string} */ table, /** @type {number} */ count, from = 1) =>
  `INSERT INTO ${table} SELECT g, 'product ' || g, repeat('x', 60), g % 5000, timestamp '2020-01-01' + g * interval '1 second', timestamp '2024-01-01' FROM generate_series(${from}, ${from + count - 1}) g`;

/**
 * Empties a bench table between runs without carrying it to the other side. pg-sync-link
 * refuses TRUNCATE of a synced table; this is the README's way to empty one on purpose: its
 * TRUNCATE guards off, TRUNCATE, guards back on (always firing), in one transaction.
 * @param {import('pg').Client} client
 * @param {string} table
 */
export async function emptyTable(client, table) {
  await client.query('BEGIN');
  try {
    const { rows } = await client.query(
      'SELECT tgname FROM pg_catalog.pg_trigger WHERE tgrelid = $1::regclass AND NOT tgisinternal AND (tgtype & 32) <> 0',
      [table],
    );
    const guards = rows.map((row) => quoteIdentifier(row.tgname));
    for (const guard of guards) await client.query(`ALTER TABLE ${table} DISABLE TRIGGER ${guard}`);
    await client.query(`TRUNCATE ${table}`);
    for (const guard of guards) await client.query(`ALTER TABLE ${table} ENABLE ALWAYS TRIGGER ${guard}`);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
}
