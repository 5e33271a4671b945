import { fieldOf } from '../spec/guards.js';
import { InvalidOptionError } from '../errors.js';
import { withSession, type DatabaseTarget, type Session } from '../run/session.js';
import { previewSql, type Fragment } from '../sql/index.js';
import { fragmentRows } from '../run/rows.js';

/**
 * The text form of a value depends on a few settings; both sides use the same ones for the
 * length of each transaction (SET LOCAL), so equal values give equal text on any server and
 * the caller's session is left as it was.
 */
const TEXT_FORM = `SELECT set_config('TimeZone', 'UTC', true), set_config('DateStyle', 'ISO, MDY', true),
  set_config('IntervalStyle', 'postgres', true), set_config('extra_float_digits', '1', true), set_config('bytea_output', 'hex', true)`;

/** Runs `work` in a transaction with the text-form settings; `read` ones see one snapshot and write nothing. */
export function inTransaction<T>(session: Session, mode: 'read' | 'write', work: () => Promise<T>): Promise<T> {
  return session.transaction(async () => {
    if (mode === 'read') {
      await session.execute('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY', []);
      // The planner cannot tell how few buckets there are and would sort every row to group
      // them; a hash table of at most 65536 buckets is much cheaper.
      await session.execute(`SELECT set_config('enable_sort', 'off', true)`, []);
    }
    await session.execute(TEXT_FORM, []);
    return work();
  });
}

/** The rows of a statement built here; `values` fill $1, $2... */
export async function rowsOf<T>(session: Session, statement: Fragment, values: readonly unknown[] = []): Promise<T[]> {
  return fragmentRows<T>(session.execute, statement, values);
}

/** How many rows a statement built here wrote. */
export async function rowCountOf(session: Session, statement: Fragment, values: readonly unknown[]): Promise<number> {
  // The database edge: node-postgres binds arrays as arrays.
  const count = fieldOf(await session.execute(previewSql(statement), values as readonly string[]), 'rowCount');
  return typeof count === 'number' ? count : 0;
}

/** One connection on each side, opened (and closed) here for URLs and pools. */
export function withBoth<T>(
  local: DatabaseTarget,
  remote: DatabaseTarget,
  work: (local: Session, remote: Session) => Promise<T>,
): Promise<T> {
  if (local === remote && typeof local === 'object' && !('totalCount' in local)) {
    throw new InvalidOptionError(
      'local and remote are the same pg Client; both sides are read at once, so give a Pool or a connection string for one of them.',
      'remote',
    );
  }
  return withSession(local, (localSession) =>
    withSession(remote, (remoteSession) => work(localSession, remoteSession)),
  );
}
