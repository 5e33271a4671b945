import { messageOf } from '../spec/guards.js';
import { InvalidOptionError } from '../errors.js';
import type { Session } from '../run/session.js';
import { quoteQualifiedName, sql, type QualifiedName } from '../sql/index.js';
import { rowsOf } from './connection.js';
import { probeRows, type Side } from './side.js';
import type { TablePair } from './table-pair.js';

/** A table's columns and their types, and the column sets of its unique indexes. */
export interface TableInfo {
  /** Each column's type, schema-qualified (no modifier: the column applies it on write), to cast text to. */
  readonly columns: ReadonlyMap<string, QualifiedName>;
  /** Each column's type oid. */
  readonly typeOids: ReadonlyMap<string, number>;
  readonly uniqueKeys: readonly (readonly string[])[];
}

const COLUMNS = sql`SELECT a.attname AS name, t.typname AS type, t.oid::int4 AS oid, n.nspname AS schema
FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`;
const UNIQUE_KEYS = sql`SELECT array_agg(a.attname::text ORDER BY k.n) AS columns
FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL AND k.n <= i.indnkeyatts
GROUP BY i.indexrelid`;

async function tableInfo(session: Session, side: Side): Promise<TableInfo | undefined> {
  const name = quoteQualifiedName(side.table);
  const columns = await rowsOf<{ name: string; type: string; oid: number; schema: string }>(session, COLUMNS, [name]);
  if (columns.length === 0) return undefined;
  const keys = await rowsOf<{ columns: string[] }>(session, UNIQUE_KEYS, [name]);
  return {
    columns: new Map(columns.map((row) => [row.name, { schema: row.schema, name: row.type }])),
    typeOids: new Map(columns.map((row) => [row.name, row.oid])),
    uniqueKeys: keys.map((row) => row.columns),
  };
}

const where = (side: Side, pair: TablePair) =>
  `${JSON.stringify(side.table.schema)}.${JSON.stringify(side.table.name)} on the ${side.which} side (${pair.label})`;

/**
 * Checks that a side's table and every column the pair reads from it exist, and that its
 * expressions evaluate (one row-less read), so a typo fails before anything is read or written.
 */
export async function checkSide(session: Session, side: Side, pair: TablePair): Promise<TableInfo> {
  const info = await tableInfo(session, side);
  if (!info)
    throw new InvalidOptionError(
      `Table ${where(side, pair)} does not exist, or this connection cannot see it. Check the name and the database.`,
      `${side.which}.table`,
    );
  for (const name of new Set(side.stored.filter((entry) => entry !== undefined))) {
    if (!info.columns.has(name)) {
      throw new InvalidOptionError(
        `Table ${where(side, pair)} has no column "${name}". Its columns: ${[...info.columns.keys()].join(', ')}.`,
        `${side.which}.columns`,
      );
    }
  }
  if (side.stored.some((name) => name === undefined)) {
    try {
      await rowsOf(session, probeRows(side));
    } catch (error) {
      throw new InvalidOptionError(
        `A column expression of ${where(side, pair)} does not evaluate: ${messageOf(error)}`,
        `${side.which}.columns`,
      );
    }
  }
  return info;
}

/** The loser of a reconcile must be writable: plain columns, and a unique index on exactly the key. */
export function checkWritable(side: Side, info: TableInfo, pair: TablePair): void {
  const computed = pair.columns.filter((_, index) => side.stored[index] === undefined).map((entry) => entry.remote);
  if (computed.length > 0) {
    throw new InvalidOptionError(
      `Cannot write ${where(side, pair)}: column ${computed.map((name) => `"${name}"`).join(', ')} is computed by an expression there, so its value cannot be written back. Make the ${side.which} side the winner instead.`,
      'winner',
    );
  }
  const key = new Set(side.storedKeys as string[]);
  if (!info.uniqueKeys.some((columns) => columns.length === key.size && columns.every((name) => key.has(name)))) {
    throw new InvalidOptionError(
      `Cannot write ${where(side, pair)}: it has no primary key or unique index on exactly the key (${[...key].join(', ')}); rows are upserted by key.`,
      `${side.which}.key`,
    );
  }
}
