// Umzug over a pg Pool, with the migration log in the same database; our error found through Umzug's wrapper.
import type pg from 'pg';
import { Umzug } from 'umzug';
import { env, fdwLink, isSyncLinkError, planMigrations, syncLinkErrorOf, type SyncLinkErrorCode } from 'pg-sync-link';
import { umzugMigrationFrom, umzugMigrations, umzugStorage } from 'pg-sync-link/umzug';

const link = fdwLink({
  name: 'legacy',
  host: env('LEGACY_HOST'),
  port: 5432,
  dbname: 'legacy',
  userMappings: [{ user: 'sync', password: env('LEGACY_PASSWORD') }],
});

export function umzugFor(pool: pg.Pool): Umzug<pg.Pool> {
  return new Umzug({
    migrations: umzugMigrations(planMigrations('app', link)),
    context: pool,
    storage: umzugStorage(),
    logger: undefined,
  });
}

export const oneMigration = umzugMigrationFrom<pg.Pool>(planMigrations('app', link)[0]!);

export function codeOf(error: unknown): SyncLinkErrorCode | undefined {
  return isSyncLinkError(error) ? syncLinkErrorOf(error)?.code : undefined;
}
