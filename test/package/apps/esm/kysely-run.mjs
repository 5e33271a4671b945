// Kysely's Migrator with its FileMigrationProvider over a kyselyMigration file: up, then down.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';

// Kysely 0.29 moved the Migrator to kysely/migration; 0.28 has it in kysely.
const migration = await import('kysely/migration').catch(() => import('kysely'));
const db = new Kysely({
  dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: process.env.DATABASE_URL }) }),
});
const provider = new migration.FileMigrationProvider({ fs, path, migrationFolder: path.resolve('kysely-migrations') });
const migrator = new migration.Migrator({ db, provider });
const direction = process.argv[2];
const { error, results } = direction === 'down' ? await migrator.migrateDown() : await migrator.migrateToLatest();
await db.destroy();
if (error) throw error;
console.log(
  `KYSELY ${direction} ${JSON.stringify(results.map((result) => `${result.migrationName}:${result.status}`))}`,
);
