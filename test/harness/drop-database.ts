import { quoteIdentifier } from '../../src/sql/index.js';
import { withClient, type PgServer } from './server.js';

/** One test's database on one server. */
export interface TestDatabase {
  readonly server: PgServer;
  readonly database: string;
}

/**
 * Drops tests' databases on servers that other test files share, whatever the tests left
 * behind: subscriptions first, on every server (kept apart from their remote slots, which may
 * be gone), then the replication slots made in each database (their walsenders ended first)
 * and open sessions. Slots and subscriptions are what would otherwise outlive a database and
 * hold the server's few replication workers, slots and its WAL.
 */
export async function dropTestDatabases(databases: readonly TestDatabase[]): Promise<void> {
  const existing: TestDatabase[] = [];
  for (const entry of databases) {
    const found = await withClient(entry.server, 'postgres', (client) =>
      client.query('SELECT 1 FROM pg_database WHERE datname = $1', [entry.database]),
    );
    if (found.rowCount) existing.push(entry);
  }
  for (const entry of existing) await dropSubscriptions(entry);
  for (const entry of existing) await dropSlotsAndDatabase(entry);
}

async function dropSubscriptions({ server, database }: TestDatabase): Promise<void> {
  await withClient(server, database, async (client) => {
    const { rows } = await client.query<{ subname: string }>(
      'SELECT subname FROM pg_subscription WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())',
    );
    for (const { subname } of rows) {
      const name = quoteIdentifier(subname);
      await client.query(`ALTER SUBSCRIPTION ${name} DISABLE`);
      await client.query(`ALTER SUBSCRIPTION ${name} SET (slot_name = NONE)`);
      await client.query(`DROP SUBSCRIPTION ${name}`);
    }
  });
}

async function dropSlotsAndDatabase({ server, database }: TestDatabase): Promise<void> {
  await withClient(server, 'postgres', async (client) => {
    // A slot in use cannot be dropped: end its walsender, then wait (bounded) for it to let go.
    for (let attempt = 0; ; attempt += 1) {
      await client.query(
        'SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE database = $1 AND active_pid IS NOT NULL',
        [database],
      );
      const { rows } = await client.query<{ slot_name: string; active: boolean }>(
        'SELECT slot_name, active FROM pg_replication_slots WHERE database = $1',
        [database],
      );
      for (const slot of rows.filter((row) => !row.active))
        await client.query('SELECT pg_drop_replication_slot($1)', [slot.slot_name]);
      if (rows.every((row) => !row.active)) break;
      if (attempt === 50)
        throw new Error(
          `Replication slots of ${database} on ${server.label} stay in use: ${rows.map((row) => row.slot_name).join(', ')}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(database)} WITH (FORCE)`);
  });
}
