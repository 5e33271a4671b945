import { InvalidOptionError } from '../../errors.js';
import { checkArray, checkBoolean, checkObject } from '../../spec/object.js';
import {
  checkOptions,
  FOREIGN_TABLE_OPTIONS,
  optionsClause,
  type CheckedOption,
  type OptionValue,
} from '../../spec/fdw-options.js';
import {
  checkIdentifier,
  checkQualifiedName,
  checkTypeName,
  columnType,
  ident,
  join,
  literal,
  qualified,
  sql,
  type QualifiedName,
  empty,
} from '../../sql/index.js';
import type { Rendered } from '../rendered.js';
import { type KindDefinition, nameIdentity } from '../kind.js';

/** One column of a foreign table. */
export interface ForeignColumnOptions {
  /** The column's local name. */
  readonly name: string;
  /** A PostgreSQL type: `bigint`, `varchar(255)`, `timestamp without time zone`, `numeric(10,2)[]`... */
  readonly type: string;
  /** Declare the column NOT NULL (default false); PostgreSQL does not check it on a foreign table. */
  readonly notNull?: boolean;
  /** The column's name on the remote table, when it differs. */
  readonly remoteName?: string;
}

/** What foreignTable() takes: one remote table, seen locally through a foreign server. */
export interface ForeignTableOptions {
  /** The local foreign server's name. */
  readonly server: string;
  /** Local name of the foreign table: `'legacy_products'` or `{ schema: 'legacy', name: 'products' }`. */
  readonly name: string | QualifiedName;
  /** The remote table; its schema defaults to `public` and its name to the local name. */
  readonly remote?: {
    /** The remote schema (default public). */
    readonly schema?: string;
    /** The remote table's name (default the local name). */
    readonly name?: string;
  };
  /** The columns to read (at least one), in the order the foreign table declares them. */
  readonly columns: readonly ForeignColumnOptions[];
  /** Per-table postgres_fdw options: fetch_size, batch_size, updatable, use_remote_estimate... */
  readonly options?: Readonly<Record<string, OptionValue | undefined>>;
}

/** A checked foreign table column. */
export interface ForeignColumn {
  /** The column's local name. */
  readonly name: string;
  /** Its PostgreSQL type, checked. */
  readonly type: string;
  /** Declared NOT NULL. */
  readonly notNull: boolean;
  /** The column's name on the remote table, when it differs. */
  readonly remoteName: string | undefined;
}

/** A checked foreign table, as foreignTable() builds it. */
export interface ForeignTableNode {
  /** Tells the node kinds apart. */
  readonly kind: 'foreign-table';
  /** The local foreign server's name. */
  readonly server: string;
  /** The foreign table's local name. */
  readonly name: QualifiedName;
  /** The remote table (schema defaulted to public, name to the local name). */
  readonly remote: {
    /** The remote schema. */
    readonly schema: string;
    /** The remote table's name. */
    readonly name: string;
  };
  /** Its columns, checked. */
  readonly columns: readonly ForeignColumn[];
  /** Its postgres_fdw options, checked. */
  readonly options: readonly CheckedOption[];
}

const KEYS = ['server', 'name', 'remote', 'columns', 'options'] as const;
const COLUMN_KEYS = ['name', 'type', 'notNull', 'remoteName'] as const;

function checkColumn(value: unknown, path: string): ForeignColumn {
  const column = checkObject(value, path, COLUMN_KEYS);
  const name = checkIdentifier(column.name, 'foreign table column');
  const columnPath = `${path} "${name}"`;
  if (column.type === undefined)
    throw new InvalidOptionError(`${columnPath} needs a type, e.g. "bigint" or "text".`, `${columnPath}.type`);
  return Object.freeze({
    name,
    type: checkTypeName(column.type, `${columnPath} type`),
    notNull: checkBoolean(column.notNull, `${columnPath}.notNull`) ?? false,
    remoteName: column.remoteName === undefined ? undefined : checkIdentifier(column.remoteName, 'remote column'),
  });
}

/**
 * A postgres_fdw foreign table: one remote table, read and written locally through a foreign
 * server. `link.foreignTable({...})` fills in the server of an fdwLink().
 *
 * @example
 * foreignTable({
 *   server: 'legacy', name: 'legacy_products', remote: { name: 'products' },
 *   columns: [{ name: 'id', type: 'bigint', notNull: true }, { name: 'name', type: 'text' }],
 * })
 * // CREATE FOREIGN TABLE legacy_products (
 * //   id bigint NOT NULL,
 * //   name text
 * // ) SERVER legacy OPTIONS (schema_name 'public', table_name 'products');
 * // down: DROP FOREIGN TABLE legacy_products;
 */
export function foreignTable(input: ForeignTableOptions): ForeignTableNode {
  const spec = checkObject(input, 'foreignTable', KEYS);
  const server = checkIdentifier(spec.server, 'foreign server');
  const name = checkQualifiedName(spec.name, 'foreign table');
  const path = `foreign table "${name.schema ? `${name.schema}.` : ''}${name.name}"`;
  const remoteSpec = spec.remote === undefined ? {} : checkObject(spec.remote, `${path}.remote`, ['schema', 'name']);
  const remote = Object.freeze({
    schema: remoteSpec.schema === undefined ? 'public' : checkIdentifier(remoteSpec.schema, 'remote schema'),
    name: remoteSpec.name === undefined ? name.name : checkIdentifier(remoteSpec.name, 'remote table'),
  });
  const columnValues = checkArray(spec.columns, `${path}.columns`);
  if (columnValues.length === 0) {
    throw new InvalidOptionError(`${path} needs at least one column in columns.`, `${path}.columns`);
  }
  const columns = columnValues.map((column, index) => checkColumn(column, `${path} column ${index + 1}`));
  const seen = new Set<string>();
  for (const column of columns) {
    if (seen.has(column.name))
      throw new InvalidOptionError(`${path} has column "${column.name}" twice.`, `${path}.columns`);
    seen.add(column.name);
  }
  const options = checkOptions(FOREIGN_TABLE_OPTIONS, spec.options, path);
  return Object.freeze({
    kind: 'foreign-table',
    server,
    name: Object.freeze(name),
    remote,
    columns: Object.freeze(columns),
    options: Object.freeze(options),
  });
}

function columnSql(column: ForeignColumn) {
  const remoteName =
    column.remoteName === undefined ? empty : sql` OPTIONS (column_name ${literal(column.remoteName)})`;
  const notNull = column.notNull ? sql` NOT NULL` : empty;
  return sql`  ${ident(column.name)} ${columnType(column.type)}${remoteName}${notNull}`;
}

export function renderForeignTable(node: ForeignTableNode): Rendered {
  const path = `foreign table "${node.name.name}"`;
  const remote = [
    { name: 'schema_name', value: node.remote.schema, kind: 'text' as const },
    { name: 'table_name', value: node.remote.name, kind: 'text' as const },
  ];
  return {
    up: [
      sql`CREATE FOREIGN TABLE ${qualified(node.name)} (
${join(node.columns.map(columnSql), ',\n')}
) SERVER ${ident(node.server)}${optionsClause([...remote, ...node.options], path)}`,
    ],
    down: [sql`DROP FOREIGN TABLE ${qualified(node.name)}`],
  };
}

/** A foreign table in the kind registry (src/kinds/registry.ts). */
export const foreignTableKind: KindDefinition<ForeignTableNode> = {
  render: renderForeignTable,
  describe: (node) => `foreign table ${node.name.schema ? `${node.name.schema}.` : ''}${node.name.name}`,
  identity: (node) => `foreign table ${nameIdentity(node.name)}`,
  step: (node) => `foreign-table-${node.name.schema ?? 'default'}.${node.name.name}`,
};
