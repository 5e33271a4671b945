import { isFullyRendered, previewSql, type Fragment } from '../sql/index.js';
import type { SqlExecutor } from './execute.js';

/**
 * The rows of one statement, typed by the caller: `rows<{ id: string }>(execute, text, [id])`.
 * `values` fill $1, $2...; node-postgres binds arrays and numbers as such.
 */
export async function rows<T>(execute: SqlExecutor, text: string, values: readonly unknown[] = []): Promise<T[]> {
  // The database edge: node-postgres binds any value and answers { rows }; the caller names the row type.
  return ((await execute(text, values as readonly string[])) as { rows: T[] }).rows;
}

/** The rows of a statement built here with sql`...`; it may hold no deferred value (a secret). */
export async function fragmentRows<T>(
  execute: SqlExecutor,
  statement: Fragment,
  values: readonly unknown[] = [],
): Promise<T[]> {
  if (!isFullyRendered(statement)) throw new TypeError('A statement read for its rows cannot hold a deferred value.');
  return rows<T>(execute, previewSql(statement), values);
}
