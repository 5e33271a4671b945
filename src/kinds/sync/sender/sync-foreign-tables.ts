import {
  asLiteral,
  dollarQuoted,
  formatted,
  ident,
  integer,
  join,
  literal,
  qualified,
  quoteIdentifier,
  raiseException,
  sql,
  type Fragment,
  type QualifiedName,
} from '../../../sql/index.js';
import { endpointViews, senderObjects } from '../sync-names.js';
import type { SyncTriggerNode } from '../sync-trigger-node.js';
import { valueOf } from './sync-key-values.js';
import { displayName } from './sync-labels.js';

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
