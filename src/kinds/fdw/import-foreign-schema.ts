import { InvalidOptionError } from '../../errors.js';
import { checkArray, checkBoolean, checkObject } from '../../spec/object.js';
import {
  checkOptions,
  IMPORT_OPTIONS,
  optionsClause,
  type CheckedOption,
  type OptionValue,
} from '../../spec/fdw-options.js';
import { checkIdentifier, dollarQuoted, empty, ident, join, literal, sql, type Fragment } from '../../sql/index.js';
import type { Rendered } from '../rendered.js';
import type { KindDefinition } from '../kind.js';

/** What importForeignSchema() takes: a remote schema whose tables become local foreign tables. */
export interface ImportForeignSchemaOptions {
  /** The local foreign server's name. */
  readonly server: string;
  /** The schema on the remote server to import from. */
  readonly remoteSchema: string;
  /** The local schema that receives the foreign tables. */
  readonly into: string;
  /** Create `into` in up and drop it in down (default false: the schema must exist). */
  readonly createSchema?: boolean;
  /** Import only these remote tables. */
  readonly limitTo?: readonly string[];
  /** Import every remote table but these. */
  readonly except?: readonly string[];
  /** import_default, import_collate, import_not_null, import_generated. */
  readonly options?: Readonly<Record<string, OptionValue | undefined>>;
}

/** A checked schema import, as importForeignSchema() builds it. */
export interface ImportForeignSchemaNode {
  /** Tells the node kinds apart. */
  readonly kind: 'import-foreign-schema';
  /** The local foreign server's name. */
  readonly server: string;
  /** The remote schema imported from. */
  readonly remoteSchema: string;
  /** The local schema that receives the foreign tables. */
  readonly into: string;
  /** Whether up creates `into` (and down drops it). */
  readonly createSchema: boolean;
  /** LIMIT TO or EXCEPT these tables; undefined imports every table. */
  readonly filter:
    | {
        /** Import only the tables listed, or all but them. */
        readonly mode: 'LIMIT TO' | 'EXCEPT';
        /** The remote tables listed. */
        readonly tables: readonly string[];
      }
    | undefined;
  /** The IMPORT FOREIGN SCHEMA options, checked. */
  readonly options: readonly CheckedOption[];
}

const KEYS = ['server', 'remoteSchema', 'into', 'createSchema', 'limitTo', 'except', 'options'] as const;

function checkTables(value: unknown, path: string): readonly string[] {
  const tables = checkArray(value, path).map((table) => checkIdentifier(table, 'imported table'));
  if (tables.length === 0) throw new InvalidOptionError(`${path} is empty; leave it out to import every table.`, path);
  return Object.freeze(tables);
}

/**
 * IMPORT FOREIGN SCHEMA: a foreign table for each table of a remote schema (or those listed).
 * Each imported table is marked with a comment, so down drops exactly the tables this import
 * created. `link.importForeignSchema({...})` fills in the server of an fdwLink().
 *
 * @example
 * importForeignSchema({ server: 'legacy', remoteSchema: 'public', into: 'legacy', createSchema: true, limitTo: ['products'] })
 * // CREATE SCHEMA legacy;
 * // DO $pgsl$ ... IMPORT FOREIGN SCHEMA public LIMIT TO (products) FROM SERVER legacy INTO legacy; ... $pgsl$;
 * // down: DO $pgsl$ ... (drops the foreign tables it imported) ... $pgsl$; DROP SCHEMA legacy;
 */
export function importForeignSchema(input: ImportForeignSchemaOptions): ImportForeignSchemaNode {
  const spec = checkObject(input, 'importForeignSchema', KEYS);
  const server = checkIdentifier(spec.server, 'foreign server');
  const remoteSchema = checkIdentifier(spec.remoteSchema, 'remote schema');
  const into = checkIdentifier(spec.into, 'local schema');
  const path = `import of remote schema "${remoteSchema}" from server "${server}"`;
  if (spec.limitTo !== undefined && spec.except !== undefined) {
    throw new InvalidOptionError(`${path}: give limitTo or except, not both.`, `${path}.except`);
  }
  const filter =
    spec.limitTo !== undefined
      ? { mode: 'LIMIT TO' as const, tables: checkTables(spec.limitTo, `${path}.limitTo`) }
      : spec.except !== undefined
        ? { mode: 'EXCEPT' as const, tables: checkTables(spec.except, `${path}.except`) }
        : undefined;
  return Object.freeze({
    kind: 'import-foreign-schema',
    server,
    remoteSchema,
    into,
    createSchema: checkBoolean(spec.createSchema, `${path}.createSchema`) ?? false,
    filter: filter && Object.freeze(filter),
    options: Object.freeze(checkOptions(IMPORT_OPTIONS, spec.options, path)),
  });
}

// Each imported table is tagged with this comment, so down drops exactly the tables this
// import created, whatever the remote schema holds by then.
function importMarker(node: ImportForeignSchemaNode): Fragment {
  return literal(`pg-sync-link: imported from server ${node.server}, remote schema ${node.remoteSchema}`);
}

/** The foreign tables in the local schema that belong to the server, as a regclass query. */
function foreignTablesOf(node: ImportForeignSchemaNode): Fragment {
  return sql`SELECT c.oid::pg_catalog.regclass
    FROM pg_catalog.pg_foreign_table ft
    JOIN pg_catalog.pg_class c ON c.oid = ft.ftrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_catalog.pg_foreign_server s ON s.oid = ft.ftserver
    WHERE n.nspname = ${literal(node.into)} AND s.srvname = ${literal(node.server)}`;
}

export function renderImportForeignSchema(node: ImportForeignSchemaNode): Rendered {
  const path = `import of remote schema "${node.remoteSchema}"`;
  const mode = node.filter?.mode === 'EXCEPT' ? sql`EXCEPT` : sql`LIMIT TO`;
  const filter = node.filter ? sql` ${mode} (${join(node.filter.tables.map(ident))})` : empty;
  const up = sql`DO ${dollarQuoted(sql`
DECLARE
  existing pg_catalog.regclass[] := ARRAY(${foreignTablesOf(node)});
  imported pg_catalog.regclass;
BEGIN
  IMPORT FOREIGN SCHEMA ${ident(node.remoteSchema)}${filter} FROM SERVER ${ident(node.server)} INTO ${ident(node.into)}${optionsClause(node.options, path)};
  FOR imported IN ${foreignTablesOf(node)} AND c.oid <> ALL (existing) LOOP
    EXECUTE pg_catalog.format('COMMENT ON FOREIGN TABLE %s IS %L', imported, ${importMarker(node)});
  END LOOP;
END
`)}`;
  const down = sql`DO ${dollarQuoted(sql`
DECLARE
  imported pg_catalog.regclass;
BEGIN
  FOR imported IN ${foreignTablesOf(node)}
      AND pg_catalog.obj_description(c.oid, 'pg_class') = ${importMarker(node)} LOOP
    EXECUTE pg_catalog.format('DROP FOREIGN TABLE %s', imported);
  END LOOP;
END
`)}`;
  return node.createSchema
    ? { up: [sql`CREATE SCHEMA ${ident(node.into)}`, up], down: [down, sql`DROP SCHEMA ${ident(node.into)}`] }
    : { up: [up], down: [down] };
}

/** An imported foreign schema in the kind registry (src/kinds/registry.ts). */
export const importForeignSchemaKind: KindDefinition<ImportForeignSchemaNode> = {
  render: renderImportForeignSchema,
  describe: (node) => `import ${node.server}:${node.remoteSchema} into ${node.into}`,
  identity: (node) => `import ${JSON.stringify([node.server, node.remoteSchema, node.into])}`,
  step: (node) => `import-${node.server}-${node.remoteSchema}-into-${node.into}`,
};
