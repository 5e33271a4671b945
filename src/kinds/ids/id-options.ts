import { InvalidOptionError } from '../../errors.js';
import { literal, quoteQualifiedName, sql, type Fragment, type QualifiedName } from '../../sql/index.js';

// Ids that both databases allocate without ever colliding. Three strategies:
//   per-row   the owning side's sequence, read through the link for every id (the seeds' view);
//   block     the owning side hands out blocks of ids; each side allocates inside its block at
//             about the cost of a local nextval;
//   interleave no link at all: each side's sequence steps by `of` from its own `slot`.

/** How a borrowing side gets ids from the owner: one per row, or blocks of them. */
export type SharedIdStrategy = 'per-row' | 'block';

/** A table of shared ids, schema always given. */
export type IdTable = QualifiedName & {
  /** The schema, always given. */
  readonly schema: string;
};

const DEFAULT_BLOCK_SIZE = 1000;
const DEFAULT_BLOCK_BASE = 1_000_000_000_000;

/** The strategy option, checked. */
export function checkStrategy(value: unknown, path: string): SharedIdStrategy {
  if (value === 'per-row' || value === 'block') return value;
  throw new InvalidOptionError(
    `${path}.strategy must be 'per-row' or 'block', got ${JSON.stringify(value)}.`,
    `${path}.strategy`,
  );
}

/** The blockSize and blockBase options, checked (defaults: 1000 and 10^12). */
export function checkBlocks(spec: Record<string, unknown>, path: string): { blockSize: number; blockBase: number } {
  const blockSize = spec.blockSize ?? DEFAULT_BLOCK_SIZE;
  const blockBase = spec.blockBase ?? DEFAULT_BLOCK_BASE;
  if (typeof blockSize !== 'number' || !Number.isSafeInteger(blockSize) || blockSize < 2) {
    throw new InvalidOptionError(`${path}.blockSize must be a whole number, 2 or more.`, `${path}.blockSize`);
  }
  if (
    typeof blockBase !== 'number' ||
    !Number.isSafeInteger(blockBase) ||
    blockBase <= 0 ||
    blockBase % blockSize !== 0
  ) {
    throw new InvalidOptionError(
      `${path}.blockBase must be a positive whole multiple of blockSize (${blockSize}).`,
      `${path}.blockBase`,
    );
  }
  return { blockSize, blockBase };
}

/** The sequence behind the column's default, found when the migration runs. */
export function findSequence(table: IdTable, column: string): Fragment {
  return sql`pg_catalog.pg_get_serial_sequence(${literal(`${quoteQualifiedName(table)}`)}, ${literal(column)})`;
}

type IdsNode = { readonly kind: string; readonly table: IdTable; readonly column: string };

/** The identity of an id kind's node: one per kind and column. */
export const idsIdentity = (node: IdsNode) =>
  `ids ${JSON.stringify([node.kind, node.table.schema, node.table.name, node.column])}`;

/** The step of an id kind's node: the id kinds of one column share it, named after the column. */
export const idsStep = (node: IdsNode) => `ids-${node.table.schema}.${node.table.name}.${node.column}`;
