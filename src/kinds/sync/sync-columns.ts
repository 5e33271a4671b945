import { InvalidOptionError } from '../../errors.js';
import { checkArray, checkObject } from '../../spec/object.js';
import { checkIdentifier, isSqlExpression, type SqlExpression } from '../../sql/index.js';

/**
 * One column of the remote table and where its value comes from: the local column of the
 * same name (`'price'`), a renamed one (`{ remote: 'title', local: 'name' }`), or an
 * expression over the changed local row `src` (`{ remote: 'is_approved', expression: sqlExpression("src.status = 'approved'") }`).
 */
export type SyncColumnOptions =
  | string
  | {
      /** The remote column. */
      readonly remote: string;
      /** The local column its value comes from (default the same name); not with `expression`. */
      readonly local?: string;
      /** An expression over the changed local row `src`, made with sqlExpression(); not with `local`. */
      readonly expression?: SqlExpression;
    };

/** Where a synced column's value comes from: a local column or an expression. */
export type SyncColumnSource =
  | {
      /** The local column. */
      readonly column: string;
    }
  | {
      /** An expression over the changed local row `src`. */
      readonly expression: SqlExpression;
    };

/** A checked synced column. */
export interface SyncColumn {
  /** The remote column. */
  readonly remote: string;
  /** Where its value comes from. */
  readonly source: SyncColumnSource;
}

/** Checks the column list and the key: remote names once each, every key column among them. */
export function checkSyncColumns(
  columnsValue: unknown,
  keyValue: unknown,
  path: string,
): { columns: readonly SyncColumn[]; key: readonly string[] } {
  const entries = checkArray(columnsValue, `${path}.columns`);
  if (entries.length === 0)
    throw new InvalidOptionError(`${path} needs at least one column in columns.`, `${path}.columns`);
  const columns = entries.map((entry, index): SyncColumn => {
    if (typeof entry === 'string') {
      const name = checkIdentifier(entry, 'sync column');
      return Object.freeze({ remote: name, source: Object.freeze({ column: name }) });
    }
    const spec = checkObject(entry, `${path} column ${index + 1}`, ['remote', 'local', 'expression']);
    const remote = checkIdentifier(spec.remote, 'remote column');
    if (spec.local !== undefined && spec.expression !== undefined) {
      throw new InvalidOptionError(
        `${path} column "${remote}" takes local or expression, not both.`,
        `${path}.columns`,
      );
    }
    if (spec.expression !== undefined && !isSqlExpression(spec.expression)) {
      throw new InvalidOptionError(
        `${path} column "${remote}": expression must be made with sqlExpression("...").`,
        `${path}.columns`,
      );
    }
    const source = isSqlExpression(spec.expression)
      ? { expression: spec.expression }
      : { column: spec.local === undefined ? remote : checkIdentifier(spec.local, 'local column') };
    return Object.freeze({ remote, source: Object.freeze(source) });
  });
  const seen = new Set<string>();
  for (const column of columns) {
    if (seen.has(column.remote))
      throw new InvalidOptionError(`${path} names remote column "${column.remote}" twice.`, `${path}.columns`);
    seen.add(column.remote);
  }
  const key = checkArray(keyValue, `${path}.key`).map((name) => checkIdentifier(name, 'key column'));
  if (key.length === 0)
    throw new InvalidOptionError(
      `${path} needs a key: the remote columns that identify a row, e.g. ['id'].`,
      `${path}.key`,
    );
  for (const name of key) {
    if (!seen.has(name)) {
      throw new InvalidOptionError(
        `${path}: key column "${name}" is not among the columns; add it to columns.`,
        `${path}.key`,
      );
    }
  }
  if (new Set(key).size !== key.length)
    throw new InvalidOptionError(`${path} names a key column twice.`, `${path}.key`);
  return { columns: Object.freeze(columns), key: Object.freeze(key) };
}
