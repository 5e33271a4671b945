import { describe, expect, it } from 'vitest';
import { InvalidOptionError, previewSql, sqlExpression, syncTrigger, tablePair } from '../../src/index.js';
import { hashPlan, TEXT_HASHES } from '../../src/compare/row-hash.js';
import { bucketSums, deleteRows, rowHashes, rowsByKey, sidesOf, upsertRows } from '../../src/compare/side.js';

const mapped = tablePair({
  table: 'products',
  remote: { name: 'items' },
  key: ['item_id'],
  columns: [
    { remote: 'item_id', local: 'id' },
    { remote: 'title', local: 'name' },
    { remote: 'cents', expression: sqlExpression('src.price * 100') },
  ],
});
const { local, remote } = sidesOf(mapped);
const text = TEXT_HASHES({ local });

describe('tablePair', () => {
  it('takes a syncTrigger node as it is, or the same description as plain data, and freezes it', () => {
    const node = syncTrigger({
      server: 'legacy',
      table: { schema: 'shop', name: 'products' },
      remote: { name: 'items' },
      key: ['id'],
      columns: ['id', { remote: 'title', local: 'name' }],
    });
    const fromNode = tablePair(node);
    expect(fromNode).toMatchObject({
      local: { schema: 'shop', name: 'products' },
      remote: { schema: 'public', name: 'items' },
      key: ['id'],
      label: '"shop"."products" -> "public"."items"',
    });
    expect(fromNode.columns).toBe(node.columns);
    expect(Object.isFrozen(fromNode)).toBe(true);
    expect(tablePair({ table: 'products', key: ['id'], columns: ['id'] }).remote).toEqual({
      schema: 'public',
      name: 'products',
    });
  });

  it('refuses what a sync would refuse, with what to fix', () => {
    expect(() => tablePair({ table: 'products', key: [], columns: ['id'] })).toThrow(/needs a key/);
    expect(() => tablePair({ table: 'products', columns: ['id'] } as never)).toThrow(/needs a key/);
    expect(() => tablePair({ table: 'products', key: ['id'], columns: ['id', 'id'] })).toThrow(
      /names remote column "id" twice/,
    );
    expect(() => tablePair({ table: 'products', key: ['id'], columns: ['id'], remote: { nam: 'x' } } as never)).toThrow(
      InvalidOptionError,
    );
  });
});

describe('comparison SQL', () => {
  it('sums buckets of key hashes on each side, through the mapping on the local side', () => {
    expect(
      previewSql(bucketSums(local, text, 14, 0)),
    ).toBe(`SELECT s.h >> 10 AS bucket, count(*)::int8 AS n, sum(s.rh)::text AS sig
FROM (SELECT (((COALESCE(hashtextextended((src.id)::text COLLATE "C", 0), 0)) >> 40) & 16777215)::int4 AS h, (COALESCE(hashtextextended((src.id)::text COLLATE "C", 0), 0) # COALESCE(hashtextextended((src.name)::text COLLATE "C", 1), 1) # COALESCE(hashtextextended(((src.price * 100))::text COLLATE "C", 2), 2)) AS rh FROM public.products AS src) AS s
GROUP BY 1`);
    expect(
      previewSql(bucketSums(remote, text, 20, 14)),
    ).toBe(`SELECT s.h >> 4 AS bucket, count(*)::int8 AS n, sum(s.rh)::text AS sig
FROM (SELECT (((COALESCE(hashtextextended((src.item_id)::text COLLATE "C", 0), 0)) >> 40) & 16777215)::int4 AS h, (COALESCE(hashtextextended((src.item_id)::text COLLATE "C", 0), 0) # COALESCE(hashtextextended((src.title)::text COLLATE "C", 1), 1) # COALESCE(hashtextextended((src.cents)::text COLLATE "C", 2), 2)) AS rh FROM public.items AS src) AS s
WHERE s.h >> 10 = ANY ($1::int4[])
GROUP BY 1`);
    expect(
      previewSql(rowHashes(local, text, 14)),
    ).toBe(`SELECT (src.id)::text AS k0, (COALESCE(hashtextextended((src.id)::text COLLATE "C", 0), 0) # COALESCE(hashtextextended((src.name)::text COLLATE "C", 1), 1) # COALESCE(hashtextextended(((src.price * 100))::text COLLATE "C", 2), 2)) AS rh FROM public.products AS src
WHERE (((COALESCE(hashtextextended((src.id)::text COLLATE "C", 0), 0)) >> 40) & 16777215)::int4 >> 10 = ANY ($1::int4[])`);
    expect(previewSql(rowHashes(local, text, undefined))).not.toContain('WHERE');
  });

  it('hashes a value by value only where both sides store it in a column of the same built-in type', () => {
    const info = (types: Record<string, number>) => ({
      columns: new Map(Object.keys(types).map((name) => [name, 'any'])),
      typeOids: new Map(Object.entries(types)),
      uniqueKeys: [],
    });
    // item_id: int8 on both sides; title: text (by its text form); cents: an expression on the local side.
    const plan = hashPlan(local, remote, [
      info({ id: 20, name: 25, price: 23 }),
      info({ item_id: 20, title: 25, cents: 23 }),
    ]);
    expect(plan).toEqual({ values: [20, undefined, undefined], keys: [20] });
    expect(previewSql(rowHashes(remote, plan, undefined))).toBe(
      `SELECT (src.item_id)::text AS k0, (COALESCE(hashint8extended(src.item_id, 0), 0) # COALESCE(hashtextextended((src.title)::text COLLATE "C", 1), 1) # COALESCE(hashtextextended((src.cents)::text COLLATE "C", 2), 2)) AS rh FROM public.items AS src`,
    );
    // int4 on one side, int8 on the other: both by their text form, which is the same for equal values.
    expect(hashPlan(local, remote, [info({ id: 23 }), info({ item_id: 20 })]).keys).toEqual([undefined]);
  });

  // Column types as the catalog gives them: schema-qualified, without a modifier.
  const types = (entries: Record<string, string>) => ({
    columns: new Map(Object.entries(entries).map(([name, type]) => [name, { schema: 'pg_catalog', name: type }])),
  });
  const remoteTypes = types({ item_id: 'int8', title: 'varchar', cents: 'int4' });

  it('writes only mapped columns, only where they differ, from one text array per column cast to its type', () => {
    expect(
      previewSql(upsertRows(remote, remoteTypes)),
    ).toBe(`INSERT INTO public.items AS t (item_id, title, cents) SELECT w.v0::pg_catalog.int8, w.v1::pg_catalog."varchar", w.v2::pg_catalog.int4 FROM unnest($1::text[], $2::text[], $3::text[]) AS w(v0, v1, v2)
ON CONFLICT (item_id) DO UPDATE SET title = EXCLUDED.title, cents = EXCLUDED.cents
WHERE ROW(t.title::text, t.cents::text) IS DISTINCT FROM ROW(EXCLUDED.title::text, EXCLUDED.cents::text)`);
    expect(previewSql(deleteRows(remote, remoteTypes))).toBe(
      'DELETE FROM public.items AS t USING unnest($1::text[]) AS w(k0) WHERE t.item_id = w.k0::pg_catalog.int8',
    );
    const keyOnly = sidesOf(tablePair({ table: 'codes', key: ['code'], columns: ['code'] })).remote;
    expect(previewSql(upsertRows(keyOnly, types({ code: 'text' })))).toMatch(/ON CONFLICT \(code\) DO NOTHING$/);
  });

  it('reads rows by key as one text array per value, through an index when the key is a column, by text when it is computed', () => {
    expect(previewSql(rowsByKey(local, types({ id: 'int8', name: 'text', price: 'int4' })))).toBe(
      'SELECT array_agg((src.id)::text)::text AS v0, array_agg((src.name)::text)::text AS v1, array_agg(((src.price * 100))::text)::text AS v2 FROM public.products AS src JOIN unnest($1::text[]) AS w(k0) ON src.id = w.k0::pg_catalog.int8',
    );
    const computed = tablePair({
      table: 'codes',
      key: ['code'],
      columns: [{ remote: 'code', expression: sqlExpression(`'P' || src.id`) }],
    });
    expect(previewSql(rowsByKey(sidesOf(computed).local, types({ id: 'int4' })))).toBe(
      `SELECT array_agg((('P' || src.id))::text)::text AS v0 FROM public.codes AS src JOIN unnest($1::text[]) AS w(k0) ON (('P' || src.id))::text = w.k0`,
    );
  });

  it('quotes hostile names in every statement', () => {
    const hostile = sidesOf(
      tablePair({
        table: { schema: 'a"b', name: "x'; DROP TABLE y; --" },
        key: ['select'],
        columns: ['select', 'a b'],
      }),
    ).local;
    const hostilePlan = TEXT_HASHES({ local: hostile });
    const hostileTypes = {
      columns: new Map([
        ['select', { schema: 'my"types', name: 'Key Type' }],
        ['a b', { schema: 'public', name: 'text' }],
      ]),
    };
    for (const statement of [
      bucketSums(hostile, hostilePlan, 4, 0),
      rowHashes(hostile, hostilePlan, 4),
      rowHashes(hostile, hostilePlan, undefined),
      rowsByKey(hostile, hostileTypes),
      upsertRows(hostile, hostileTypes),
      deleteRows(hostile, hostileTypes),
    ]) {
      expect(previewSql(statement)).toContain(`"a""b"."x'; DROP TABLE y; --"`);
      expect(previewSql(statement)).toMatch(/src\."select"|t\."select"|\("select"|, "a b"/);
    }
    for (const statement of [rowsByKey(hostile, hostileTypes), upsertRows(hostile, hostileTypes)]) {
      expect(previewSql(statement)).toContain('::"my""types"."Key Type"');
    }
  });
});
