import { checkObject } from '../spec/object.js';
import { checkSyncColumns, type SyncColumn, type SyncColumnOptions } from '../kinds/sync/sync-columns.js';
import { withSchema } from '../kinds/sync/sync-names.js';
import type { LocalSyncNode } from '../kinds/sync/sync-local.js';
import type { SyncTriggerNode } from '../kinds/sync/sync-trigger.js';
import { checkIdentifier, checkQualifiedName, type QualifiedName, type SqlExpression } from '../sql/index.js';
import { checkRowFilter } from '../kinds/sync/sync-filter.js';

/**
 * Two tables to compare, described the way a sync describes them: `table` on the local side,
 * `remote` on the other, and `columns` named as on the remote side, each taken from a local
 * column of the same name, a renamed one (`{ remote, local }`) or an expression over the local
 * row `src` (`{ remote, expression: sqlExpression(...) }`).
 */
export interface TablePairOptions {
  /** The local table; schema default public. */
  readonly table: string | QualifiedName;
  /** The other side's table; public and the local name by default. */
  readonly remote?: {
    /** The remote schema (default public). */
    readonly schema?: string;
    /** The remote table's name (default the local name). */
    readonly name?: string;
  };
  /** Remote key columns: how a row is found on both sides. */
  readonly key: readonly string[];
  /** Remote columns compared, and where each one's value comes from locally (as in syncTrigger()). */
  readonly columns: readonly SyncColumnOptions[];
  /** Compares only the local rows that match this condition over the row `src`, as a sync's `where`; default every row. */
  readonly where?: SqlExpression;
}

/** A checked, frozen pair of tables: both names schema-qualified, columns as in a sync. */
export interface TablePair {
  /** The local table, schema given. */
  readonly local: QualifiedName & {
    /** The schema, always given. */
    readonly schema: string;
  };
  /** The remote table, schema given. */
  readonly remote: QualifiedName & {
    /** The schema, always given. */
    readonly schema: string;
  };
  /** Remote key columns. */
  readonly key: readonly string[];
  /** Remote columns and where their values come from locally. */
  readonly columns: readonly SyncColumn[];
  /** For messages: `public.products -> public.products`. */
  readonly label: string;
  /** Only local rows matching this condition over `src` are compared; undefined compares every row. */
  readonly where: SqlExpression | undefined;
}

/** A sync to another database, or to another table of the same one (compare it with both sides on that database). */
export type SyncNodeToCompare = SyncTriggerNode | LocalSyncNode;

/** Accepts a syncTrigger(...) node (checked when it was built) or a plain description. */
export function tablePair(input: SyncNodeToCompare | TablePairOptions): TablePair {
  // A plain description has no kind; checkObject refuses what is not an object at all.
  if (typeof input === 'object' && input !== null && 'kind' in input) {
    if (input.kind === 'sync-trigger') return pair(input.table, input.remote, input.key, input.columns, input.where);
    if (input.kind === 'local-sync') return pair(input.table, input.target, input.key, input.columns, input.where);
  }
  const spec = checkObject(input, 'tables', ['table', 'remote', 'key', 'columns', 'where']);
  const local = withSchema(checkQualifiedName(spec.table, 'compared table'));
  const path = `comparison of "${local.schema}"."${local.name}"`;
  const remoteSpec = spec.remote === undefined ? {} : checkObject(spec.remote, `${path}.remote`, ['schema', 'name']);
  const remote = {
    schema: remoteSpec.schema === undefined ? 'public' : checkIdentifier(remoteSpec.schema, 'remote schema'),
    name: remoteSpec.name === undefined ? local.name : checkIdentifier(remoteSpec.name, 'remote table'),
  };
  const { columns, key } = checkSyncColumns(spec.columns, spec.key ?? [], path);
  return pair(local, remote, key, columns, checkRowFilter(spec.where, path));
}

function pair(
  local: QualifiedName,
  remote: { readonly schema: string; readonly name: string },
  key: readonly string[],
  columns: readonly SyncColumn[],
  where: SqlExpression | undefined,
): TablePair {
  const localName = withSchema(local);
  const remoteName = Object.freeze({ schema: remote.schema, name: remote.name });
  const show = (name: { schema: string; name: string }) =>
    `${JSON.stringify(name.schema)}.${JSON.stringify(name.name)}`;
  return Object.freeze({
    local: localName,
    remote: remoteName,
    key,
    columns,
    label: `${show(localName)} -> ${show(remoteName)}`,
    where,
  });
}
