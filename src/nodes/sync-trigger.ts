import { InvalidOptionError } from '../errors.js';
import { checkArray, checkObject } from '../spec/object.js';
import {
  asLiteral,
  checkIdentifier,
  checkQualifiedName,
  dollarQuoted,
  expression,
  ident,
  integer,
  join,
  literal,
  qualified,
  sql,
  type Fragment,
  type QualifiedName,
} from '../sql/index.js';
import type { Rendered } from './rendered.js';
import { checkSyncColumns, type SyncColumn, type SyncColumnOptions } from './sync-columns.js';
import { endpointViews, senderObjects, withSchema } from './sync-names.js';

export type SyncOperation = 'insert' | 'update' | 'delete';

/** Writes that arrived through the other side's link, which must not travel back. */
export type IgnoreWrites = { readonly role: string } | { readonly applicationName: string };

export interface SyncTriggerOptions {
  /** The link (foreign server) the changes go through. */
  readonly server: string;
  /** The local table whose changes are sent. */
  readonly table: string | QualifiedName;
  /** The remote table that receives them (its sync endpoint must be installed there); defaults to public and the local name. */
  readonly remote?: { readonly schema?: string; readonly name?: string };
  /** Remote key columns: how a row is found on the other side. */
  readonly key: readonly string[];
  /** Remote columns and where their values come from; see SyncColumnOptions. */
  readonly columns: readonly SyncColumnOptions[];
  /** Which changes to send; all three by default. */
  readonly operations?: readonly SyncOperation[];
  /**
   * Skip changes made by the other side's sync: the role its user mapping connects as
   * (preferred: no client can pretend to be it without its password), or the
   * application_name its server sets (any client can set it, and would skip sync silently).
   */
  readonly ignoreWritesBy?: IgnoreWrites;
  /** Rows per round trip to the other side (postgres_fdw batch_size); default 1000. */
  readonly batchSize?: number;
}

export interface SyncTriggerNode {
  readonly kind: 'sync-trigger';
  readonly server: string;
  readonly table: QualifiedName;
  readonly remote: { readonly schema: string; readonly name: string };
  readonly key: readonly string[];
  readonly columns: readonly SyncColumn[];
  readonly operations: readonly SyncOperation[];
  readonly ignoreWritesBy: IgnoreWrites | undefined;
  readonly batchSize: number;
}

const KEYS = ['server', 'table', 'remote', 'key', 'columns', 'operations', 'ignoreWritesBy', 'batchSize'] as const;
const OPERATIONS: readonly SyncOperation[] = ['insert', 'update', 'delete'];

function checkOperations(value: unknown, path: string): readonly SyncOperation[] {
  if (value === undefined) return OPERATIONS;
  const operations = checkArray(value, `${path}.operations`);
  if (operations.length === 0) throw new InvalidOptionError(`${path}.operations is empty; leave it out to sync all changes.`, `${path}.operations`);
  for (const operation of operations) {
    if (!OPERATIONS.includes(operation as SyncOperation)) {
      throw new InvalidOptionError(`${path}.operations: "${String(operation)}" is not one of insert, update, delete.`, `${path}.operations`);
    }
  }
  return OPERATIONS.filter((operation) => operations.includes(operation));
}

function checkIgnore(value: unknown, path: string): IgnoreWrites | undefined {
  if (value === undefined) return undefined;
  const spec = checkObject(value, `${path}.ignoreWritesBy`, ['role', 'applicationName']);
  if ((spec.role === undefined) === (spec.applicationName === undefined)) {
    throw new InvalidOptionError(`${path}.ignoreWritesBy takes either { role } or { applicationName }.`, `${path}.ignoreWritesBy`);
  }
  if (spec.role !== undefined) return Object.freeze({ role: checkIdentifier(spec.role, 'sync role') });
  if (typeof spec.applicationName !== 'string' || spec.applicationName === '' || spec.applicationName.includes('\u0000')) {
    throw new InvalidOptionError(`${path}.ignoreWritesBy.applicationName must be a non-empty string.`, `${path}.ignoreWritesBy`);
  }
  return Object.freeze({ applicationName: spec.applicationName });
}

/**
 * The sending side of a sync: statement-level triggers on a local table that send each
 * statement's rows, in batches, to the other side's sync endpoint through the link. Values
 * are sent exactly as stored; a failed remote write fails the local statement; a local
 * rollback leaves the remote untouched (postgres_fdw commits it only when the local commits).
 */
export function syncTrigger(input: SyncTriggerOptions): SyncTriggerNode {
  const spec = checkObject(input, 'syncTrigger', KEYS);
  const server = checkIdentifier(spec.server, 'foreign server');
  // The trigger runs with search_path = pg_catalog, so every name it uses is schema-qualified.
  const table = withSchema(checkQualifiedName(spec.table, 'synced table'));
  const path = `sync of "${table.name}" to server "${server}"`;
  const remoteSpec = spec.remote === undefined ? {} : checkObject(spec.remote, `${path}.remote`, ['schema', 'name']);
  const remote = Object.freeze({
    schema: remoteSpec.schema === undefined ? 'public' : checkIdentifier(remoteSpec.schema, 'remote schema'),
    name: remoteSpec.name === undefined ? table.name : checkIdentifier(remoteSpec.name, 'remote table'),
  });
  const { columns, key } = checkSyncColumns(spec.columns, spec.key, path);
  const batchSize = spec.batchSize ?? 1000;
  if (typeof batchSize !== 'number' || !Number.isInteger(batchSize) || batchSize < 1) {
    throw new InvalidOptionError(`${path}.batchSize must be a whole number, 1 or more.`, `${path}.batchSize`);
  }
  senderObjects(table, server); // refuses names that would be too long
  endpointViews(remote);
  return Object.freeze({
    kind: 'sync-trigger',
    server,
    table,
    remote,
    key,
    columns,
    operations: checkOperations(spec.operations, path),
    ignoreWritesBy: checkIgnore(spec.ignoreWritesBy, path),
    batchSize,
  });
}

function valueOf(column: SyncColumn): Fragment {
  return 'column' in column.source ? sql`src.${ident(column.source.column)}` : expression(column.source.expression);
}

function displayName(name: QualifiedName): string {
  return `${name.schema ? `${name.schema}.` : ''}${name.name}`;
}

/**
 * Creates the two foreign tables over the remote endpoint views. Their column types are those
 * of the values sent (local columns or expressions), found at migration time: evaluating every
 * value once over a row of NULLs also proves each column and expression exists and is valid
 * under the trigger's search_path, before anything is synced.
 */
function createForeignTables(node: SyncTriggerNode): Fragment {
  const objects = senderObjects(node.table, node.server);
  const views = endpointViews(node.remote);
  const keyColumns = node.key.map((name) => node.columns.findIndex((column) => column.remote === name) + 1);
  const definition = (table: QualifiedName, view: QualifiedName, indexes: readonly number[]) => {
    const columns = indexes.map((index, position) => {
      const column = node.columns[index - 1]!;
      return sql`${asLiteral(sql`${position === 0 ? sql`` : sql`, `}${ident(column.remote)} `)} || types[${integer(index)}]`;
    });
    return sql`EXECUTE ${asLiteral(sql`CREATE FOREIGN TABLE ${qualified(table)} (`)}
    || ${join(columns, '\n    || ')}
    || ${asLiteral(sql`) SERVER ${ident(node.server)} OPTIONS (schema_name ${literal(node.remote.schema)}, table_name ${literal(view.name)}, batch_size ${literal(node.batchSize)})`)};`;
  };
  const all = node.columns.map((_, index) => index + 1);
  const typeOf = join(node.columns.map((column) => sql`pg_catalog.pg_typeof(${valueOf(column)})::text`), ',\n      ');
  return sql`DO ${dollarQuoted(sql`
DECLARE
  saved_path text := pg_catalog.current_setting('search_path');
  types text[];
BEGIN
  PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
  SELECT ARRAY[
      ${typeOf}]
    INTO types FROM (SELECT (NULL::${qualified(node.table)}).*) AS src;
  PERFORM pg_catalog.set_config('search_path', saved_path, true);
  ${definition(objects.upsertTable, views.upsert, all)}
  ${definition(objects.deleteTable, views.delete, keyColumns)}
EXCEPTION WHEN OTHERS THEN
  RAISE EXCEPTION USING ERRCODE = SQLSTATE,
    MESSAGE = pg_catalog.format('pg-sync-link: cannot set up the %s: %s', ${literal(`sync of ${displayName(node.table)} to server ${node.server}`)}, SQLERRM),
    HINT = 'Every column named in the sync must exist in the local table; expressions see the changed row as src and must schema-qualify any table they read.';
END
`)}`;
}

function guard(ignore: IgnoreWrites | undefined): Fragment {
  if (ignore === undefined) return sql``;
  const test = 'role' in ignore
    ? sql`SESSION_USER = ${literal(ignore.role)}`
    : sql`pg_catalog.current_setting('application_name') = ${literal(ignore.applicationName)}`;
  return sql`
  -- Written by the other side's sync: sending it back would loop.
  IF ${test} THEN
    RETURN NULL;
  END IF;`;
}

function createFunction(node: SyncTriggerNode): Fragment {
  const objects = senderObjects(node.table, node.server);
  const remoteColumns = join(node.columns.map((column) => ident(column.remote)));
  const values = join(node.columns.map(valueOf));
  const keyColumns = node.key.map((name) => node.columns.find((column) => column.remote === name)!);
  const keyNames = join(keyColumns.map((column) => ident(column.remote)));
  const keyValues = join(keyColumns.map(valueOf));
  const upsert = qualified(objects.upsertTable);
  const remove = qualified(objects.deleteTable);
  const what = literal(`${displayName(node.table)} to ${node.remote.schema}.${node.remote.name} on server ${node.server}`);
  return sql`CREATE FUNCTION ${qualified(objects.function)}() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS ${dollarQuoted(sql`
DECLARE
  failure_detail text;
  failure_hint text;
BEGIN${guard(node.ignoreWritesBy)}
  CASE TG_ARGV[0]
    WHEN 'upsert' THEN
      INSERT INTO ${upsert} (${remoteColumns}) SELECT ${values} FROM pg_sync_new AS src;
    WHEN 'delete' THEN
      INSERT INTO ${remove} (${keyNames}) SELECT ${keyValues} FROM pg_sync_old AS src;
    WHEN 'moved' THEN
      -- A row's key changed: its old key is gone here, so it goes there too. Row triggers
      -- fire before statement triggers, so the statement's upserts come after these deletes.
      INSERT INTO ${remove} (${keyNames}) SELECT ${keyValues} FROM (SELECT OLD.*) AS src;
    WHEN 'vanished' THEN
      -- Keys an UPDATE moved away from: gone on this side, so gone on the other.
      INSERT INTO ${remove} (${keyNames})
        SELECT ${keyValues} FROM pg_sync_old AS src EXCEPT SELECT ${keyValues} FROM pg_sync_new AS src;
  END CASE;
  RETURN NULL;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS failure_detail = PG_EXCEPTION_DETAIL, failure_hint = PG_EXCEPTION_HINT;
  RAISE EXCEPTION USING ERRCODE = SQLSTATE,
    MESSAGE = pg_catalog.format('pg-sync-link: %s not synced from %s: %s', TG_OP, ${what}, SQLERRM),
    DETAIL = failure_detail,
    HINT = COALESCE(failure_hint, 'The local statement was rolled back with it; nothing was written on either side.');
END
`)}`;
}

function createTriggers(node: SyncTriggerNode): { up: Fragment[]; down: Fragment[] } {
  const objects = senderObjects(node.table, node.server);
  const table = qualified(node.table);
  const fn = qualified(objects.function);
  const up: Fragment[] = [];
  const down: Fragment[] = [];
  const add = (event: 'insert' | 'update' | 'update_key' | 'delete', definition: Fragment) => {
    const name = ident(objects.trigger(event));
    up.push(sql`CREATE TRIGGER ${name} ${definition}`);
    down.unshift(sql`DROP TRIGGER ${name} ON ${table}`);
  };
  if (node.operations.includes('insert')) {
    add('insert', sql`AFTER INSERT ON ${table} REFERENCING NEW TABLE AS pg_sync_new FOR EACH STATEMENT EXECUTE FUNCTION ${fn}('upsert')`);
  }
  if (node.operations.includes('update')) {
    add('update', sql`AFTER UPDATE ON ${table} REFERENCING NEW TABLE AS pg_sync_new FOR EACH STATEMENT EXECUTE FUNCTION ${fn}('upsert')`);
    const keySources = node.key.map((name) => node.columns.find((column) => column.remote === name)!.source);
    if (keySources.every((source) => 'column' in source)) {
      // Plain key columns: only rows whose key really changed fire this, one by one (rare).
      const keyColumns = keySources.map((source) => ident((source as { column: string }).column));
      const changed = join(keyColumns.map((column) => sql`OLD.${column} IS DISTINCT FROM NEW.${column}`), ' OR ');
      add('update_key', sql`AFTER UPDATE OF ${join(keyColumns)} ON ${table} FOR EACH ROW WHEN (${changed}) EXECUTE FUNCTION ${fn}('moved')`);
    } else {
      // Computed keys: compare the statement's old and new keys as sets.
      add('update_key', sql`AFTER UPDATE ON ${table} REFERENCING OLD TABLE AS pg_sync_old NEW TABLE AS pg_sync_new FOR EACH STATEMENT EXECUTE FUNCTION ${fn}('vanished')`);
    }
  }
  if (node.operations.includes('delete')) {
    add('delete', sql`AFTER DELETE ON ${table} REFERENCING OLD TABLE AS pg_sync_old FOR EACH STATEMENT EXECUTE FUNCTION ${fn}('delete')`);
  }
  return { up, down };
}

export function renderSyncTrigger(node: SyncTriggerNode): Rendered {
  const objects = senderObjects(node.table, node.server);
  const triggers = createTriggers(node);
  return {
    up: [createForeignTables(node), createFunction(node), ...triggers.up],
    down: [
      ...triggers.down,
      sql`DROP FUNCTION ${qualified(objects.function)}()`,
      sql`DROP FOREIGN TABLE ${qualified(objects.deleteTable)}`,
      sql`DROP FOREIGN TABLE ${qualified(objects.upsertTable)}`,
    ],
  };
}
