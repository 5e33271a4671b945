import type { CompiledQuery } from 'kysely';
import {
  InvalidOptionError,
  loadOptionalPeer,
  withSession,
  type Migration,
  type PgClientLike,
  type PgPoolLike,
  type SqlExecutor,
} from 'pg-sync-link';

// What the Knex, Kysely and Umzug adapters share: the id check of a set, the Kysely executor,
// and how each kind of connection runs work in a transaction or not. Type-only imports of the
// runners, so an adapter loads only the runner it is used with.

/**
 * Runs `work` with an executor on one connection, in one transaction when `transactional`
 * (committed when work resolves, rolled back when it throws), otherwise statement by statement.
 */
export type Runner = <T>(work: (execute: SqlExecutor) => Promise<T>, transactional: boolean) => Promise<T>;

/** Refuses a set in which two migrations have one id: a runner records each migration under its id. */
export function checkUniqueIds(migrations: readonly Migration[]): void {
  const ids = new Set<string>();
  for (const migration of migrations) {
    if (ids.has(migration.id))
      throw new InvalidOptionError(`Two migrations have the id "${migration.id}".`, 'migrations');
    ids.add(migration.id);
  }
}

/** The part of a Kysely instance or transaction the executor uses. */
export interface KyselyQueryRunner {
  executeQuery(query: CompiledQuery): Promise<unknown>;
}

/** The part of a Kysely instance the runner uses: the executor's, and opening a transaction. */
export interface KyselyTransactionRunner extends KyselyQueryRunner {
  transaction(): { execute<T>(work: (trx: KyselyQueryRunner) => Promise<T>): Promise<T> };
}

/**
 * Runs statements through a Kysely instance or transaction, as raw compiled queries. Kysely is
 * loaded when the first statement runs, so an Umzug user without Kysely never loads it.
 */
export function kyselyExecutor(db: KyselyQueryRunner): SqlExecutor {
  return async (sql, values) => {
    const { CompiledQuery } = await loadOptionalPeer(
      'kysely',
      () => import('kysely'),
      'A migration run through Kysely',
    );
    return db.executeQuery(CompiledQuery.raw(sql, [...values]));
  };
}

/** A Runner over a Kysely instance: its own transaction when asked for one. */
export function kyselyRunner(db: KyselyTransactionRunner): Runner {
  return (work, transactional) =>
    transactional ? db.transaction().execute((trx) => work(kyselyExecutor(trx))) : work(kyselyExecutor(db));
}

/** A Runner over a pg Client or Pool, through the library's own session. */
export function pgRunner(target: PgClientLike | PgPoolLike): Runner {
  return (work, transactional) =>
    withSession(target, (session) =>
      transactional ? session.transaction(() => work(session.execute)) : work(session.execute),
    );
}
