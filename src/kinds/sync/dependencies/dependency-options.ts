import { isOneOf } from '../../../spec/guards.js';
import { InvalidOptionError } from '../../../errors.js';
import { checkArray, checkObject } from '../../../spec/object.js';
import { checkQualifiedName, isSqlExpression, type QualifiedName, type SqlExpression } from '../../../sql/index.js';
import type { SyncColumn } from '../sync-columns.js';
import type { SyncOperation } from '../sync-operations.js';
import { withSchema } from '../sync-names.js';
import { dependencyObjects } from './dependency-names.js';

/**
 * What a sync does when a row of a table it depends on is deleted while synced rows still read it:
 * `resend` (default) sends those rows again with what their expressions read now (a lookup of the
 * deleted row yields NULL); `restrict` refuses the DELETE, naming the sync, like a foreign key's
 * ON DELETE RESTRICT.
 */
export type DependencyDeleteAction = 'resend' | 'restrict';

/**
 * A local table the sync's column expressions read (a lookup), and which synced rows read each of
 * its rows. An INSERT, UPDATE or DELETE there sends those synced rows again, with the sync's own
 * delivery and timing.
 *
 * @example
 * { table: 'timesheet_options', rows: sqlExpression('src.timesheet_options_id = dep.id') }
 */
export interface SyncDependencyOptions {
  /** The local table the expressions read (schema `public` unless given). */
  readonly table: string | QualifiedName;
  /**
   * A condition over a synced row `src` and a row of the dependency `dep`, true when `src` reads
   * `dep`; made with sqlExpression(), e.g. `sqlExpression('src.timesheet_options_id = dep.id')`.
   */
  readonly rows: SqlExpression;
  /** When a dependency row that synced rows read is deleted: `resend` (default) or `restrict`. */
  readonly onDelete?: DependencyDeleteAction;
}

/** A checked dependency of a sync. */
export interface SyncDependency {
  /** The local table the expressions read, schema given. */
  readonly table: QualifiedName & {
    /** The table's schema (`public` unless given). */
    readonly schema: string;
  };
  /** A condition over the synced row `src` and the dependency row `dep`. */
  readonly rows: SqlExpression;
  /** What a DELETE of a row that synced rows read does. */
  readonly onDelete: DependencyDeleteAction;
}

const KEYS = ['table', 'rows', 'onDelete'] as const;
const ACTIONS: readonly DependencyDeleteAction[] = ['resend', 'restrict'];

/** Whether `text` names `alias` as a word (outside of quoted text, roughly: enough to catch a typo). */
function mentions(text: string, alias: string): boolean {
  const unquoted = text.replace(/'(?:[^']|'')*'/g, "''");
  return new RegExp(`(^|[^A-Za-z0-9_$."])${alias}\\s*\\.`, 'i').test(unquoted);
}

/**
 * Checks a sync's `dependsOn` before any SQL is made: every entry names a table once, not the
 * synced table itself, with a `rows` condition that relates `src` to `dep`; the sync must have a
 * column expression (a plain column cannot read another table) and send updates (a dependency
 * change is sent as an update of the rows that read it).
 */
export function checkDependencies(
  value: unknown,
  context: {
    readonly path: string;
    readonly table: QualifiedName & { readonly schema: string };
    readonly server: string;
    readonly columns: readonly SyncColumn[];
    readonly operations: readonly SyncOperation[];
  },
): readonly SyncDependency[] {
  const { path } = context;
  const where = `${path}.dependsOn`;
  if (value === undefined) return Object.freeze([]);
  const entries = checkArray(value, where);
  if (entries.length === 0) return Object.freeze([]);
  if (!context.columns.some((column) => 'expression' in column.source)) {
    throw new InvalidOptionError(
      `${where}: no column of this sync is an expression, so none can read another table. Give the column that looks the value up an expression, e.g. { remote: 'hospital_id', expression: sqlExpression('(SELECT o.hospital_id FROM public.timesheet_options o WHERE o.id = src.timesheet_options_id)') }, or leave dependsOn out.`,
      where,
    );
  }
  if (!context.operations.includes('update')) {
    throw new InvalidOptionError(
      `${where}: a change to a dependency is sent as an update of the synced rows that read it, but this sync does not send updates. Add 'update' to operations, or leave dependsOn out.`,
      where,
    );
  }
  const seen = new Map<string, string>();
  const checked = entries.map((entry, index): SyncDependency => {
    const spec = checkObject(entry, `${where}[${index}]`, KEYS);
    if (spec.table === undefined) {
      throw new InvalidOptionError(`${where}[${index}] needs table: the local table the expressions read.`, where);
    }
    const table = withSchema(checkQualifiedName(spec.table, 'dependency table'));
    const label = `${where} table "${table.schema}.${table.name}"`;
    if (table.schema === context.table.schema && table.name === context.table.name) {
      throw new InvalidOptionError(
        `${label} is the synced table itself, whose changes are sent already; leave it out of dependsOn.`,
        where,
      );
    }
    const other = seen.get(table.name);
    if (other !== undefined) {
      throw new InvalidOptionError(
        other === table.schema
          ? `${label} is named twice; one entry per table (join conditions with OR in rows).`
          : `${label}: another dependency is named "${table.name}" too (schema "${other}"); its objects would have the same names. Depend on one of them through a view, or rename one.`,
        where,
      );
    }
    seen.set(table.name, table.schema);
    dependencyObjects(context.table, context.server, table); // refuses names that would be too long
    if (!isSqlExpression(spec.rows)) {
      throw new InvalidOptionError(
        `${label} needs rows, made with sqlExpression(): a condition true when the synced row src reads the dependency row dep, e.g. sqlExpression('src.timesheet_options_id = dep.id').`,
        where,
      );
    }
    for (const alias of ['src', 'dep']) {
      if (!mentions(spec.rows.text, alias)) {
        throw new InvalidOptionError(
          `${label}: rows (${JSON.stringify(spec.rows.text)}) never reads ${alias}.<column>. It must relate the synced row src to the dependency row dep, e.g. sqlExpression('src.timesheet_options_id = dep.id').`,
          where,
        );
      }
    }
    const onDelete = spec.onDelete ?? 'resend';
    if (!isOneOf(ACTIONS, onDelete)) {
      throw new InvalidOptionError(
        `${label}: onDelete must be 'resend' or 'restrict', got ${JSON.stringify(onDelete)}.`,
        where,
      );
    }
    return Object.freeze({ table, rows: spec.rows, onDelete });
  });
  return Object.freeze(checked);
}
