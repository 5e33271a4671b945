import { InvalidOptionError } from '../../errors.js';
import { checkArray, checkObject } from '../../spec/object.js';
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
  regclass,
  sql,
  type Fragment,
  type QualifiedName,
} from '../../sql/index.js';
import type { Rendered } from '../rendered.js';
import { type KindDefinition, nameIdentity } from '../kind.js';
import { endpointViews, withSchema } from './sync-names.js';

/** What syncEndpoint() takes: the table that receives a sync from the other database. */
export interface SyncEndpointOptions {
  /** The table that receives the synced rows, in this database. */
  readonly table: string | QualifiedName;
  /** Its columns that identify a row; a unique index or primary key must cover exactly them. */
  readonly key: readonly string[];
  /** The columns the other side writes (key included). */
  readonly columns: readonly string[];
  /** The role the other side's user mapping connects as: it gets INSERT (and SELECT, on views that are always empty) on the endpoint, nothing else. */
  readonly grantTo?: string;
}

/** A checked sync endpoint, as syncEndpoint() builds it. */
export interface SyncEndpointNode {
  /** Tells the node kinds apart. */
  readonly kind: 'sync-endpoint';
  /** The receiving table, schema given (default public). */
  readonly table: QualifiedName;
  /** Its key columns. */
  readonly key: readonly string[];
  /** The columns the other side writes. */
  readonly columns: readonly string[];
  /** The role given INSERT on the endpoint's views, if any. */
  readonly grantTo: string | undefined;
}

const KEYS = ['table', 'key', 'columns', 'grantTo'] as const;

/**
 * The receiving side of a sync: two views the sender inserts batches into, whose rules turn
 * each batch into one set-based upsert or delete on the table. The rules run with the
 * migration owner's rights, so the sync role needs nothing but INSERT on the two views.
 *
 * @example
 * syncEndpoint({ table: 'products', key: ['id'], columns: ['id', 'name', 'price'], grantTo: 'sync_from_app' })
 * // CREATE VIEW public.products__sync_upsert_f77f776e AS SELECT id, name, price FROM public.products WHERE false;
 * // CREATE RULE sync_upsert AS ON INSERT TO public.products__sync_upsert_f77f776e DO INSTEAD
 * //   INSERT INTO public.products AS target (id, name, price) VALUES (NEW.id, NEW.name, NEW.price)
 * //   ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, price = EXCLUDED.price;
 * // CREATE VIEW public.products__sync_delete_4b88ddfe AS SELECT id FROM public.products WHERE false;
 * // CREATE RULE sync_delete AS ON INSERT TO public.products__sync_delete_4b88ddfe DO INSTEAD
 * //   DELETE FROM public.products AS target WHERE target.id = NEW.id;
 * // GRANT SELECT, INSERT ON public.products__sync_upsert_f77f776e, public.products__sync_delete_4b88ddfe TO sync_from_app;
 */
export function syncEndpoint(input: SyncEndpointOptions): SyncEndpointNode {
  const spec = checkObject(input, 'syncEndpoint', KEYS);
  const table = withSchema(checkQualifiedName(spec.table, 'sync endpoint table'));
  const path = `sync endpoint for "${table.name}"`;
  const columns = checkArray(spec.columns, `${path}.columns`).map((name) => checkIdentifier(name, 'sync column'));
  if (columns.length === 0) throw new InvalidOptionError(`${path} needs at least one column.`, `${path}.columns`);
  if (new Set(columns).size !== columns.length)
    throw new InvalidOptionError(`${path} names a column twice.`, `${path}.columns`);
  const key = checkArray(spec.key, `${path}.key`).map((name) => checkIdentifier(name, 'key column'));
  if (key.length === 0) throw new InvalidOptionError(`${path} needs a key, e.g. ['id'].`, `${path}.key`);
  for (const name of key) {
    if (!columns.includes(name))
      throw new InvalidOptionError(`${path}: key column "${name}" is not among the columns.`, `${path}.key`);
  }
  const grantTo = spec.grantTo === undefined ? undefined : checkIdentifier(spec.grantTo, 'sync role');
  endpointViews(table, key, columns); // refuses table names whose derived view names would be too long
  return Object.freeze({
    kind: 'sync-endpoint',
    table,
    key: Object.freeze(key),
    columns: Object.freeze(columns),
    grantTo,
  });
}

/** ON CONFLICT needs a unique index on exactly the key: say so at migration time, not at the first sync. */
export function uniqueKeyCheck(
  table: QualifiedName,
  key: readonly string[],
  keyName = 'the sync key',
  hint = 'Synced rows are upserted by key; add a primary key or unique index on the key columns.',
): Fragment {
  const tableText = literal(`${table.schema ? `${table.schema}.` : ''}${table.name}`);
  return sql`DO ${dollarQuoted(sql`
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_index i
    WHERE i.indrelid = ${regclass(table)} AND i.indisunique AND i.indpred IS NULL
      AND (SELECT pg_catalog.array_agg(a.attname::text ORDER BY a.attname::text) FROM pg_catalog.pg_attribute a
           WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey))
        = (SELECT pg_catalog.array_agg(k ORDER BY k) FROM pg_catalog.unnest(ARRAY[${join(key.map(literal))}]::text[]) AS k)
  ) THEN
    ${raiseException({
      errcode: 'invalid_object_definition',
      message: formatted(
        'pg-sync-link: table %s has no primary key or unique index on exactly %s (%s)',
        tableText,
        literal(keyName),
        literal(key.join(', ')),
      ),
      hint,
    })}
  END IF;
END
`)}`;
}

export function renderSyncEndpoint(node: SyncEndpointNode): Rendered {
  const views = endpointViews(node.table, node.key, node.columns);
  const target = qualified(node.table);
  const columns = join(node.columns.map(ident));
  const keys = join(node.key.map(ident));
  const values = join(node.columns.map((column) => sql`NEW.${ident(column)}`));
  const others = node.columns.filter((column) => !node.key.includes(column));
  const onConflict =
    others.length === 0
      ? sql`DO NOTHING`
      : sql`DO UPDATE SET ${join(others.map((column) => sql`${ident(column)} = EXCLUDED.${ident(column)}`))}`;
  const matchesKey = join(
    node.key.map((column) => sql`target.${ident(column)} = NEW.${ident(column)}`),
    ' AND ',
  );
  const up = [
    uniqueKeyCheck(node.table, node.key),
    sql`CREATE VIEW ${qualified(views.upsert)} AS SELECT ${columns} FROM ${target} WHERE false`,
    sql`CREATE RULE sync_upsert AS ON INSERT TO ${qualified(views.upsert)} DO INSTEAD
  INSERT INTO ${target} AS target (${columns}) VALUES (${values})
  ON CONFLICT (${keys}) ${onConflict}`,
    sql`CREATE VIEW ${qualified(views.delete)} AS SELECT ${keys} FROM ${target} WHERE false`,
    sql`CREATE RULE sync_delete AS ON INSERT TO ${qualified(views.delete)} DO INSTEAD
  DELETE FROM ${target} AS target WHERE ${matchesKey}`,
    // SELECT only lets the sender check the endpoint is there: the views never hold a row.
    ...(node.grantTo === undefined
      ? []
      : [
          sql`GRANT SELECT, INSERT ON ${qualified(views.upsert)}, ${qualified(views.delete)} TO ${ident(node.grantTo)}`,
        ]),
  ];
  return {
    up,
    // The rules and grants go with their views.
    down: [sql`DROP VIEW ${qualified(views.delete)}`, sql`DROP VIEW ${qualified(views.upsert)}`],
  };
}

/** A sync endpoint in the kind registry (src/kinds/registry.ts). */
export const syncEndpointKind: KindDefinition<SyncEndpointNode> = {
  render: renderSyncEndpoint,
  describe: (node) => `sync endpoint ${node.table.name}`,
  identity: (node) =>
    `endpoint ${nameIdentity(node.table)} ${JSON.stringify([[...node.key].sort(), [...node.columns].sort()])}`,
  step: (node) => `endpoint-${node.table.schema}.${endpointViews(node.table, node.key, node.columns).upsert.name}`,
};
