import { checkObject } from '../../spec/object.js';
import {
  asLiteral,
  checkIdentifier,
  checkQualifiedName,
  dollarQuoted,
  formatted,
  ident,
  integer,
  literal,
  qualified,
  quoteQualifiedName,
  raiseException,
  regclass,
  sql,
  type Fragment,
  type QualifiedName,
} from '../../sql/index.js';
import type { KindDefinition } from '../kind.js';
import type { Rendered } from '../rendered.js';
import { withSchema } from '../sync/sync-names.js';
import { idObject } from './ids-names.js';
import {
  checkBlocks,
  checkStrategy,
  findSequence,
  idsIdentity,
  idsStep,
  type IdTable,
  type SharedIdStrategy,
} from './id-options.js';

// The owning side: its sequence stays the one its own inserts use.

/** What sharedIdSource() takes: the owning side's table and column whose ids both databases share. */
export interface SharedIdSourceOptions {
  /** The table whose ids are shared, on this (the owning) side; schema default public. */
  readonly table: string | QualifiedName;
  /** Its id column; its default must be a sequence's nextval (serial), not an identity. */
  readonly column: string;
  /** `per-row`: the other side reads each id through the link; `block`: it takes blocks of `blockSize` ids. */
  readonly strategy: SharedIdStrategy;
  /** The role the other side connects as; it gets SELECT and UPDATE (which writes nothing) on the view it takes ids from. */
  readonly grantTo?: string;
  /** block: ids per block (default 1000). */
  readonly blockSize?: number;
  /** block: blocks start at this id; this side's own sequence is capped below it (default 10^12). */
  readonly blockBase?: number;
}

/** A checked shared id source, as sharedIdSource() builds it. */
export interface SharedIdSourceNode {
  /** Tells the node kinds apart. */
  readonly kind: 'shared-id-source';
  /** The table whose ids are shared, schema given. */
  readonly table: IdTable;
  /** Its id column. */
  readonly column: string;
  /** One id per row or blocks of ids. */
  readonly strategy: SharedIdStrategy;
  /** The role that may read ids, if any. */
  readonly grantTo: string | undefined;
  /** Ids per block. */
  readonly blockSize: number;
  /** The first id of the blocks. */
  readonly blockBase: number;
}

/**
 * The owning side of shared ids: a view the other side reads ids (or blocks of ids) from.
 * Pair it with sharedIds() on the other side.
 *
 * @example
 * sharedIdSource({ table: 'orders', column: 'id', strategy: 'block', grantTo: 'sync_from_app' })
 * // CREATE SEQUENCE public.orders__id_blocks AS bigint INCREMENT BY 2 START WITH 1000000000 MINVALUE 1000000000;
 * // DO $pgsl$ ... ALTER SEQUENCE %s MAXVALUE %s ... $pgsl$;  (caps this side's own sequence below blockBase)
 * // CREATE VIEW public.orders__id_block AS SELECT pg_catalog.nextval('public.orders__id_blocks'::pg_catalog.regclass) AS block;
 * // CREATE FUNCTION public.orders__id_block_taker() RETURNS trigger LANGUAGE plpgsql AS $pgsl$BEGIN RETURN OLD; END$pgsl$;
 * // CREATE TRIGGER take INSTEAD OF UPDATE ON public.orders__id_block FOR EACH ROW EXECUTE FUNCTION public.orders__id_block_taker();
 * // GRANT SELECT, UPDATE ON public.orders__id_block TO sync_from_app;
 * // GRANT USAGE ON SEQUENCE public.orders__id_blocks TO sync_from_app;
 */
export function sharedIdSource(input: SharedIdSourceOptions): SharedIdSourceNode {
  const spec = checkObject(input, 'sharedIdSource', [
    'table',
    'column',
    'strategy',
    'grantTo',
    'blockSize',
    'blockBase',
  ]);
  const table = withSchema(checkQualifiedName(spec.table, 'shared id table'));
  const column = checkIdentifier(spec.column, 'shared id column');
  const path = `shared ids of ${table.schema}.${table.name}.${column}`;
  return Object.freeze({
    kind: 'shared-id-source',
    table,
    column,
    strategy: checkStrategy(spec.strategy, path),
    grantTo: spec.grantTo === undefined ? undefined : checkIdentifier(spec.grantTo, 'shared id role'),
    ...checkBlocks(spec, path),
  });
}

const PREVIOUS_MAX = 'pg-sync-link: previous maxvalue ';

/**
 * Lets the other side take the view's row with `UPDATE ... RETURNING`, which changes nothing
 * (the trigger returns the row as read). postgres_fdw sends such an UPDATE as one statement,
 * where a SELECT costs three round trips (DECLARE, FETCH and CLOSE of a cursor).
 */
function takenByUpdate(view: IdTable, taker: IdTable): { up: Fragment[]; down: Fragment } {
  return {
    up: [
      sql`CREATE FUNCTION ${qualified(taker)}() RETURNS trigger LANGUAGE plpgsql AS ${dollarQuoted(sql`BEGIN RETURN OLD; END`)}`,
      sql`CREATE TRIGGER take INSTEAD OF UPDATE ON ${qualified(view)} FOR EACH ROW EXECUTE FUNCTION ${qualified(taker)}()`,
    ],
    down: sql`DROP FUNCTION ${qualified(taker)}()`,
  };
}

export function renderSharedIdSource(node: SharedIdSourceNode): Rendered {
  const what = literal(`${node.table.schema}.${node.table.name}.${node.column}`);
  const noSequence = raiseException({
    errcode: 'undefined_object',
    message: formatted('pg-sync-link: %s has no sequence default to share', what),
    hint: 'Give the column a serial/sequence default first (identity columns are not supported).',
  });
  if (node.strategy === 'per-row') {
    const view = idObject(node.table, node.column, 'next');
    // nextval() checks the privileges of its caller, not the view's owner: the view calls it
    // through a function with its owner's rights, so the reading role needs no right on the
    // table's sequence (which would also let it read currval, and outlive down in its ACL).
    const fn = idObject(node.table, node.column, 'nextval');
    const taken = takenByUpdate(view, idObject(node.table, node.column, 'next_taker'));
    const up = [
      sql`DO ${dollarQuoted(sql`
DECLARE
  sequence_name text := ${findSequence(node.table, node.column)};
  -- The sequence is known only now: the function's body names it, quoted once as a literal.
  body text;
BEGIN
  IF sequence_name IS NULL THEN
    ${noSequence}
  END IF;
  body := pg_catalog.format('SELECT pg_catalog.nextval(%L::pg_catalog.regclass)', sequence_name);
  EXECUTE ${asLiteral(sql`CREATE FUNCTION ${qualified(fn)}() RETURNS bigint LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS `)}
    || pg_catalog.quote_literal(body);
END
`)}`,
      sql`REVOKE EXECUTE ON FUNCTION ${qualified(fn)}() FROM PUBLIC`,
      sql`CREATE VIEW ${qualified(view)} AS SELECT ${qualified(fn)}() AS next_id`,
      ...taken.up,
      ...(node.grantTo
        ? [
            sql`GRANT SELECT, UPDATE ON ${qualified(view)} TO ${ident(node.grantTo)}`,
            sql`GRANT EXECUTE ON FUNCTION ${qualified(fn)}() TO ${ident(node.grantTo)}`,
          ]
        : []),
    ];
    return { up, down: [sql`DROP VIEW ${qualified(view)}`, taken.down, sql`DROP FUNCTION ${qualified(fn)}()`] };
  }
  const blocks = idObject(node.table, node.column, 'blocks');
  const view = idObject(node.table, node.column, 'block');
  const taken = takenByUpdate(view, idObject(node.table, node.column, 'block_taker'));
  const up = [
    // Blocks of one side must never be adjacent (see the next-id function), so block numbers
    // step by 2. This side's own sequence is capped below the first block.
    sql`CREATE SEQUENCE ${qualified(blocks)} AS bigint INCREMENT BY 2 START WITH ${integer(node.blockBase / node.blockSize)} MINVALUE ${integer(node.blockBase / node.blockSize)}`,
    sql`DO ${dollarQuoted(sql`
DECLARE
  sequence_name text := ${findSequence(node.table, node.column)};
  reached bigint;
  previous_max bigint;
BEGIN
  IF sequence_name IS NULL THEN
    ${noSequence}
  END IF;
  EXECUTE pg_catalog.format('SELECT GREATEST((SELECT last_value FROM %s), (SELECT max(%I) FROM %s))', sequence_name, ${literal(node.column)}, ${literal(quoteQualifiedName(node.table))}) INTO reached;
  IF reached >= ${integer(node.blockBase)} THEN
    ${raiseException({
      errcode: 'invalid_parameter_value',
      message: formatted(
        'pg-sync-link: %s is already at %s, past the first shared block at %s',
        what,
        sql`reached`,
        literal(String(node.blockBase)),
      ),
      hint: 'Choose a blockBase above every id in use on either side.',
    })}
  END IF;
  SELECT s.seqmax INTO previous_max FROM pg_catalog.pg_sequence s WHERE s.seqrelid = sequence_name::pg_catalog.regclass;
  -- Down restores this maximum; it is kept with the blocks sequence, which down drops.
  EXECUTE pg_catalog.format('COMMENT ON SEQUENCE %s IS %L', ${literal(quoteQualifiedName(blocks))}, ${literal(PREVIOUS_MAX)} || previous_max);
  EXECUTE pg_catalog.format('ALTER SEQUENCE %s MAXVALUE %s', sequence_name, ${literal(String(node.blockBase - 1))});
END
`)}`,
    sql`CREATE VIEW ${qualified(view)} AS SELECT pg_catalog.nextval(${regclass(blocks)}) AS block`,
    ...taken.up,
    // The blocks sequence's grant goes with it when down drops it.
    ...(node.grantTo
      ? [
          sql`GRANT SELECT, UPDATE ON ${qualified(view)} TO ${ident(node.grantTo)}`,
          sql`GRANT USAGE ON SEQUENCE ${qualified(blocks)} TO ${ident(node.grantTo)}`,
        ]
      : []),
  ];
  const down = [
    sql`DROP VIEW ${qualified(view)}`,
    taken.down,
    sql`DO ${dollarQuoted(sql`
DECLARE
  sequence_name text := ${findSequence(node.table, node.column)};
  previous_max text := pg_catalog.substr(pg_catalog.obj_description(${regclass(blocks)}, 'pg_class'), ${integer(PREVIOUS_MAX.length + 1)});
BEGIN
  EXECUTE pg_catalog.format('ALTER SEQUENCE %s MAXVALUE %s', sequence_name, previous_max);
END
`)}`,
    sql`DROP SEQUENCE ${qualified(blocks)}`,
  ];
  return { up, down };
}

/** A shared id source in the kind registry (src/kinds/registry.ts). */
export const sharedIdSourceKind: KindDefinition<SharedIdSourceNode> = {
  render: renderSharedIdSource,
  describe: (node) => `${node.strategy} id source ${node.table.name}.${node.column}`,
  identity: idsIdentity,
  step: idsStep,
};
