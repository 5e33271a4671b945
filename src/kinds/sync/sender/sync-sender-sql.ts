import { InvalidOptionError } from '../../../errors.js';
import {
  asLiteral,
  dollarQuoted,
  expression,
  formatted,
  ident,
  integer,
  join,
  literal,
  qualified,
  quoteIdentifier,
  quoteQualifiedName,
  raiseException,
  sql,
  type Fragment,
  type QualifiedName,
} from '../../../sql/index.js';
import type { SyncColumn } from '../sync-columns.js';
import { endpointViews, senderObjects } from '../sync-names.js';
import type { IgnoreWrites, SyncTriggerNode } from '../sync-trigger-node.js';
import { fireAlways, refuseTruncate, truncateTrigger } from '../../trigger-guards.js';

// SQL shared by both timings of the sending side.

/** The value sent for a remote column, over the changed local row `src`. */
export function valueOf(column: SyncColumn): Fragment {
  return 'column' in column.source ? sql`src.${ident(column.source.column)}` : expression(column.source.expression);
}

export function keyColumnsOf(node: SyncTriggerNode): readonly SyncColumn[] {
  return node.key.map((name) => node.columns.find((column) => column.remote === name)!);
}

/** The local columns the key comes from, or undefined when a key column is an expression. */
export function localKeyOf(node: SyncTriggerNode): readonly string[] | undefined {
  const names = keyColumnsOf(node).flatMap((column) => ('column' in column.source ? [column.source.column] : []));
  return names.length === node.key.length ? names : undefined;
}

/** The local key of a sync whose timing or delivery needs one (syncTrigger checks it; a node built by hand may not). */
export function requiredLocalKey(node: SyncTriggerNode, needs: string): readonly string[] {
  const names = localKeyOf(node);
  if (names === undefined) {
    throw new InvalidOptionError(
      `sync of "${node.table.name}" to server "${node.server}": with ${needs}, every key column must come from a local column, not an expression.`,
      `sync of "${node.table.name}" to server "${node.server}".key`,
    );
  }
  return names;
}

export function displayName(name: QualifiedName): string {
  // Quoted where SQL would need it, so `public."public.timesheet"` cannot read as another name.
  return quoteQualifiedName(name);
}

/** How messages name a sync's destination: `public.products on server legacy`, names quoted where needed. */
export function destinationLabel(remote: QualifiedName, server: string): string {
  return `${displayName(remote)} on server ${quoteIdentifier(server)}`;
}

/**
 * Creates the two foreign tables over the remote endpoint views. Their column types are those
 * of the values sent (local columns or expressions), found at migration time: evaluating every
 * value once over a row of NULLs also proves each column and expression exists and is valid
 * under the trigger's search_path, before anything is synced.
 */
export function createForeignTables(node: SyncTriggerNode): Fragment {
  const objects = senderObjects(node.table, node.server);
  const views = endpointViews(
    node.remote,
    node.key,
    node.columns.map((column) => column.remote),
  );
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
  const typeOf = join(
    node.columns.map((column) => sql`pg_catalog.pg_typeof(${valueOf(column)})::text`),
    ',\n      ',
  );
  const setUp = literal(`sync of ${displayName(node.table)} to server ${quoteIdentifier(node.server)}`);
  return sql`DO ${dollarQuoted(sql`
DECLARE
  saved_path text := pg_catalog.current_setting('search_path');
  types text[];
  endpoint_at text;
BEGIN
  BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    SELECT ARRAY[
        ${typeOf}]
      INTO types FROM (SELECT (NULL::${qualified(node.table)}).*) AS src;
    PERFORM pg_catalog.set_config('search_path', saved_path, true);
  EXCEPTION WHEN OTHERS THEN
    ${raiseException({
      errcode: sql`SQLSTATE`,
      message: formatted('pg-sync-link: cannot set up the %s: %s', setUp, sql`SQLERRM`),
      hint: 'Every column named in the sync must exist in the local table; expressions see the changed row as src and must schema-qualify any table they read.',
    })}
  END;
  ${definition(
    objects.upsertTable,
    views.upsert,
    node.columns.map((_, index) => index + 1),
  )}
  ${definition(objects.deleteTable, views.delete, keyIndexes)}
  -- Reach both endpoint views now, so a missing endpoint fails this migration, not a write.
  BEGIN
    PERFORM pg_catalog.count(*) FROM ${qualified(objects.upsertTable)};
    PERFORM pg_catalog.count(*) FROM ${qualified(objects.deleteTable)};
  EXCEPTION WHEN undefined_table THEN
    -- Say which database must go first: in a two-way setup each side's endpoint migration
    -- runs before the other side's sync migration.
    SELECT pg_catalog.format('database %s at %s:%s',
        COALESCE(pg_catalog.max(o.option_value) FILTER (WHERE o.option_name = 'dbname'), '(default)'),
        COALESCE(pg_catalog.max(o.option_value) FILTER (WHERE o.option_name IN ('host', 'hostaddr')), 'the default host'),
        COALESCE(pg_catalog.max(o.option_value) FILTER (WHERE o.option_name = 'port'), '5432'))
      INTO endpoint_at
      FROM pg_catalog.pg_foreign_server AS s, pg_catalog.pg_options_to_table(s.srvoptions) AS o
      WHERE s.srvname = ${literal(node.server)};
    ${raiseException({
      errcode: 'undefined_table',
      message: formatted(
        'pg-sync-link: cannot set up the %s: the server has no sync endpoint for %s with key (%s) and exactly the columns (%s): %s. Run the migration with that syncEndpoint on %s (server %s) first, then this migration again.',
        setUp,
        literal(displayName(node.remote)),
        literal(node.key.join(', ')),
        literal(node.columns.map((column) => column.remote).join(', ')),
        sql`SQLERRM`,
        sql`COALESCE(endpoint_at, 'the other database')`,
        literal(quoteIdentifier(node.server)),
      ),
      hint: formatted(
        'On %s, install syncEndpoint({ table: %s, key: %s, columns: %s }) first (with the same key and columns as this sync).',
        sql`COALESCE(endpoint_at, 'the other database')`,
        literal(JSON.stringify(node.remote.schema === 'public' ? node.remote.name : node.remote)),
        literal(JSON.stringify(node.key)),
        literal(JSON.stringify(node.columns.map((column) => column.remote))),
      ),
    })}
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
 * Refuses an `ignoreWritesBy.role` that does not exist here: the guard would never match, and
 * every write the other side's sync makes here would be sent back to it.
 */
export function ignoredRoleCheck(node: SyncTriggerNode): Fragment | undefined {
  if (node.ignoreWritesBy === undefined || !('role' in node.ignoreWritesBy)) return undefined;
  const role = node.ignoreWritesBy.role;
  const what = `sync of ${displayName(node.table)} to server ${node.server}`;
  return sql`DO ${dollarQuoted(sql`
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = ${literal(role)}) THEN
    ${raiseException({
      errcode: 'undefined_object',
      message: `pg-sync-link: the ${what} ignores writes by role ${JSON.stringify(role)}, which does not exist here: the other side's writes would be sent back to it`,
      hint: "ignoreWritesBy.role names the role the other side's user mapping connects to this database as (its user option). Create that role first (syncRole), or correct the name.",
    })}
  END IF;
END
`)}`;
}

/**
 * The trigger function: `body` is a CASE over TG_ARGV[0]. It runs as its owner (so one user
 * mapping serves every role that writes the table) with a fixed search_path, skips the other
 * side's writes, and turns any failure into an error that names the sync.
 */
export function senderFunction(node: SyncTriggerNode, body: Fragment): Fragment {
  const objects = senderObjects(node.table, node.server);
  const what = literal(`${displayName(node.table)} to ${destinationLabel(node.remote, node.server)}`);
  return sql`CREATE FUNCTION ${qualified(objects.function)}() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS ${dollarQuoted(sql`
DECLARE
  failure_detail text;
  failure_hint text;
BEGIN${refuseTruncateOf(node)}${ignoreGuard(node.ignoreWritesBy)}
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
  // WHEN OTHERS does not catch a cancel: a statement_timeout that ends a wait for the other
  // server (frozen, unreachable, or holding a row in a cross-server lock wait) is named here.
  const message = formatted('pg-sync-link: %s not synced from %s: %s', sql`TG_OP`, what, sql`SQLERRM`);
  // The caught error's own hint when it has one, else ours.
  const hintOr = (fallback: string) => sql`COALESCE(NULLIF(failure_hint, ''), ${literal(fallback)})`;
  const again = (detail: Fragment | undefined, hint: Fragment) =>
    raiseException({ errcode: sql`SQLSTATE`, message, detail, hint });
  return sql`EXCEPTION WHEN query_canceled THEN
  ${again(
    undefined,
    literal(
      `The sync waited until this session's statement_timeout: the other server may be frozen or unreachable, or a row there is locked by a writer waiting for one here. Nothing was written on either side; retry the transaction. Give every writing role a statement_timeout and a lock_timeout (ALTER ROLE app SET statement_timeout = '30s'; ALTER ROLE app SET lock_timeout = '5s') so such waits end.`,
    ),
  )}
WHEN connection_exception THEN
  GET STACKED DIAGNOSTICS failure_detail = PG_EXCEPTION_DETAIL, failure_hint = PG_EXCEPTION_HINT;
  ${again(
    sql`failure_detail`,
    hintOr(
      `The other server could not be reached (down, frozen, or wrong connection settings; a timeout here is the link's connect_timeout). Nothing was written on either side; retry the transaction when it is back, or use delivery: 'outbox' to keep writing while it is away.`,
    ),
  )}
WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS failure_detail = PG_EXCEPTION_DETAIL, failure_hint = PG_EXCEPTION_HINT;
  ${again(sql`failure_detail`, hintOr(defaultHint))}`;
}

/** Refuses TRUNCATE of the synced table, naming the sync (first thing in its trigger function). */
export function refuseTruncateOf(node: SyncTriggerNode): Fragment {
  const objects = senderObjects(node.table, node.server);
  return refuseTruncate(
    `sync to ${destinationLabel(node.remote, node.server)}`,
    node.table,
    objects.trigger('truncate'),
  );
}

/**
 * Collects CREATE TRIGGER statements and their DROPs in reverse order. Every trigger fires
 * always (replica sessions too), and one more refuses TRUNCATE.
 */
export function triggerList(node: SyncTriggerNode) {
  const objects = senderObjects(node.table, node.server);
  const up: Fragment[] = [];
  const down: Fragment[] = [];
  const add = (event: Parameters<typeof objects.trigger>[0], definition: Fragment, constraint = false) => {
    const name = objects.trigger(event);
    up.push(
      sql`CREATE ${constraint ? sql`CONSTRAINT ` : sql``}TRIGGER ${ident(name)} ${definition}`,
      fireAlways(node.table, name),
    );
    down.unshift(sql`DROP TRIGGER ${ident(name)} ON ${qualified(node.table)}`);
  };
  add('truncate', truncateTrigger(node.table, objects.function));
  return { up, down, add };
}
