import { InvalidOptionError } from '../errors.js';
import type { SqlExecutor } from './execute.js';
import { loadOptionalPeer } from '../optional-peer.js';
import { noticesOf } from './notices.js';

/** The part of a node-postgres Client (or PoolClient) this library uses. */
export interface PgClientLike {
  /** Runs one statement, with `$1`, `$2`... bound to `values`. */
  query(sql: string, values?: unknown[]): Promise<unknown>;
}

/** The part of a node-postgres Pool this library uses. */
export interface PgPoolLike {
  /** Checks out a client; the library releases it when done. */
  connect(): Promise<
    PgClientLike & {
      /** Returns the client to the pool (with an error: discards it). */
      release(error?: Error | boolean): void;
    }
  >;
}

/** Where to run: a connected pg Client, a pg Pool, or a connection string. */
export type DatabaseTarget = string | PgClientLike | PgPoolLike;

/** One connection: run statements, or a block of them in a transaction. */
export interface Session {
  /** Runs one statement on this connection. */
  readonly execute: SqlExecutor;
  /** Runs `work` in a transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: () => Promise<T>): Promise<T>;
}

function isPool(value: unknown): value is PgPoolLike {
  // A Pool has connect() and no per-connection state; a Client has connect() too, but also
  // processID / connection. Only a Pool has totalCount.
  return (
    typeof value === 'object' &&
    value !== null &&
    'totalCount' in value &&
    'connect' in value &&
    typeof value.connect === 'function'
  );
}

function sessionOf(client: PgClientLike): Session {
  const notices = noticesOf(client);
  const execute: SqlExecutor = Object.assign(
    (sql: string, values: readonly string[]) => client.query(sql, [...values]),
    notices ? { notices } : {},
  );
  return {
    execute,
    async transaction(work) {
      await client.query('BEGIN');
      try {
        const result = await work();
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    },
  };
}

/**
 * A new, unconnected node-postgres Client (pg is an optional peer dependency, loaded here only)
 * for a connection string or a Client config; `purpose` says what needs pg in the error when pg
 * is missing or fails to load (an OptionalPeerError, the import error as its cause).
 */
export async function newPgClient(
  connection: string | Record<string, unknown>,
  purpose: string,
): Promise<import('pg').Client> {
  const pg = await loadOptionalPeer(
    'pg',
    () => import('pg'),
    purpose,
    'npm install pg (or pass a connected pg Client or Pool)',
  );
  const Client = pg.default?.Client ?? pg.Client;
  return new Client(typeof connection === 'string' ? { connectionString: connection } : connection);
}

/** Runs `work` on one connection of `target`, opened and closed here when it is a URL or a Pool. */
export async function withSession<T>(target: DatabaseTarget, work: (session: Session) => Promise<T>): Promise<T> {
  if (typeof target === 'string') {
    const client = await newPgClient(target, 'A connection string');
    await client.connect();
    try {
      return await work(sessionOf(client));
    } finally {
      await client.end();
    }
  }
  if (isPool(target)) {
    const client = await target.connect();
    try {
      return await work(sessionOf(client));
    } finally {
      client.release();
    }
  }
  if (typeof target === 'object' && target !== null && 'query' in target && typeof target.query === 'function') {
    return work(sessionOf(target));
  }
  throw new InvalidOptionError('db must be a pg Client, a pg Pool or a postgres:// connection string.', 'db');
}
