import { ID_STEM_SEPARATOR, idSuffix } from '../kinds/ids/ids-names.js';
import { NOT_TEMP, type Inventory, type Query, type SequenceUse } from './inventory-types.js';

// The sequences the doctor watches for headroom: those behind shared and interleaved id columns,
// and the block caches of the borrowing side, found by the names the ids family derives
// (src/kinds/ids/ids-names.ts).

/** The borrowing side's id functions, and every sequence that hands out shared or interleaved ids. */
export async function readSequenceUses(query: Query): Promise<Pick<Inventory, 'borrowers' | 'sequences'>> {
  // Borrowing side of shared ids: <table>__<column>_next_id() reading the foreign table <table>__<column>_source.
  const borrowers = await query<{
    schema: string;
    function: string;
    owner: string;
    security_definer: boolean;
    server: string;
    source: string;
    cache: string | null;
  }>(
    `SELECT n.nspname::text AS schema, p.proname::text AS function, pg_catalog.pg_get_userbyid(p.proowner)::text AS owner,
       p.prosecdef AS security_definer, s.srvname::text AS server, c.relname::text AS source,
       (SELECT q.oid::pg_catalog.regclass::text FROM pg_catalog.pg_class q WHERE q.relnamespace = n.oid AND q.relkind = 'S'
          AND q.relname = pg_catalog.left(p.proname, -pg_catalog.length($1::text)) || $3::text) AS cache
     FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
     JOIN pg_catalog.pg_class c ON c.relnamespace = p.pronamespace AND c.relkind = 'f' AND c.relname = pg_catalog.left(p.proname, -pg_catalog.length($1::text)) || $2::text
     JOIN pg_catalog.pg_foreign_table ft ON ft.ftrelid = c.oid JOIN pg_catalog.pg_foreign_server s ON s.oid = ft.ftserver
     WHERE pg_catalog.right(p.proname, pg_catalog.length($1::text)) = $1::text AND p.pronargs = 0 AND ${NOT_TEMP} ORDER BY 1, 2`,
    [idSuffix('next_id'), idSuffix('source'), idSuffix('cache')],
  );
  // Sequences behind table columns (serial or owned), with the shared-id objects next to them.
  const columnSequences = await query<{
    sequence: string;
    oid: number;
    table: string;
    column: string;
    per_row: boolean;
    blocks: number | null;
  }>(
    `SELECT d.objid::pg_catalog.regclass::text AS sequence, d.objid::int8 AS oid, c.oid::pg_catalog.regclass::text AS table, a.attname::text AS column,
       EXISTS (SELECT 1 FROM pg_catalog.pg_class v WHERE v.relnamespace = c.relnamespace AND v.relkind = 'v' AND v.relname = c.relname || $1::text || a.attname || $2::text) AS per_row,
       (SELECT b.oid::int8 FROM pg_catalog.pg_class b WHERE b.relnamespace = c.relnamespace AND b.relkind = 'S' AND b.relname = c.relname || $1::text || a.attname || $3::text) AS blocks
     FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S'
     JOIN pg_catalog.pg_class c ON c.oid = d.refobjid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.refobjsubid
     WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
       AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0 AND ${NOT_TEMP} ORDER BY 1`,
    [ID_STEM_SEPARATOR, idSuffix('next'), idSuffix('blocks')],
  );
  const wanted = new Map<number, Pick<SequenceUse, 'kind' | 'role' | 'column'>>();
  for (const row of columnSequences) {
    const at = `${row.table}.${row.column}`;
    const column = { table: row.table, name: row.column };
    if (row.per_row)
      wanted.set(Number(row.oid), {
        kind: 'per-row',
        role: `the id sequence of ${at}, shared per row through its __next view`,
        column,
      });
    if (row.blocks !== null) {
      wanted.set(Number(row.oid), {
        kind: 'capped',
        role: `the id sequence of ${at}, capped below its first shared block`,
        column,
      });
      wanted.set(Number(row.blocks), {
        kind: 'blocks',
        role: `the block numbers handed out for ${at}`,
        column: undefined,
      });
    }
  }
  const steps = await query<{ oid: number; increment: string }>(
    `SELECT seqrelid::int8 AS oid, seqincrement::text AS increment FROM pg_catalog.pg_sequence`,
  );
  const increments = new Map(steps.map((row) => [Number(row.oid), BigInt(row.increment)]));
  for (const row of columnSequences) {
    const step = increments.get(Number(row.oid)) ?? 1n;
    if (!wanted.has(Number(row.oid)) && (step > 1n || step < -1n)) {
      wanted.set(Number(row.oid), {
        kind: 'interleaved',
        role: `the id sequence of ${row.table}.${row.column}, interleaved (steps by ${step})`,
        column: { table: row.table, name: row.column },
      });
    }
  }
  const cacheNames = borrowers.flatMap((row) => (row.cache === null ? [] : [row.cache]));
  const sequences = await query<{
    oid: number;
    sequence: string;
    data_type: string;
    min: string;
    max: string;
    increment: string;
    start: string;
    last: string | null;
    readable: boolean;
  }>(
    `SELECT s.seqrelid::int8 AS oid, s.seqrelid::pg_catalog.regclass::text AS sequence, pg_catalog.format_type(s.seqtypid, NULL) AS data_type, s.seqmin::text AS min, s.seqmax::text AS max,
       s.seqincrement::text AS increment, s.seqstart::text AS start,
       CASE WHEN pg_catalog.has_sequence_privilege(s.seqrelid, 'SELECT,USAGE') THEN pg_catalog.pg_sequence_last_value(s.seqrelid)::text END AS last,
       pg_catalog.has_sequence_privilege(s.seqrelid, 'SELECT,USAGE') AS readable
     FROM pg_catalog.pg_sequence s
     WHERE s.seqrelid = ANY ($1::pg_catalog.oid[]) OR s.seqrelid::pg_catalog.regclass::text = ANY ($2::text[]) ORDER BY 2`,
    [[...wanted.keys()], cacheNames],
  );
  return {
    borrowers: borrowers.map((row) => ({
      schema: row.schema,
      function: row.function,
      owner: row.owner,
      securityDefiner: row.security_definer,
      server: row.server,
      source: row.source,
    })),
    sequences: sequences.map((row) => ({
      sequence: row.sequence,
      ...(wanted.get(Number(row.oid)) ?? {
        kind: 'cache' as const,
        role: `the block cache of shared ids (${row.sequence})`,
        column: undefined,
      }),
      dataType: row.data_type,
      min: BigInt(row.min),
      max: BigInt(row.max),
      increment: BigInt(row.increment),
      start: BigInt(row.start),
      last: row.last === null ? null : BigInt(row.last),
      readable: row.readable,
    })),
  };
}
