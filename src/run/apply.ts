import { createHash } from 'node:crypto';
import { AlreadyAppliedDifferentlyError, InvalidOptionError } from '../errors.js';
import { runMigration, type RunOptions } from './execute.js';
import { isMigration, type Migration, type Part } from '../model/migration.js';
import { planMigrations } from '../model/plan.js';
import { withSession, type DatabaseTarget, type Session } from './session.js';
import { isFullyRendered, previewSql, renderedEarlier } from '../sql/index.js';
import {
  appliedLogExists,
  appliedSteps,
  createAppliedLog,
  dropAppliedLogIfEmpty,
  forgetApplied,
  lockLogForSession,
  lockLogForTransaction,
  recordApplied,
  unlockLogForSession,
} from './applied-log.js';

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
  const parts: readonly unknown[] = Array.isArray(link) ? link : [link];
  if (parts.length > 0 && parts.every(isMigration)) return parts;
  if (parts.some(isMigration))
    throw new InvalidOptionError('Pass either migrations or links and nodes, not both.', 'link');
  // No migration among them: links and nodes, as Link says.
  return planMigrations(options.prefix ?? 'sync-link', ...(parts as Part[]));
}

function fingerprint(migration: Migration): string {
  return createHash('sha256').update(migration.up.map(previewSql).join(';\n')).digest('hex');
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
        await lockLogForTransaction(session.execute);
        return work(session, (_transactional, inner) => inner());
      });
    }
    await lockLogForSession(session.execute);
    try {
      return await work(session, (transactional, inner) => (transactional ? session.transaction(inner) : inner()));
    } finally {
      await unlockLogForSession(session.execute);
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
      await createAppliedLog(session.execute);
      return appliedSteps(
        session.execute,
        migrations.map((migration) => migration.id),
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
          await recordApplied(session.execute, { id: migration.id, fingerprint: print, down });
        });
        applied.push(migration.id);
      }
    } catch (error) {
      // Outside one transaction, the bookkeeping was committed on its own: leave none behind
      // if nothing got applied (in one transaction, the rollback does this, and this fails).
      await step(true, () => dropAppliedLogIfEmpty(session.execute)).catch(() => undefined);
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
    if (!(await appliedLogExists(session.execute))) return { removed: [] };
    const done = await appliedSteps(
      session.execute,
      migrations.map((migration) => migration.id),
    );
    const removed: string[] = [];
    for (const migration of migrations.toReversed()) {
      const row = done.get(migration.id);
      if (!row) continue;
      const down = row.down === null ? migration.down : row.down.map(renderedEarlier);
      await step(migration.transactional, async () => {
        await runMigration({ ...migration, down }, 'down', session.execute, options);
        await forgetApplied(session.execute, migration.id);
      });
      removed.push(migration.id);
    }
    await step(true, () => dropAppliedLogIfEmpty(session.execute));
    return { removed };
  });
}
