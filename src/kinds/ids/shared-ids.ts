import { createHash } from 'node:crypto';
import { InvalidOptionError } from '../../errors.js';
import { checkObject } from '../../spec/object.js';
import { asLiteral, checkIdentifier, checkQualifiedName, dollarQuoted, ident, integer, literal, qualified, quoteQualifiedName, sql, type Fragment, type QualifiedName } from '../../sql/index.js';
import type { Rendered } from '../rendered.js';
import { withSchema } from '../sync/sync-names.js';

// Ids that both databases allocate without ever colliding. Three strategies:
//   per-row   the owning side's sequence, read through the link for every id (the seeds' view);
//   block     the owning side hands out blocks of ids; each side allocates inside its block at
//             about the cost of a local nextval;
//   interleave no link at all: each side's sequence steps by `of` from its own `slot`.

export type SharedIdStrategy = 'per-row' | 'block';

type Table = QualifiedName & { readonly schema: string };

const DEFAULT_BLOCK_SIZE = 1000;
const DEFAULT_BLOCK_BASE = 1_000_000_000_000;

function objectName(table: Table, column: string, suffix: string): Table {
  return { schema: table.schema, name: checkIdentifier(`${table.name}__${column}_${suffix}`, 'shared id object') };
}

function checkStrategy(value: unknown, path: string): SharedIdStrategy {
  if (value === 'per-row' || value === 'block') return value;
  throw new InvalidOptionError(`${path}.strategy must be 'per-row' or 'block', got ${JSON.stringify(value)}.`, `${path}.strategy`);
}

function checkBlocks(spec: Record<string, unknown>, path: string): { blockSize: number; blockBase: number } {
  const blockSize = spec.blockSize ?? DEFAULT_BLOCK_SIZE;
  const blockBase = spec.blockBase ?? DEFAULT_BLOCK_BASE;
  if (typeof blockSize !== 'number' || !Number.isSafeInteger(blockSize) || blockSize < 2) {
    throw new InvalidOptionError(`${path}.blockSize must be a whole number, 2 or more.`, `${path}.blockSize`);
  }
  if (typeof blockBase !== 'number' || !Number.isSafeInteger(blockBase) || blockBase <= 0 || blockBase % blockSize !== 0) {
    throw new InvalidOptionError(`${path}.blockBase must be a positive whole multiple of blockSize (${blockSize}).`, `${path}.blockBase`);
  }
  return { blockSize, blockBase };
}

// ---------------------------------------------------------------------------------------------
// The owning side: its sequence stays the one its own inserts use.

export interface SharedIdSourceOptions {
  readonly table: string | QualifiedName;
  readonly column: string;
  readonly strategy: SharedIdStrategy;
  /** The role the other side connects as; it gets SELECT on the view it reads ids from. */
  readonly grantTo?: string;
  /** block: ids per block (default 1000). */
  readonly blockSize?: number;
  /** block: blocks start at this id; this side's own sequence is capped below it (default 10^12). */
  readonly blockBase?: number;
}

export interface SharedIdSourceNode {
  readonly kind: 'shared-id-source';
  readonly table: Table;
  readonly column: string;
  readonly strategy: SharedIdStrategy;
  readonly grantTo: string | undefined;
  readonly blockSize: number;
  readonly blockBase: number;
}

/** The owning side of shared ids: a view the other side reads ids (or blocks of ids) from. */
export function sharedIdSource(input: SharedIdSourceOptions): SharedIdSourceNode {
  const spec = checkObject(input, 'sharedIdSource', ['table', 'column', 'strategy', 'grantTo', 'blockSize', 'blockBase']);
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

/** The sequence behind the column's default, found when the migration runs. */
function findSequence(table: Table, column: string): Fragment {
  return sql`pg_catalog.pg_get_serial_sequence(${literal(`${quoteQualifiedName(table)}`)}, ${literal(column)})`;
}

const PREVIOUS_MAX = 'pg-sync-link: previous maxvalue ';

export function renderSharedIdSource(node: SharedIdSourceNode): Rendered {
  const what = literal(`${node.table.schema}.${node.table.name}.${node.column}`);
  const noSequence = sql`RAISE EXCEPTION USING ERRCODE = 'undefined_object',
      MESSAGE = pg_catalog.format('pg-sync-link: %s has no sequence default to share', ${what}),
      HINT = 'Give the column a serial/sequence default first (identity columns are not supported).';`;
  if (node.strategy === 'per-row') {
    const view = objectName(node.table, node.column, 'next');
    // nextval() checks the privileges of its caller, not the view's owner: the view calls it
    // through a function with its owner's rights, so the reading role needs no right on the
    // table's sequence (which would also let it read currval, and outlive down in its ACL).
    const fn = objectName(node.table, node.column, 'nextval');
    const up = [
      sql`DO ${dollarQuoted(sql`
DECLARE
  sequence_name text := ${findSequence(node.table, node.column)};
BEGIN
  IF sequence_name IS NULL THEN
    ${noSequence}
  END IF;
  EXECUTE ${asLiteral(sql`CREATE FUNCTION ${qualified(fn)}() RETURNS bigint LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS `)}
    || pg_catalog.quote_literal('SELECT pg_catalog.nextval(' || pg_catalog.quote_literal(sequence_name) || '::pg_catalog.regclass)');
END
`)}`,
      sql`REVOKE EXECUTE ON FUNCTION ${qualified(fn)}() FROM PUBLIC`,
      sql`CREATE VIEW ${qualified(view)} AS SELECT ${qualified(fn)}() AS next_id`,
      ...(node.grantTo ? [sql`GRANT SELECT ON ${qualified(view)} TO ${ident(node.grantTo)}`, sql`GRANT EXECUTE ON FUNCTION ${qualified(fn)}() TO ${ident(node.grantTo)}`] : []),
    ];
    return { up, down: [sql`DROP VIEW ${qualified(view)}`, sql`DROP FUNCTION ${qualified(fn)}()`] };
  }
  const blocks = objectName(node.table, node.column, 'blocks');
  const view = objectName(node.table, node.column, 'block');
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
    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
      MESSAGE = pg_catalog.format('pg-sync-link: %s is already at %s, past the first shared block at %s', ${what}, reached, ${literal(String(node.blockBase))}),
      HINT = 'Choose a blockBase above every id in use on either side.';
  END IF;
  SELECT s.seqmax INTO previous_max FROM pg_catalog.pg_sequence s WHERE s.seqrelid = sequence_name::pg_catalog.regclass;
  -- Down restores this maximum; it is kept with the blocks sequence, which down drops.
  EXECUTE pg_catalog.format('COMMENT ON SEQUENCE %s IS %L', ${literal(quoteQualifiedName(blocks))}, ${literal(PREVIOUS_MAX)} || previous_max);
  EXECUTE pg_catalog.format('ALTER SEQUENCE %s MAXVALUE %s', sequence_name, ${literal(String(node.blockBase - 1))});
END
`)}`,
    sql`CREATE VIEW ${qualified(view)} AS SELECT pg_catalog.nextval(${literal(quoteQualifiedName(blocks))}::pg_catalog.regclass) AS block`,
    // The blocks sequence's grant goes with it when down drops it.
    ...(node.grantTo ? [sql`GRANT SELECT ON ${qualified(view)} TO ${ident(node.grantTo)}`, sql`GRANT USAGE ON SEQUENCE ${qualified(blocks)} TO ${ident(node.grantTo)}`] : []),
  ];
  const down = [
    sql`DROP VIEW ${qualified(view)}`,
    sql`DO ${dollarQuoted(sql`
DECLARE
  sequence_name text := ${findSequence(node.table, node.column)};
  previous_max text := pg_catalog.substr(pg_catalog.obj_description(${literal(quoteQualifiedName(blocks))}::pg_catalog.regclass, 'pg_class'), ${integer(PREVIOUS_MAX.length + 1)});
BEGIN
  EXECUTE pg_catalog.format('ALTER SEQUENCE %s MAXVALUE %s', sequence_name, previous_max);
END
`)}`,
    sql`DROP SEQUENCE ${qualified(blocks)}`,
  ];
  return { up, down };
}

// ---------------------------------------------------------------------------------------------
// The other side: its column's default becomes a function that takes ids from the owner.

export interface SharedIdsOptions {
  /** The link to the owning side. */
  readonly server: string;
  readonly table: string | QualifiedName;
  readonly column: string;
  /** The owning side's table and column; default the same names, schema public. */
  readonly remote?: { readonly schema?: string; readonly table?: string; readonly column?: string };
  readonly strategy: SharedIdStrategy;
  /** block: must equal the owner's. */
  readonly blockSize?: number;
  readonly blockBase?: number;
}

export interface SharedIdsNode {
  readonly kind: 'shared-ids';
  readonly server: string;
  readonly table: Table;
  readonly column: string;
  readonly remote: { readonly table: Table; readonly column: string };
  readonly strategy: SharedIdStrategy;
  readonly blockSize: number;
  readonly blockBase: number;
}

/** The side that borrows ids: its column's default takes them from the owning side. */
export function sharedIds(input: SharedIdsOptions): SharedIdsNode {
  const spec = checkObject(input, 'sharedIds', ['server', 'table', 'column', 'remote', 'strategy', 'blockSize', 'blockBase']);
  const server = checkIdentifier(spec.server, 'foreign server');
  const table = withSchema(checkQualifiedName(spec.table, 'shared id table'));
  const column = checkIdentifier(spec.column, 'shared id column');
  const path = `shared ids of ${table.schema}.${table.name}.${column}`;
  const remote = spec.remote === undefined ? {} : checkObject(spec.remote, `${path}.remote`, ['schema', 'table', 'column']);
  return Object.freeze({
    kind: 'shared-ids',
    server,
    table,
    column,
    remote: Object.freeze({
      table: { schema: remote.schema === undefined ? 'public' : checkIdentifier(remote.schema, 'remote schema'), name: remote.table === undefined ? table.name : checkIdentifier(remote.table, 'remote table') },
      column: remote.column === undefined ? column : checkIdentifier(remote.column, 'remote column'),
    }),
    strategy: checkStrategy(spec.strategy, path),
    ...checkBlocks(spec, path),
  });
}

const PREVIOUS_DEFAULT = 'pg-sync-link: previous default: ';

/**
 * Switches the column's default to `fn()`, keeping the previous default (as PostgreSQL prints
 * it with search_path = pg_catalog, so fully qualified) in the function's comment for down.
 */
function switchDefault(table: Table, column: string, fn: Table): { up: Fragment; down: Fragment } {
  const what = literal(`${table.schema}.${table.name}.${column}`);
  const up = sql`DO ${dollarQuoted(sql`
DECLARE
  identity "char";
  previous text;
BEGIN
  PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
  SELECT a.attidentity, pg_catalog.pg_get_expr(d.adbin, d.adrelid) INTO identity, previous
    FROM pg_catalog.pg_attribute a LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attrelid = ${literal(quoteQualifiedName(table))}::pg_catalog.regclass AND a.attname = ${literal(column)} AND NOT a.attisdropped;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'undefined_column', MESSAGE = pg_catalog.format('pg-sync-link: column %s does not exist', ${what});
  END IF;
  IF identity <> '' THEN
    RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
      MESSAGE = pg_catalog.format('pg-sync-link: %s is an identity column, whose ids cannot come from elsewhere', ${what}),
      HINT = 'Drop the identity (ALTER TABLE ... ALTER COLUMN ... DROP IDENTITY) and give the column a plain default first.';
  END IF;
  EXECUTE pg_catalog.format('COMMENT ON FUNCTION %s() IS %L', ${literal(quoteQualifiedName(fn))}, ${literal(PREVIOUS_DEFAULT)} || COALESCE(previous, ''));
  ALTER TABLE ${qualified(table)} ALTER COLUMN ${ident(column)} SET DEFAULT ${qualified(fn)}();
END
`)}`;
  const down = sql`DO ${dollarQuoted(sql`
DECLARE
  previous text := pg_catalog.substr(pg_catalog.obj_description(${literal(`${quoteQualifiedName(fn)}()`)}::pg_catalog.regprocedure, 'pg_proc'), ${integer(PREVIOUS_DEFAULT.length + 1)});
BEGIN
  PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
  IF previous = '' THEN
    ALTER TABLE ${qualified(table)} ALTER COLUMN ${ident(column)} DROP DEFAULT;
  ELSE
    EXECUTE ${asLiteral(sql`ALTER TABLE ${qualified(table)} ALTER COLUMN ${ident(column)} SET DEFAULT `)} || previous;
  END IF;
END
`)}`;
  return { up, down };
}

function lockKey(node: SharedIdsNode): number {
  // A session-level advisory lock serialises refills of this column's block (never held long).
  return createHash('sha256').update(JSON.stringify(['pg-sync-link ids', node.table, node.column])).digest().readInt32BE(0);
}

export function renderSharedIds(node: SharedIdsNode): Rendered {
  const fn = objectName(node.table, node.column, 'next_id');
  const source = objectName(node.table, node.column, 'source');
  const remoteView = objectName(node.remote.table, node.remote.column, node.strategy === 'per-row' ? 'next' : 'block');
  const options = sql`SERVER ${ident(node.server)} OPTIONS (schema_name ${literal(remoteView.schema)}, table_name ${literal(remoteView.name)})`;
  const { up: useIt, down: restore } = switchDefault(node.table, node.column, fn);
  if (node.strategy === 'per-row') {
    return {
      up: [
        sql`CREATE FOREIGN TABLE ${qualified(source)} (next_id bigint) ${options}`,
        sql`CREATE FUNCTION ${qualified(fn)}() RETURNS bigint LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS ${dollarQuoted(sql`SELECT next_id FROM ${qualified(source)}`)}`,
        useIt,
      ],
      down: [restore, sql`DROP FUNCTION ${qualified(fn)}()`, sql`DROP FOREIGN TABLE ${qualified(source)}`],
    };
  }
  const cache = objectName(node.table, node.column, 'cache');
  const current = objectName(node.table, node.column, 'current');
  const size = integer(node.blockSize);
  const key = integer(lockKey(node));
  const nextval = sql`pg_catalog.nextval(${literal(quoteQualifiedName(cache))}::pg_catalog.regclass)`;
  const currentBlock = sql`pg_catalog.pg_sequence_last_value(${literal(quoteQualifiedName(current))}::pg_catalog.regclass)`;
  const blockOf = sql`id OPERATOR(pg_catalog./) ${size}`;
  return {
    up: [
      sql`CREATE FOREIGN TABLE ${qualified(source)} (block bigint) ${options}`,
      sql`CREATE SEQUENCE ${qualified(cache)} AS bigint`,
      sql`CREATE SEQUENCE ${qualified(current)} AS bigint MINVALUE -1 START WITH -1`,
      // This runs for every insert, so it has no SET clause (saving and restoring a setting per
      // call would double its cost): every name and operator in it is schema-qualified instead.
      sql`CREATE FUNCTION ${qualified(fn)}() RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  AS ${dollarQuoted(sql`
DECLARE
  id bigint := ${nextval};
  block bigint;
BEGIN
  -- An id is ours while it lies in the current block. Blocks of one side are never adjacent,
  -- so an id that ran past the end of the last block never passes this test.
  IF ${blockOf} OPERATOR(pg_catalog.=) ${currentBlock} THEN
    RETURN id;
  END IF;
  PERFORM pg_catalog.pg_advisory_lock(${key});
  BEGIN
    id := ${nextval};
    IF ${currentBlock} IS NULL OR ${blockOf} OPERATOR(pg_catalog.<>) ${currentBlock} THEN
      SELECT s.block INTO STRICT block FROM ${qualified(source)} AS s;
      -- The cache first, then the block number: an id taken in between fails the test above.
      PERFORM pg_catalog.setval(${literal(quoteQualifiedName(cache))}::pg_catalog.regclass, block OPERATOR(pg_catalog.*) ${size}, false);
      PERFORM pg_catalog.setval(${literal(quoteQualifiedName(current))}::pg_catalog.regclass, block, true);
      id := ${nextval};
    END IF;
  EXCEPTION WHEN OTHERS THEN
    PERFORM pg_catalog.pg_advisory_unlock(${key});
    RAISE;
  END;
  PERFORM pg_catalog.pg_advisory_unlock(${key});
  RETURN id;
END
`)}`,
      useIt,
    ],
    down: [restore, sql`DROP FUNCTION ${qualified(fn)}()`, sql`DROP SEQUENCE ${qualified(current)}`, sql`DROP SEQUENCE ${qualified(cache)}`, sql`DROP FOREIGN TABLE ${qualified(source)}`],
  };
}

// ---------------------------------------------------------------------------------------------
// Interleaving: no link. Each side's own sequence steps by `of`, starting in its `slot`.

export interface InterleavedIdsOptions {
  readonly table: string | QualifiedName;
  readonly column: string;
  /** This side's residue: its ids are slot, slot + of, slot + 2·of... (0 ≤ slot < of). */
  readonly slot: number;
  /** How many sides share the id space (2 for two databases). */
  readonly of: number;
  /** The largest id in use on any other side: this side restarts above it (and above its own). */
  readonly startAbove?: number;
}

export interface InterleavedIdsNode {
  readonly kind: 'interleaved-ids';
  readonly table: Table;
  readonly column: string;
  readonly slot: number;
  readonly of: number;
  readonly startAbove: number;
}

export function interleavedIds(input: InterleavedIdsOptions): InterleavedIdsNode {
  const spec = checkObject(input, 'interleavedIds', ['table', 'column', 'slot', 'of', 'startAbove']);
  const table = withSchema(checkQualifiedName(spec.table, 'shared id table'));
  const column = checkIdentifier(spec.column, 'shared id column');
  const path = `interleaved ids of ${table.schema}.${table.name}.${column}`;
  const of = spec.of;
  const slot = spec.slot;
  if (typeof of !== 'number' || !Number.isSafeInteger(of) || of < 2) throw new InvalidOptionError(`${path}.of must be a whole number, 2 or more.`, `${path}.of`);
  if (typeof slot !== 'number' || !Number.isSafeInteger(slot) || slot < 0 || slot >= of) {
    throw new InvalidOptionError(`${path}.slot must be a whole number from 0 to ${of - 1}.`, `${path}.slot`);
  }
  const startAbove = spec.startAbove ?? 0;
  if (typeof startAbove !== 'number' || !Number.isSafeInteger(startAbove) || startAbove < 0) {
    throw new InvalidOptionError(`${path}.startAbove must be a whole number, 0 or more.`, `${path}.startAbove`);
  }
  return Object.freeze({ kind: 'interleaved-ids', table, column, slot, of, startAbove });
}

/**
 * The interleaving of every side at once, so that no two sides share a slot: `{ app: 0, legacy: 1 }`
 * gives app the even ids and legacy the odd ones.
 */
export function interleavedIdPlan(options: {
  readonly table: string | QualifiedName;
  readonly column: string;
  readonly slots: Readonly<Record<string, number>>;
  readonly startAbove?: number;
}): Record<string, InterleavedIdsNode> {
  const entries = Object.entries(options.slots);
  const of = entries.length;
  const taken = new Map<number, string>();
  for (const [side, slot] of entries) {
    const other = taken.get(slot);
    if (other !== undefined) throw new InvalidOptionError(`Sides "${other}" and "${side}" both take slot ${slot}: their ids would collide.`, 'slots');
    taken.set(slot, side);
  }
  return Object.fromEntries(entries.map(([side, slot]) => [side, interleavedIds({ table: options.table, column: options.column, slot, of, startAbove: options.startAbove })]));
}

export function renderInterleavedIds(node: InterleavedIdsNode): Rendered {
  const what = literal(`${node.table.schema}.${node.table.name}.${node.column}`);
  const sequence = findSequence(node.table, node.column);
  return {
    up: [
      sql`DO ${dollarQuoted(sql`
DECLARE
  sequence_name text := ${sequence};
  step bigint;
  reached bigint;
  restart bigint;
BEGIN
  IF sequence_name IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'undefined_object', MESSAGE = pg_catalog.format('pg-sync-link: %s has no sequence default to interleave', ${what});
  END IF;
  SELECT s.seqincrement INTO step FROM pg_catalog.pg_sequence s WHERE s.seqrelid = sequence_name::pg_catalog.regclass;
  IF step <> 1 THEN
    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
      MESSAGE = pg_catalog.format('pg-sync-link: the sequence of %s steps by %s already; interleaving needs a sequence that steps by 1', ${what}, step);
  END IF;
  EXECUTE pg_catalog.format('SELECT GREATEST((SELECT last_value FROM %s), (SELECT max(%I) FROM %s), %s)', sequence_name, ${literal(node.column)}, ${literal(quoteQualifiedName(node.table))}, ${literal(String(node.startAbove))}) INTO reached;
  -- The first id above everything in use on either side that falls in this side's slot.
  restart := reached + 1 + pg_catalog.mod(${integer(node.slot)} - pg_catalog.mod(reached + 1, ${integer(node.of)}) + ${integer(node.of)}, ${integer(node.of)});
  EXECUTE pg_catalog.format('ALTER SEQUENCE %s INCREMENT BY %s RESTART WITH %s', sequence_name, ${literal(String(node.of))}, restart);
END
`)}`,
    ],
    down: [
      sql`DO ${dollarQuoted(sql`
BEGIN
  EXECUTE pg_catalog.format('ALTER SEQUENCE %s INCREMENT BY 1', ${sequence});
END
`)}`,
    ],
  };
}
