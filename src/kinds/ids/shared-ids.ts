import { createHash } from 'node:crypto';
import { checkObject } from '../../spec/object.js';
import {
  checkIdentifier,
  checkQualifiedName,
  dollarQuoted,
  ident,
  integer,
  literal,
  qualified,
  regclass,
  sql,
  type QualifiedName,
} from '../../sql/index.js';
import type { KindDefinition } from '../kind.js';
import type { Rendered } from '../rendered.js';
import { withSchema } from '../sync/sync-names.js';
import { switchDefault } from './id-default.js';
import { idObject } from './ids-names.js';
import { checkBlocks, checkStrategy, idsIdentity, idsStep, type IdTable, type SharedIdStrategy } from './id-options.js';

// The other side: its column's default becomes a function that takes ids from the owner.

/** What sharedIds() takes: the borrowing side's column, and where the owning side is. */
export interface SharedIdsOptions {
  /** The link to the owning side. */
  readonly server: string;
  /** The table that borrows ids, on this side; schema default public. */
  readonly table: string | QualifiedName;
  /** Its id column; its default becomes the function that takes ids from the owner. */
  readonly column: string;
  /** The owning side's table and column; default the same names, schema public. */
  readonly remote?: {
    /** The owning side's schema (default public). */
    readonly schema?: string;
    /** The owning side's table (default this table's name). */
    readonly table?: string;
    /** The owning side's column (default this column's name). */
    readonly column?: string;
  };
  /** `per-row` or `block`: must equal the owner's sharedIdSource(). */
  readonly strategy: SharedIdStrategy;
  /** block: must equal the owner's (default 1000). */
  readonly blockSize?: number;
  /** block: must equal the owner's (default 10^12). */
  readonly blockBase?: number;
}

/** A checked shared id column, as sharedIds() builds it. */
export interface SharedIdsNode {
  /** Tells the node kinds apart. */
  readonly kind: 'shared-ids';
  /** The link to the owning side. */
  readonly server: string;
  /** The table that borrows ids, schema given. */
  readonly table: IdTable;
  /** Its id column. */
  readonly column: string;
  /** The owning side's table and column. */
  readonly remote: {
    /** The owning side's table. */
    readonly table: IdTable;
    /** The owning side's column. */
    readonly column: string;
  };
  /** One id per row or blocks of ids. */
  readonly strategy: SharedIdStrategy;
  /** Ids per block. */
  readonly blockSize: number;
  /** The first id of the blocks. */
  readonly blockBase: number;
}

/**
 * The side that borrows ids: its column's default takes them from the owning side, through the
 * link `server`. The owner needs a matching sharedIdSource().
 *
 * @example
 * sharedIds({ server: 'legacy', table: 'orders', column: 'id', strategy: 'block' })
 * // CREATE FOREIGN TABLE public.orders__id_source (block bigint) SERVER legacy OPTIONS (schema_name 'public', table_name 'orders__id_block');
 * // CREATE SEQUENCE public.orders__id_cache AS bigint;
 * // CREATE SEQUENCE public.orders__id_current AS bigint MINVALUE -1 START WITH -1;
 * // CREATE FUNCTION public.orders__id_next_id() RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER ...
 * // DO $pgsl$ ... ALTER TABLE public.orders ALTER COLUMN id SET DEFAULT public.orders__id_next_id(); ... $pgsl$;
 */
export function sharedIds(input: SharedIdsOptions): SharedIdsNode {
  const spec = checkObject(input, 'sharedIds', [
    'server',
    'table',
    'column',
    'remote',
    'strategy',
    'blockSize',
    'blockBase',
  ]);
  const server = checkIdentifier(spec.server, 'foreign server');
  const table = withSchema(checkQualifiedName(spec.table, 'shared id table'));
  const column = checkIdentifier(spec.column, 'shared id column');
  const path = `shared ids of ${table.schema}.${table.name}.${column}`;
  const remote =
    spec.remote === undefined ? {} : checkObject(spec.remote, `${path}.remote`, ['schema', 'table', 'column']);
  return Object.freeze({
    kind: 'shared-ids',
    server,
    table,
    column,
    remote: Object.freeze({
      table: {
        schema: remote.schema === undefined ? 'public' : checkIdentifier(remote.schema, 'remote schema'),
        name: remote.table === undefined ? table.name : checkIdentifier(remote.table, 'remote table'),
      },
      column: remote.column === undefined ? column : checkIdentifier(remote.column, 'remote column'),
    }),
    strategy: checkStrategy(spec.strategy, path),
    ...checkBlocks(spec, path),
  });
}

function lockKey(node: SharedIdsNode): number {
  // A session-level advisory lock serialises refills of this column's block (never held long).
  return createHash('sha256')
    .update(JSON.stringify(['pg-sync-link ids', node.table, node.column]))
    .digest()
    .readInt32BE(0);
}

export function renderSharedIds(node: SharedIdsNode): Rendered {
  const fn = idObject(node.table, node.column, 'next_id');
  const source = idObject(node.table, node.column, 'source');
  const remoteView = idObject(node.remote.table, node.remote.column, node.strategy === 'per-row' ? 'next' : 'block');
  const options = sql`SERVER ${ident(node.server)} OPTIONS (schema_name ${literal(remoteView.schema)}, table_name ${literal(remoteView.name)})`;
  const { up: useIt, down: restore } = switchDefault(node.table, node.column, fn);
  if (node.strategy === 'per-row') {
    return {
      up: [
        sql`CREATE FOREIGN TABLE ${qualified(source)} (next_id bigint) ${options}`,
        sql`CREATE FUNCTION ${qualified(fn)}() RETURNS bigint LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS ${dollarQuoted(sql`UPDATE ${qualified(source)} SET next_id = NULL RETURNING next_id`)}`,
        useIt,
      ],
      down: [restore, sql`DROP FUNCTION ${qualified(fn)}()`, sql`DROP FOREIGN TABLE ${qualified(source)}`],
    };
  }
  const cache = idObject(node.table, node.column, 'cache');
  const current = idObject(node.table, node.column, 'current');
  const size = integer(node.blockSize);
  const key = integer(lockKey(node));
  const nextval = sql`pg_catalog.nextval(${regclass(cache)})`;
  const currentBlock = sql`pg_catalog.pg_sequence_last_value(${regclass(current)})`;
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
      -- One round trip: the UPDATE is sent as it is, and the owner's view returns a new block.
      UPDATE ${qualified(source)} AS s SET block = NULL RETURNING s.block INTO STRICT block;
      -- The cache first, then the block number: an id taken in between fails the test above.
      PERFORM pg_catalog.setval(${regclass(cache)}, block OPERATOR(pg_catalog.*) ${size}, false);
      PERFORM pg_catalog.setval(${regclass(current)}, block, true);
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
    down: [
      restore,
      sql`DROP FUNCTION ${qualified(fn)}()`,
      sql`DROP SEQUENCE ${qualified(current)}`,
      sql`DROP SEQUENCE ${qualified(cache)}`,
      sql`DROP FOREIGN TABLE ${qualified(source)}`,
    ],
  };
}

/** Shared ids in the kind registry (src/kinds/registry.ts). */
export const sharedIdsKind: KindDefinition<SharedIdsNode> = {
  render: renderSharedIds,
  describe: (node) => `${node.strategy} ids ${node.table.name}.${node.column} from ${node.server}`,
  identity: idsIdentity,
  step: idsStep,
};

export type { SharedIdStrategy } from './id-options.js';
export {
  sharedIdSource,
  renderSharedIdSource,
  sharedIdSourceKind,
  type SharedIdSourceNode,
  type SharedIdSourceOptions,
} from './id-source.js';
export {
  interleavedIds,
  interleavedIdPlan,
  renderInterleavedIds,
  interleavedIdsKind,
  type InterleavedIdsNode,
  type InterleavedIdsOptions,
} from './interleaved-ids.js';
