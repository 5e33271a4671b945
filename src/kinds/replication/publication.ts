import { isOneOf } from '../../spec/guards.js';
import { InvalidOptionError } from '../../errors.js';
import { checkArray, checkBoolean, checkObject } from '../../spec/object.js';
import {
  checkIdentifier,
  checkQualifiedName,
  empty,
  expression,
  ident,
  isSqlExpression,
  join,
  literal,
  qualified,
  sql,
  type Fragment,
  type QualifiedName,
  type SqlExpression,
} from '../../sql/index.js';
import type { Rendered } from '../rendered.js';
import type { KindDefinition } from '../kind.js';
import { requireServerVersion } from '../server-version.js';

/** A kind of change a publication sends. */
export type PublishOperation = 'insert' | 'update' | 'delete' | 'truncate';

/** One published table, with PostgreSQL 15's column list and row filter. */
export interface PublicationTableOptions {
  /** The table: a name (schema default per search_path) or `{ schema, name }`. */
  readonly table: string | QualifiedName;
  /** Only these columns are sent (PostgreSQL 15+); they must include the replica identity for updates and deletes. */
  readonly columns?: readonly string[];
  /** Only rows for which this is true are sent (PostgreSQL 15+), e.g. sqlExpression('region = 1'). */
  readonly where?: SqlExpression;
}

/** What publication() takes: which tables' changes a subscription on another server receives. */
export interface PublicationOptions {
  /** The publication's name. */
  readonly name: string;
  /** Tables to publish: names, { schema, name }, or { table, columns?, where? }. */
  readonly tables?: readonly (string | QualifiedName | PublicationTableOptions)[];
  /** Every table of the database, now and later (needs a superuser). Instead of `tables`. */
  readonly allTables?: boolean;
  /** Which operations are sent; default all four. */
  readonly publish?: readonly PublishOperation[];
  /** Changes of a partition are published as changes of its partitioned table. */
  readonly publishViaPartitionRoot?: boolean;
}

/** A checked published table. */
export interface PublishedTable {
  /** The table. */
  readonly table: QualifiedName;
  /** Only these columns are sent; all when undefined. */
  readonly columns?: readonly string[];
  /** The row filter; none when undefined. */
  readonly where?: SqlExpression;
}

/** A checked publication, as publication() builds it. */
export interface PublicationNode {
  /** Tells the node kinds apart. */
  readonly kind: 'publication';
  /** The publication's name. */
  readonly name: string;
  /** Undefined for FOR ALL TABLES. */
  readonly tables?: readonly PublishedTable[];
  /** The operations sent; PostgreSQL's default (all four) when undefined. */
  readonly publish?: readonly PublishOperation[];
  /** Publish a partition's changes as its root table's. */
  readonly publishViaPartitionRoot?: boolean;
}

const OPERATIONS: readonly PublishOperation[] = ['insert', 'update', 'delete', 'truncate'];

function checkTable(value: unknown, path: string): PublishedTable {
  if (typeof value === 'object' && value !== null && 'table' in value) {
    const spec = checkObject(value, path, ['table', 'columns', 'where']);
    const table = checkQualifiedName(spec.table, 'published table');
    const columns =
      spec.columns === undefined
        ? undefined
        : checkArray(spec.columns, `${path}.columns`).map((column) => checkIdentifier(column, 'published column'));
    if (columns?.length === 0)
      throw new InvalidOptionError(
        `${path}.columns is empty; leave it out to publish every column.`,
        `${path}.columns`,
      );
    if (spec.where !== undefined && !isSqlExpression(spec.where)) {
      throw new InvalidOptionError(
        `${path}.where must be an sqlExpression('...'), the row filter as SQL.`,
        `${path}.where`,
      );
    }
    return Object.freeze({
      table: Object.freeze(table),
      ...(columns ? { columns: Object.freeze(columns) } : {}),
      ...(isSqlExpression(spec.where) ? { where: spec.where } : {}),
    });
  }
  return Object.freeze({ table: Object.freeze(checkQualifiedName(value, 'published table')) });
}

/**
 * A publication on the publishing server: which tables' changes a subscription() receives.
 *
 * @example
 * publication({ name: 'products_pub', tables: [{ table: 'products', columns: ['id', 'name'], where: sqlExpression('price > 0') }], publish: ['insert', 'update'] })
 * // CREATE PUBLICATION products_pub FOR TABLE products (id, name) WHERE (price > 0) WITH (publish = 'insert, update')
 */
export function publication(input: PublicationOptions): PublicationNode {
  const spec = checkObject(input, 'publication', ['name', 'tables', 'allTables', 'publish', 'publishViaPartitionRoot']);
  const name = checkIdentifier(spec.name, 'publication');
  const path = `publication "${name}"`;
  const allTables = checkBoolean(spec.allTables, `${path}.allTables`);
  if (allTables && spec.tables !== undefined)
    throw new InvalidOptionError(`${path}: give either tables or allTables: true, not both.`, `${path}.tables`);
  if (!allTables && spec.tables === undefined)
    throw new InvalidOptionError(`${path} needs tables (or allTables: true).`, `${path}.tables`);
  const tables = allTables
    ? undefined
    : checkArray(spec.tables, `${path}.tables`).map((table, index) => checkTable(table, `${path}.tables[${index}]`));
  if (tables?.length === 0) throw new InvalidOptionError(`${path}.tables is empty.`, `${path}.tables`);
  let publish: PublishOperation[] | undefined;
  if (spec.publish !== undefined) {
    publish = checkArray(spec.publish, `${path}.publish`).map((operation) => {
      if (!isOneOf(OPERATIONS, operation)) {
        throw new InvalidOptionError(
          `${path}.publish takes ${OPERATIONS.join(', ')}, got ${JSON.stringify(operation)}.`,
          `${path}.publish`,
        );
      }
      return operation;
    });
    if (publish.length === 0)
      throw new InvalidOptionError(
        `${path}.publish is empty: a publication that publishes nothing sends nothing.`,
        `${path}.publish`,
      );
  }
  const viaRoot = checkBoolean(spec.publishViaPartitionRoot, `${path}.publishViaPartitionRoot`);
  return Object.freeze({
    kind: 'publication',
    name,
    ...(tables ? { tables: Object.freeze(tables) } : {}),
    ...(publish ? { publish: Object.freeze([...new Set(publish)]) } : {}),
    ...(viaRoot !== undefined ? { publishViaPartitionRoot: viaRoot } : {}),
  });
}

function tableSql(table: PublishedTable): Fragment {
  const columns = table.columns ? sql` (${join(table.columns.map(ident))})` : empty;
  const where = table.where ? sql` WHERE ${expression(table.where)}` : empty;
  return sql`${qualified(table.table)}${columns}${where}`;
}

export function renderPublication(node: PublicationNode): Rendered {
  const target = node.tables ? sql`FOR TABLE ${join(node.tables.map(tableSql))}` : sql`FOR ALL TABLES`;
  const options: Fragment[] = [];
  if (node.publish) options.push(sql`publish = ${literal(node.publish.join(', '))}`);
  if (node.publishViaPartitionRoot !== undefined)
    options.push(sql`publish_via_partition_root = ${literal(node.publishViaPartitionRoot)}`);
  const withClause = options.length > 0 ? sql` WITH (${join(options)})` : empty;
  const filtered = node.tables?.some((table) => table.columns || table.where);
  return {
    up: [
      ...(filtered ? [requireServerVersion(15, 'A publication with column lists or row filters')] : []),
      sql`CREATE PUBLICATION ${ident(node.name)} ${target}${withClause}`,
    ],
    down: [sql`DROP PUBLICATION ${ident(node.name)}`],
  };
}

/** A publication in the kind registry (src/kinds/registry.ts). */
export const publicationKind: KindDefinition<PublicationNode> = {
  render: renderPublication,
  describe: (node) => `publication ${node.name}`,
  identity: (node) => `publication ${JSON.stringify(node.name)}`,
  step: (node) => `publication-${node.name}`,
};
