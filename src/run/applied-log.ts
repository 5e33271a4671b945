import type { SqlExecutor } from './execute.js';
import { rows } from './rows.js';

// What applySyncLink applied, kept in the database itself: the id of each step, a fingerprint
// of its SQL, and its down statements, so removal undoes exactly what ran even if the spec in
// the code has changed since. The schema exists only while something is applied. This module
// is the only one that knows the log's SQL.

const LOCK_KEY = '7310482919';

/** One step recorded by applySyncLink. */
export interface AppliedStep {
  /** The step's id (the migration id). */
  readonly id: string;
  /** A hash of its up SQL, to tell a changed step from an applied one. */
  readonly fingerprint: string;
  /** Its down statements as they were rendered, or null when they held a deferred value. */
  readonly down: readonly string[] | null;
}

/** Takes the log's lock until the transaction ends: one apply or remove at a time. */
export async function lockLogForTransaction(execute: SqlExecutor): Promise<void> {
  await execute(`SELECT pg_catalog.pg_advisory_xact_lock(${LOCK_KEY})`, []);
}

/** Takes the log's lock for the session, for steps that cannot share one transaction. */
export async function lockLogForSession(execute: SqlExecutor): Promise<void> {
  await execute(`SELECT pg_catalog.pg_advisory_lock(${LOCK_KEY})`, []);
}

/** Releases the session lock of lockLogForSession(). */
export async function unlockLogForSession(execute: SqlExecutor): Promise<void> {
  await execute(`SELECT pg_catalog.pg_advisory_unlock(${LOCK_KEY})`, []);
}

/** Creates the log's schema and table when they are not there. */
export async function createAppliedLog(execute: SqlExecutor): Promise<void> {
  await execute('CREATE SCHEMA IF NOT EXISTS sync_link', []);
  await execute(
    `CREATE TABLE IF NOT EXISTS sync_link.applied (
      id text PRIMARY KEY,
      fingerprint text NOT NULL,
      down text[],
      applied_at timestamptz NOT NULL DEFAULT pg_catalog.now())`,
    [],
  );
}

/** True when the log's table exists (nothing was applied, or everything removed, otherwise). */
export async function appliedLogExists(execute: SqlExecutor): Promise<boolean> {
  const [state] = await rows<{ present: boolean }>(
    execute,
    `SELECT pg_catalog.to_regclass('sync_link.applied') IS NOT NULL AS present`,
  );
  return state?.present === true;
}

/** The steps among `ids` that are recorded, by id. */
export async function appliedSteps(execute: SqlExecutor, ids: readonly string[]): Promise<Map<string, AppliedStep>> {
  const found = await rows<AppliedStep>(
    execute,
    'SELECT id, fingerprint, down FROM sync_link.applied WHERE id = ANY ($1::text[])',
    [ids],
  );
  return new Map(found.map((step) => [step.id, step]));
}

/** Records a step as applied. */
export async function recordApplied(execute: SqlExecutor, step: AppliedStep): Promise<void> {
  await rows(execute, 'INSERT INTO sync_link.applied (id, fingerprint, down) VALUES ($1, $2, $3)', [
    step.id,
    step.fingerprint,
    step.down,
  ]);
}

/** Forgets a step that was removed. */
export async function forgetApplied(execute: SqlExecutor, id: string): Promise<void> {
  await execute('DELETE FROM sync_link.applied WHERE id = $1', [id]);
}

/** Drops the log's table and schema once no step is recorded in it. */
export async function dropAppliedLogIfEmpty(execute: SqlExecutor): Promise<void> {
  await execute(
    `DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM sync_link.applied) THEN
      DROP TABLE sync_link.applied;
      DROP SCHEMA sync_link;
    END IF;
  END $$`,
    [],
  );
}
