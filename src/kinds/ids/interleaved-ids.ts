import { InvalidOptionError } from '../../errors.js';
import { checkObject } from '../../spec/object.js';
import {
  checkIdentifier,
  checkQualifiedName,
  dollarQuoted,
  formatted,
  integer,
  literal,
  quoteQualifiedName,
  raiseException,
  sql,
  type QualifiedName,
} from '../../sql/index.js';
import type { KindDefinition } from '../kind.js';
import type { Rendered } from '../rendered.js';
import { withSchema } from '../sync/sync-names.js';
import { findSequence, idsIdentity, idsStep, type IdTable } from './id-options.js';

// Interleaving: no link. Each side's own sequence steps by `of`, starting in its `slot`.

/** What interleavedIds() takes: one side's slot among the sides that share an id column, with no link. */
export interface InterleavedIdsOptions {
  /** The table whose ids are interleaved, on this side; schema default public. */
  readonly table: string | QualifiedName;
  /** Its id column; the sequence behind it (pg_get_serial_sequence) must step by 1. */
  readonly column: string;
  /** This side's residue: its ids are slot, slot + of, slot + 2·of... (0 ≤ slot < of). */
  readonly slot: number;
  /** How many sides share the id space (2 for two databases). */
  readonly of: number;
  /** The largest id in use on any other side: this side restarts above it (and above its own); default 0. */
  readonly startAbove?: number;
}

/** A checked interleaving, as interleavedIds() builds it. */
export interface InterleavedIdsNode {
  /** Tells the node kinds apart. */
  readonly kind: 'interleaved-ids';
  /** The table whose ids are interleaved, schema given. */
  readonly table: IdTable;
  /** Its id column. */
  readonly column: string;
  /** This side's residue. */
  readonly slot: number;
  /** How many sides share the id space. */
  readonly of: number;
  /** The sequence restarts above this id (and above its own). */
  readonly startAbove: number;
}

/**
 * Interleaved ids, no link needed: this side's sequence steps by `of` and restarts at the first
 * id of its `slot` above every id in use, so sides never collide. Down sets the step back to 1.
 * interleavedIdPlan() builds every side's at once.
 *
 * @example
 * interleavedIds({ table: 'orders', column: 'id', slot: 0, of: 2 })
 * // DO $pgsl$ ...
 * //   EXECUTE pg_catalog.format('SELECT GREATEST((SELECT last_value FROM %s), (SELECT max(%I) FROM %s), %s)', sequence_name, 'id', 'public.orders', '0') INTO reached;
 * //   restart := reached + 1 + pg_catalog.mod(0 - pg_catalog.mod(reached + 1, 2) + 2, 2);
 * //   EXECUTE pg_catalog.format('ALTER SEQUENCE %s INCREMENT BY %s RESTART WITH %s', sequence_name, '2', restart);
 * // ... $pgsl$;
 */
export function interleavedIds(input: InterleavedIdsOptions): InterleavedIdsNode {
  const spec = checkObject(input, 'interleavedIds', ['table', 'column', 'slot', 'of', 'startAbove']);
  const table = withSchema(checkQualifiedName(spec.table, 'shared id table'));
  const column = checkIdentifier(spec.column, 'shared id column');
  const path = `interleaved ids of ${table.schema}.${table.name}.${column}`;
  const of = spec.of;
  const slot = spec.slot;
  if (typeof of !== 'number' || !Number.isSafeInteger(of) || of < 2)
    throw new InvalidOptionError(`${path}.of must be a whole number, 2 or more.`, `${path}.of`);
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
 *
 * @example
 * const ids = interleavedIdPlan({ table: 'orders', column: 'id', slots: { app: 0, legacy: 1 } });
 * // ids.app is interleavedIds({ table: 'orders', column: 'id', slot: 0, of: 2 }), for app's migration:
 * //   EXECUTE pg_catalog.format('ALTER SEQUENCE %s INCREMENT BY %s RESTART WITH %s', sequence_name, '2', restart);
 */
export function interleavedIdPlan(options: {
  /** The table whose ids are interleaved (the same on every side); schema default public. */
  readonly table: string | QualifiedName;
  /** Its id column. */
  readonly column: string;
  /** Each side's slot, by a name of your choosing: `{ app: 0, legacy: 1 }`; `of` is their count. */
  readonly slots: Readonly<Record<string, number>>;
  /** The largest id in use on any side: every side restarts above it; default 0. */
  readonly startAbove?: number;
}): Record<string, InterleavedIdsNode> {
  const entries = Object.entries(options.slots);
  const of = entries.length;
  const taken = new Map<number, string>();
  for (const [side, slot] of entries) {
    const other = taken.get(slot);
    if (other !== undefined)
      throw new InvalidOptionError(
        `Sides "${other}" and "${side}" both take slot ${slot}: their ids would collide.`,
        'slots',
      );
    taken.set(slot, side);
  }
  return Object.fromEntries(
    entries.map(([side, slot]) => [
      side,
      interleavedIds({ table: options.table, column: options.column, slot, of, startAbove: options.startAbove }),
    ]),
  );
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
    ${raiseException({
      errcode: 'undefined_object',
      message: formatted('pg-sync-link: %s has no sequence default to interleave', what),
    })}
  END IF;
  SELECT s.seqincrement INTO step FROM pg_catalog.pg_sequence s WHERE s.seqrelid = sequence_name::pg_catalog.regclass;
  IF step <> 1 THEN
    ${raiseException({
      errcode: 'invalid_parameter_value',
      message: formatted(
        'pg-sync-link: the sequence of %s steps by %s already; interleaving needs a sequence that steps by 1',
        what,
        sql`step`,
      ),
    })}
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

/** Interleaved ids in the kind registry (src/kinds/registry.ts). */
export const interleavedIdsKind: KindDefinition<InterleavedIdsNode> = {
  render: renderInterleavedIds,
  describe: (node) => `interleaved ids ${node.table.name}.${node.column} (${node.slot} of ${node.of})`,
  identity: idsIdentity,
  step: idsStep,
};
