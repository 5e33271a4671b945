import { quoteIdentifier, type SqlExecutor } from 'pg-sync-link';

// The Umzug storage's log table: the only place that knows its SQL. The table is named in the
// connection's search_path (the storage's documented behaviour); its default is pg_catalog's now().

/** Reads and writes one Umzug log table through an executor. */
export interface UmzugLog {
  /** Creates the table when it is not there. */
  create(execute: SqlExecutor): Promise<void>;
  /** The names of the migrations run, in the order they ran. */
  executed(execute: SqlExecutor): Promise<string[]>;
  /** Records a migration as run. */
  log(execute: SqlExecutor, name: string): Promise<void>;
  /** Forgets a migration that was reverted. */
  unlog(execute: SqlExecutor, name: string): Promise<void>;
}

function namesOf(result: unknown): string[] {
  // node-postgres, Knex (raw) and Kysely all answer with { rows: [...] }.
  if (typeof result !== 'object' || result === null || !('rows' in result) || !Array.isArray(result.rows)) return [];
  return result.rows.map((row: { name: string }) => row.name);
}

/** The log kept in `tableName`. */
export function umzugLog(tableName: string): UmzugLog {
  const table = quoteIdentifier(tableName);
  return {
    async create(execute) {
      await execute(
        `CREATE TABLE IF NOT EXISTS ${table} (name text PRIMARY KEY, run_at timestamptz NOT NULL DEFAULT pg_catalog.now())`,
        [],
      );
    },
    async executed(execute) {
      return namesOf(await execute(`SELECT name FROM ${table} ORDER BY run_at, name`, []));
    },
    async log(execute, name) {
      await execute(`INSERT INTO ${table} (name) VALUES ($1)`, [name]);
    },
    async unlog(execute, name) {
      await execute(`DELETE FROM ${table} WHERE name = $1`, [name]);
    },
  };
}
