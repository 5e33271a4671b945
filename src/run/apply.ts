import { createHash } from 'node:crypto';
import { AlreadyAppliedDifferentlyError, InvalidOptionError } from '../errors.js';
import { runMigration, type RunOptions } from './execute.js';
import { isMigration, type Migration, type Part } from '../model/migration.js';
import { planMigrations } from '../model/plan.js';
import { withSession, type DatabaseTarget, type Session } from './session.js';
import { isFullyRendered, previewSql, renderedEarlier } from '../sql/index.js';
import { rows } from './rows.js';

// What applySyncLink applied, kept in the database itself: the id of each step, a fingerprint
// of its SQL, and its down statements, so removal undoes exactly what ran even if the spec in
// the code has changed since. The schema exists only while something is applied.
const BOOKKEEPING = {
  lock: 'SELECT pg_catalog.pg_advisory_xact_lock(7310482919)',
  sessionLock: 'SELECT pg_catalog.pg_advisory_lock(7310482919)',
  sessionUnlock: 'SELECT pg_catalog.pg_advisory_unlock(7310482919)',
  exists: `SELECT pg_catalog.to_regclass('sync_link.applied') IS NOT NULL AS present`,
  create: [
    'CREATE SCHEMA IF NOT EXISTS sync_link',
    `CREATE TABLE IF NOT EXISTS sync_link.applied (
      id text PRIMARY KEY,
      fingerprint text NOT NULL,
      down text[],
      applied_at timestamptz NOT NULL DEFAULT pg_catalog.now())`,
  ],
  select: 'SELECT id, fingerprint, down FROM sync_link.applied WHERE id = ANY ($1::text[])',
  insert: 'INSERT INTO sync_link.applied (id, fingerprint, down) VALUES ($1, $2, $3)',
  delete: 'DELETE FROM sync_link.applied WHERE id = $1',
  dropIfEmpty: `DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM sync_link.applied) THEN
      DROP TABLE sync_link.applied;
      DROP SCHEMA sync_link;
    END IF;
  END $$`,
} as const;

/** What applySyncLink() and removeSyncLink() take besides the database and the link. */
export interface ApplyOptions extends RunOptions {
  /** Prefix of the step ids when parts are given (see planMigrations); default 'sync-link'. */
  readonly prefix?: string;
}

/** What applySyncLink() did: the steps it ran and those it found applied already. */
export interface ApplyResult {
  /** Steps run now. */
  readonly applied: readonly string[];
  /** Steps found applied already, with the same SQL. */
  readonly skipped: readonly string[];
}

type Link = Part | readonly Part[] | readonly Migration[];

function migrationsOf(link: Link, options: ApplyOptions): readonly Migration[] {
  const parts = Array.isArray(link) ? (link as readonly unknown[]) : [link];
  if (parts.length > 0 && parts.every(isMigration)) return parts as readonly Migration[];
  if (parts.some(isMigration))
    throw new InvalidOptionError('Pass either migrations or links and nodes, not both.', 'link');
  return planMigrations(options.prefix ?? 'sync-link', ...(parts as Part[]));
}

function fingerprint(migration: Migration): string {
  return createHash('sha256').update(migration.up.map(previewSql).join(';\n')).digest('hex');
}

interface AppliedRow {
  id: string;
  fingerprint: string;
  down: string[] | null;
}

function appliedRows(session: Session, sql: string, values: readonly unknown[]): Promise<AppliedRow[]> {
  return rows<AppliedRow>(session.execute, sql, values);
}

/** Runs `work` in a transaction, or outside any when `transactional` is false. */
type Step = <T>(transactional: boolean, work: () => Promise<T>) => Promise<T>;

/**
 * Runs `work` under the bookkeeping lock. Steps that can all run in a transaction share one,
 * so applying is all or nothing. When a step cannot (CREATE/DROP SUBSCRIPTION), each step
 * runs on its own, in its own transaction where it can, under a session lock, and what was
 * done before a failure stays recorded, so removeSyncLink can undo it.
 */
function locked<T>(
  db: DatabaseTarget,
  migrations: readonly Migration[],
  work: (session: Session, step: Step) => Promise<T>,
): Promise<T> {
  return withSession(db, async (session) => {
    if (migrations.every((migration) => migration.transactional)) {
      return session.transaction(async () => {
        await session.execute(BOOKKEEPING.lock, []);
        return work(session, (_transactional, inner) => inner());
      });
    }
    await session.execute(BOOKKEEPING.sessionLock, []);
    try {
      return await work(session, (transactional, inner) => (transactional ? session.transaction(inner) : inner()));
    } finally {
      await session.execute(BOOKKEEPING.sessionUnlock, []);
    }
  });
}

/**
 * Applies a link (or nodes, or migrations) to a database, skipping steps already applied:
 * applying twice is applying once. For test setup and scripts that do not use a migration
 * runner. `db` is a pg Client, Pool or connection string.
 */
export async function applySyncLink(db: DatabaseTarget, link: Link, options: ApplyOptions = {}): Promise<ApplyResult> {
  const migrations = migrationsOf(link, options);
  return locked(db, migrations, async (session, step) => {
    const done = await step(true, async () => {
      for (const statement of BOOKKEEPING.create) await session.execute(statement, []);
      return new Map(
        (await appliedRows(session, BOOKKEEPING.select, [migrations.map((migration) => migration.id)])).map((row) => [
          row.id,
          row,
        ]),
      );
    });
    const applied: string[] = [];
    const skipped: string[] = [];
    try {
      for (const migration of migrations) {
        const print = fingerprint(migration);
        const previous = done.get(migration.id);
        if (previous) {
          if (previous.fingerprint !== print) throw new AlreadyAppliedDifferentlyError(migration.id);
          skipped.push(migration.id);
          continue;
        }
        await step(migration.transactional, async () => {
          await runMigration(migration, 'up', session.execute, options);
          const down = migration.down.every(isFullyRendered) ? migration.down.map(previewSql) : null;
          await session.execute(BOOKKEEPING.insert, [migration.id, print, down] as unknown as string[]);
        });
        applied.push(migration.id);
      }
    } catch (error) {
      // Outside one transaction, the bookkeeping was committed on its own: leave none behind
      // if nothing got applied (in one transaction, the rollback does this, and this fails).
      await step(true, () => session.execute(BOOKKEEPING.dropIfEmpty, [])).catch(() => undefined);
      throw error;
    }
    return { applied, skipped };
  });
}

/**
 * Removes what applySyncLink applied for this link, newest step first, with the down
 * statements recorded when it was applied. Removing what is not there is not an error.
 */
export async function removeSyncLink(
  db: DatabaseTarget,
  link: Link,
  options: ApplyOptions = {},
): Promise<{
  /** The steps removed now, newest first. */
  readonly removed: readonly string[];
}> {
  const migrations = migrationsOf(link, options);
  return locked(db, migrations, async (session, step) => {
    const [state] = (await appliedRows(session, BOOKKEEPING.exists, [])) as unknown as { present: boolean }[];
    if (!state?.present) return { removed: [] };
    const done = new Map(
      (await appliedRows(session, BOOKKEEPING.select, [migrations.map((migration) => migration.id)])).map((row) => [
        row.id,
        row,
      ]),
    );
    const removed: string[] = [];
    for (const migration of migrations.toReversed()) {
      const row = done.get(migration.id);
      if (!row) continue;
      const down = row.down === null ? migration.down : row.down.map(renderedEarlier);
      await step(migration.transactional, async () => {
        await runMigration({ ...migration, down }, 'down', session.execute, options);
        await session.execute(BOOKKEEPING.delete, [migration.id]);
      });
      removed.push(migration.id);
    }
    await step(true, () => session.execute(BOOKKEEPING.dropIfEmpty, []));
    return { removed };
  });
}
