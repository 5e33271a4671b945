import type pg from 'pg';
import { runMigration, type Migration } from '../../src/index.js';

/** Runs one direction of a migration in a transaction on `client`, recording what was sent. */
export async function applyInTransaction(
  client: pg.Client,
  migration: Migration,
  direction: 'up' | 'down',
  sent: string[] = [],
): Promise<void> {
  await client.query('BEGIN');
  try {
    await runMigration(migration, direction, async (sql, values) => {
      sent.push(sql);
      await client.query(sql, [...values]);
    });
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
}
