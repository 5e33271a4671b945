// Umzug over a pg Pool: up, then down; then a migration that fails on a missing variable, whose
// error reaches us wrapped in Umzug's MigrationError.
import pg from 'pg';
import { Umzug } from 'umzug';
import { env, fdwLink, isSyncLinkError, planMigrations, syncLinkErrorOf } from 'pg-sync-link';
import { umzugMigrations, umzugStorage } from 'pg-sync-link/umzug';

const link = (password) =>
  fdwLink({
    name: 'legacy',
    host: env('LEGACY_HOST'),
    port: env('LEGACY_PORT'),
    dbname: env('LEGACY_DB'),
    userMappings: [{ user: env('LEGACY_USER'), password: env(password) }],
  });
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
const umzugOf = (migrations) =>
  new Umzug({ migrations: umzugMigrations(migrations), context: pool, storage: umzugStorage(), logger: undefined });

const umzug = umzugOf(planMigrations('app', link('LEGACY_PASSWORD')));
const applied = await umzug.up();
const { rows } = await pool.query('SELECT count(*)::int AS n FROM pg_foreign_server WHERE srvname = $1', ['legacy']);
const reverted = await umzug.down({ to: 0 });
let wrapped;
try {
  await umzugOf(planMigrations('broken', link('NO_SUCH_VARIABLE_FOR_THE_SUITE'))).up();
} catch (error) {
  wrapped = {
    name: error.constructor.name,
    isSyncLinkError: isSyncLinkError(error),
    code: syncLinkErrorOf(error)?.code,
  };
}
await pool.end();
console.log(
  `UMZUG ${JSON.stringify({ applied: applied.map((m) => m.name), serversWhileUp: rows[0].n, reverted: reverted.map((m) => m.name), wrapped })}`,
);
