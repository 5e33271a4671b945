import { InvalidOptionError } from '../../errors.js';
import { checkObject } from '../../spec/object.js';
import {
  checkIdentifier,
  checkQualifiedName,
  dollarQuoted,
  formatted,
  ident,
  join,
  literal,
  qualified,
  raiseException,
  sql,
  type Fragment,
  type QualifiedName,
  type SqlExpression,
} from '../../sql/index.js';
import type { Rendered } from '../rendered.js';
import type { KindDefinition } from '../kind.js';
import { checkSyncColumns, type SyncColumn, type SyncColumnOptions } from './sync-columns.js';
import { uniqueKeyCheck } from './sync-endpoint.js';
import { fitFamily, withSchema } from './sync-names.js';
import { displayName, namingTheSync, valueOf } from './sender/sync-sender-sql.js';
import { checkOperations, type SyncOperation } from './sync-operations.js';
import { checkRowFilter, rowFilterCheck, whereMatching } from './sync-filter.js';
import { fireAlways, refuseTruncate, truncateTrigger } from '../trigger-guards.js';

/** What syncTrigger() takes for a sync between two tables of the same database (a `target`, no `server`). */
export interface LocalSyncOptions {
  /** The table whose changes are copied. */
  readonly table: string | QualifiedName;
  /** The table in this same database that receives them. */
  readonly target: string | QualifiedName;
  /** Target key columns: how a row is found there (a unique index must cover exactly them). */
  readonly key: readonly string[];
  /** Target columns and where their values come from, as for a sync to another database. */
  readonly columns: readonly SyncColumnOptions[];
  /** Which changes to copy; all three by default. */
  readonly operations?: readonly SyncOperation[];
  /** Copies only the rows that match a condition over the row `src`, as for a sync to another database; default every row. */
  readonly where?: SqlExpression;
}

type Table = QualifiedName & {
  /** The schema, always given. */
  readonly schema: string;
};

/** A checked sync between two tables of the same database, as syncTrigger() builds it. */
export interface LocalSyncNode {
  /** Tells the node kinds apart. */
  readonly kind: 'local-sync';
  /** The table whose changes are copied, schema given. */
  readonly table: Table;
  /** The table that receives them, schema given. */
  readonly target: Table;
  /** Target key columns. */
  readonly key: readonly string[];
  /** Target columns and where their values come from. */
  readonly columns: readonly SyncColumn[];
  /** Which changes are copied. */
  readonly operations: readonly SyncOperation[];
  /** Which rows are copied: a condition over the row `src`; undefined copies every row. */
  readonly where: SqlExpression | undefined;
}

const KEYS = ['table', 'target', 'key', 'columns', 'operations', 'where'] as const;

/** Marks a session's writes made by a local sync, with the table the change started from. */
const ORIGIN_SETTING = 'pg_sync_link.local_origin';

function localObjects(node: Pick<LocalSyncNode, 'table' | 'target'>) {
  return fitFamily(
    [node.table.name, node.target.schema, node.target.name],
    ([name, schema, target]) => ({
      function: {
        schema: node.table.schema,
        name: checkIdentifier(`${name}__sync_to_${schema}_${target}`, 'local sync function'),
      },
      trigger: (event: 'insert' | 'update' | 'update_key' | 'delete' | 'truncate') =>
        checkIdentifier(`sync_to_${schema}_${target}_${event}`, 'local sync trigger'),
    }),
    (objects) => (['insert', 'update', 'update_key', 'delete', 'truncate'] as const).map(objects.trigger),
  );
}

export function localSync(input: LocalSyncOptions): LocalSyncNode {
  const spec = checkObject(input, 'syncTrigger', KEYS);
  const table = withSchema(checkQualifiedName(spec.table, 'synced table'));
  const target = withSchema(checkQualifiedName(spec.target, 'sync target table'));
  const path = `sync of "${table.name}" to "${target.schema}.${target.name}"`;
  if (table.schema === target.schema && table.name === target.name) {
    throw new InvalidOptionError(
      `${path}: the target is the table itself; name another table, or give a server to sync to another database.`,
      `${path}.target`,
    );
  }
  const { columns, key } = checkSyncColumns(spec.columns, spec.key, path);
  for (const name of key) {
    if (!('column' in columns.find((column) => column.remote === name)!.source)) {
      throw new InvalidOptionError(
        `${path}: key column "${name}" must come from a local column, not an expression (deleted rows are found by their key).`,
        `${path}.key`,
      );
    }
  }
  localObjects({ table, target }); // refuses names that would be too long
  return Object.freeze({
    kind: 'local-sync',
    table,
    target,
    key,
    columns,
    operations: checkOperations(spec.operations, path),
    where: checkRowFilter(spec.where, path),
  });
}

/**
 * Statement triggers that upsert and delete in the target table directly, in the writer's
 * transaction. Two-way (or a ring of syncs) does not loop: while a sync writes, a session
 * setting names the table the change started from, and a sync whose target is that table
 * skips it. A chain (a to b, b to c) still carries the change all the way.
 */
export function renderLocalSync(node: LocalSyncNode): Rendered {
  const objects = localObjects(node);
  const table = qualified(node.table);
  const target = qualified(node.target);
  const keyColumns = node.key.map((name) => node.columns.find((column) => column.remote === name)!);
  const targetColumns = join(node.columns.map((column) => ident(column.remote)));
  const others = node.columns.filter((column) => !node.key.includes(column.remote));
  const onConflict =
    others.length === 0
      ? sql`DO NOTHING`
      : sql`DO UPDATE SET ${join(others.map((column) => sql`${ident(column.remote)} = EXCLUDED.${ident(column.remote)}`))}`;
  const deleteWhere = (source: Fragment) =>
    sql`DELETE FROM ${target} AS t USING (${source}) AS gone WHERE ${join(
      keyColumns.map((column) => sql`t.${ident(column.remote)} = gone.${ident(column.remote)}`),
      ' AND ',
    )}`;
  // With a filter, only rows that match in a version were copied, or are copied now.
  const matching = whereMatching(node.where);
  const keysOf = (transition: string) =>
    sql`SELECT ${join(keyColumns.map((column) => sql`${valueOf(column)} AS ${ident(column.remote)}`))} FROM ${ident(transition)} AS src${matching}`;
  const origin = literal(ORIGIN_SETTING);
  const self = literal(displayName(node.table));
  const what = literal(`${displayName(node.table)} to ${displayName(node.target)}`);

  const fn = sql`CREATE FUNCTION ${qualified(objects.function)}() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS ${dollarQuoted(sql`
DECLARE
  started_at text := pg_catalog.current_setting(${origin}, true);
  failure_detail text;
  failure_hint text;
BEGIN${refuseTruncate(`same-database sync to ${displayName(node.target)}`, node.table, objects.trigger('truncate'))}
  -- The change started at our target: copying it back would loop.
  IF started_at = ${literal(displayName(node.target))} THEN
    RETURN NULL;
  END IF;
  PERFORM pg_catalog.set_config(${origin}, COALESCE(NULLIF(started_at, ''), ${self}), true);
  ${namingTheSync(
    what,
    'The statement was rolled back; neither table changed.',
    sql`CASE TG_ARGV[0]
      WHEN 'upsert' THEN
        INSERT INTO ${target} AS t (${targetColumns}) SELECT ${join(node.columns.map(valueOf))} FROM pg_sync_new AS src${matching}
        ON CONFLICT (${join(node.key.map(ident))}) ${onConflict};
      WHEN 'delete' THEN
        ${deleteWhere(keysOf('pg_sync_old'))};
      WHEN 'vanished' THEN
        -- Keys an update moved away from (or whose row stopped matching) are gone here, so gone there.
        ${deleteWhere(sql`${keysOf('pg_sync_old')} EXCEPT ${keysOf('pg_sync_new')}`)};
    END CASE;`,
  )}
  PERFORM pg_catalog.set_config(${origin}, COALESCE(started_at, ''), true);
  RETURN NULL;
END
`)}`;

  // Every source column and expression, and every target column, must exist: evaluate them once.
  const check = sql`DO ${dollarQuoted(sql`
DECLARE
  saved_path text := pg_catalog.current_setting('search_path');
BEGIN
  -- The trigger's own search_path, restored after: later statements keep the caller's.
  PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
  PERFORM ${join(node.columns.map(valueOf))} FROM (SELECT (NULL::${table}).*) AS src;
  PERFORM ${targetColumns} FROM ${target} WHERE false;
  PERFORM pg_catalog.set_config('search_path', saved_path, true);
EXCEPTION WHEN OTHERS THEN
  ${raiseException({
    errcode: sql`SQLSTATE`,
    message: formatted('pg-sync-link: cannot set up the sync of %s: %s', what, sql`SQLERRM`),
    hint: 'Every column named in the sync must exist in its table; expressions see the changed row as src and must schema-qualify any table they read.',
  })}
END
`)}`;

  const call = (mode: string) => sql`EXECUTE FUNCTION ${qualified(objects.function)}(${literal(mode)})`;
  const up: Fragment[] = [uniqueKeyCheck(node.target, node.key), check, fn];
  if (node.where !== undefined)
    up.splice(
      2,
      0,
      rowFilterCheck(node.table, node.where, `sync of ${displayName(node.table)} to ${displayName(node.target)}`),
    );
  const down: Fragment[] = [];
  // Every trigger fires always (replica sessions too), and one more refuses TRUNCATE.
  const add = (event: Parameters<typeof objects.trigger>[0], definition: Fragment) => {
    up.push(
      sql`CREATE TRIGGER ${ident(objects.trigger(event))} ${definition}`,
      fireAlways(node.table, objects.trigger(event)),
    );
    down.unshift(sql`DROP TRIGGER ${ident(objects.trigger(event))} ON ${table}`);
  };
  add('truncate', truncateTrigger(node.table, objects.function));
  if (node.operations.includes('insert'))
    add(
      'insert',
      sql`AFTER INSERT ON ${table} REFERENCING NEW TABLE AS pg_sync_new FOR EACH STATEMENT ${call('upsert')}`,
    );
  if (node.operations.includes('update')) {
    // Moved-away keys exclude the statement's new keys, so the order of the two does not matter.
    add(
      'update',
      sql`AFTER UPDATE ON ${table} REFERENCING NEW TABLE AS pg_sync_new FOR EACH STATEMENT ${call('upsert')}`,
    );
    add(
      'update_key',
      sql`AFTER UPDATE ON ${table} REFERENCING OLD TABLE AS pg_sync_old NEW TABLE AS pg_sync_new FOR EACH STATEMENT ${call('vanished')}`,
    );
  }
  if (node.operations.includes('delete'))
    add(
      'delete',
      sql`AFTER DELETE ON ${table} REFERENCING OLD TABLE AS pg_sync_old FOR EACH STATEMENT ${call('delete')}`,
    );
  return { up, down: [...down, sql`DROP FUNCTION ${qualified(objects.function)}()`] };
}

/** A sync to a table of the same database in the kind registry (src/kinds/registry.ts). */
export const localSyncKind: KindDefinition<LocalSyncNode> = {
  render: renderLocalSync,
  describe: (node) => `sync ${node.table.name} to ${node.target.schema}.${node.target.name}`,
  identity: (node) =>
    `local sync ${JSON.stringify([node.table.schema, node.table.name, node.target.schema, node.target.name])}`,
  step: (node) => `sync-${node.table.schema}.${node.table.name}-to-${node.target.schema}.${node.target.name}`,
};
