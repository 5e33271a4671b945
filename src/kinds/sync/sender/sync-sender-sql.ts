import { asLiteral, dollarQuoted, expression, ident, integer, join, literal, qualified, sql, type Fragment, type QualifiedName } from '../../../sql/index.js';
import type { SyncColumn } from '../sync-columns.js';
import { endpointViews, senderObjects } from '../sync-names.js';
import type { IgnoreWrites, SyncTriggerNode } from '../sync-trigger.js';

// SQL shared by both timings of the sending side.

/** The value sent for a remote column, over the changed local row `src`. */
export function valueOf(column: SyncColumn): Fragment {
  return 'column' in column.source ? sql`src.${ident(column.source.column)}` : expression(column.source.expression);
}

export function keyColumnsOf(node: SyncTriggerNode): readonly SyncColumn[] {
  return node.key.map((name) => node.columns.find((column) => column.remote === name)!);
}

export function displayName(name: QualifiedName): string {
  return `${name.schema ? `${name.schema}.` : ''}${name.name}`;
}

/**
 * Creates the two foreign tables over the remote endpoint views. Their column types are those
 * of the values sent (local columns or expressions), found at migration time: evaluating every
 * value once over a row of NULLs also proves each column and expression exists and is valid
 * under the trigger's search_path, before anything is synced.
 */
export function createForeignTables(node: SyncTriggerNode): Fragment {
  const objects = senderObjects(node.table, node.server);
  const views = endpointViews(node.remote, node.key, node.columns.map((column) => column.remote));
  const keyIndexes = node.key.map((name) => node.columns.findIndex((column) => column.remote === name) + 1);
  const definition = (table: QualifiedName, view: QualifiedName, indexes: readonly number[]) => {
    const columns = indexes.map((index, position) => {
      const column = node.columns[index - 1]!;
      return sql`${asLiteral(sql`${position === 0 ? sql`` : sql`, `}${ident(column.remote)} `)} || types[${integer(index)}]`;
    });
    return sql`EXECUTE ${asLiteral(sql`CREATE FOREIGN TABLE ${qualified(table)} (`)}
    || ${join(columns, '\n    || ')}
    || ${asLiteral(sql`) SERVER ${ident(node.server)} OPTIONS (schema_name ${literal(node.remote.schema)}, table_name ${literal(view.name)}, batch_size ${literal(node.batchSize)})`)};`;
  };
  const typeOf = join(node.columns.map((column) => sql`pg_catalog.pg_typeof(${valueOf(column)})::text`), ',\n      ');
  const setUp = literal(`sync of ${displayName(node.table)} to server ${node.server}`);
  return sql`DO ${dollarQuoted(sql`
DECLARE
  saved_path text := pg_catalog.current_setting('search_path');
  types text[];
BEGIN
  BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    SELECT ARRAY[
        ${typeOf}]
      INTO types FROM (SELECT (NULL::${qualified(node.table)}).*) AS src;
    PERFORM pg_catalog.set_config('search_path', saved_path, true);
  EXCEPTION WHEN OTHERS THEN
    RAISE EXCEPTION USING ERRCODE = SQLSTATE,
      MESSAGE = pg_catalog.format('pg-sync-link: cannot set up the %s: %s', ${setUp}, SQLERRM),
      HINT = 'Every column named in the sync must exist in the local table; expressions see the changed row as src and must schema-qualify any table they read.';
  END;
  ${definition(objects.upsertTable, views.upsert, node.columns.map((_, index) => index + 1))}
  ${definition(objects.deleteTable, views.delete, keyIndexes)}
  -- Reach both endpoint views now, so a missing endpoint fails this migration, not a write.
  BEGIN
    PERFORM pg_catalog.count(*) FROM ${qualified(objects.upsertTable)};
    PERFORM pg_catalog.count(*) FROM ${qualified(objects.deleteTable)};
  EXCEPTION WHEN undefined_table THEN
    RAISE EXCEPTION USING ERRCODE = 'undefined_table',
      MESSAGE = pg_catalog.format('pg-sync-link: cannot set up the %s: the server has no sync endpoint for %s with key (%s) and exactly the columns (%s): %s', ${setUp}, ${literal(`${node.remote.schema}.${node.remote.name}`)}, ${literal(node.key.join(', '))}, ${literal(node.columns.map((column) => column.remote).join(', '))}, SQLERRM),
      HINT = 'Install syncEndpoint({ table, key, columns }) with the same key and columns in the other database first.';
  END;
END
`)}`;
}

/** Returns early from a trigger for writes made by the other side's sync. */
export function ignoreGuard(ignore: IgnoreWrites | undefined): Fragment {
  if (ignore === undefined) return sql``;
  const test =
    'role' in ignore
      ? sql`SESSION_USER = ${literal(ignore.role)}`
      : sql`pg_catalog.current_setting('application_name') = ${literal(ignore.applicationName)}`;
  return sql`
  -- Written by the other side's sync: sending it back would loop.
  IF ${test} THEN
    RETURN NULL;
  END IF;`;
}

/**
 * The trigger function: `body` is a CASE over TG_ARGV[0]. It runs as its owner (so one user
 * mapping serves every role that writes the table) with a fixed search_path, skips the other
 * side's writes, and turns any failure into an error that names the sync.
 */
export function senderFunction(node: SyncTriggerNode, body: Fragment): Fragment {
  const objects = senderObjects(node.table, node.server);
  const what = literal(`${displayName(node.table)} to ${node.remote.schema}.${node.remote.name} on server ${node.server}`);
  return sql`CREATE FUNCTION ${qualified(objects.function)}() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS ${dollarQuoted(sql`
DECLARE
  failure_detail text;
  failure_hint text;
BEGIN${ignoreGuard(node.ignoreWritesBy)}
  CASE TG_ARGV[0]${body}
  END CASE;
  RETURN NULL;
${failedSync(what, 'The local statement was rolled back with it; nothing was written on either side.')}
END
`)}`;
}

/**
 * A sync trigger function's exception handler: the error, raised again with the sync named
 * (`what`), keeping its SQLSTATE, detail and hint. Needs failure_detail and failure_hint declared.
 */
export function failedSync(what: Fragment, defaultHint: string): Fragment {
  return sql`EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS failure_detail = PG_EXCEPTION_DETAIL, failure_hint = PG_EXCEPTION_HINT;
  RAISE EXCEPTION USING ERRCODE = SQLSTATE,
    MESSAGE = pg_catalog.format('pg-sync-link: %s not synced from %s: %s', TG_OP, ${what}, SQLERRM),
    DETAIL = failure_detail,
    HINT = COALESCE(failure_hint, ${literal(defaultHint)});`;
}

/** Collects CREATE TRIGGER statements and their DROPs in reverse order. */
export function triggerList(node: SyncTriggerNode) {
  const objects = senderObjects(node.table, node.server);
  const up: Fragment[] = [];
  const down: Fragment[] = [];
  return {
    up,
    down,
    add(event: Parameters<typeof objects.trigger>[0], definition: Fragment, constraint = false) {
      const name = ident(objects.trigger(event));
      up.push(sql`CREATE ${constraint ? sql`CONSTRAINT ` : sql``}TRIGGER ${name} ${definition}`);
      down.unshift(sql`DROP TRIGGER ${name} ON ${qualified(node.table)}`);
    },
  };
}
