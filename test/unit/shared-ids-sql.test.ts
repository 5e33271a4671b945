import { describe, expect, it } from 'vitest';
import {
  interleavedIdPlan,
  interleavedIds,
  InvalidOptionError,
  previewSql,
  sharedIds,
  sharedIdSource,
} from '../../src/index.js';
import { renderNode } from '../../src/kinds/index.js';

describe('shared ids', () => {
  it('per-row: a nextval view on the owner, a function over it on the other side', () => {
    const source = renderNode(
      sharedIdSource({ table: 'products', column: 'id', strategy: 'per-row', grantTo: 'sync_from_app' }),
    );
    // nextval() checks its caller's privileges: the view calls it through a function with its owner's rights.
    expect(previewSql(source.up[0]!)).toContain(
      `'CREATE FUNCTION public.products__id_nextval() RETURNS bigint LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS '`,
    );
    expect(source.up.slice(1).map(previewSql)).toEqual([
      'REVOKE EXECUTE ON FUNCTION public.products__id_nextval() FROM PUBLIC',
      'CREATE VIEW public.products__id_next AS SELECT public.products__id_nextval() AS next_id',
      // The other side takes an id by an UPDATE ... RETURNING (one round trip) that writes nothing.
      'CREATE FUNCTION public.products__id_next_taker() RETURNS trigger LANGUAGE plpgsql AS $pgsl$BEGIN RETURN OLD; END$pgsl$',
      'CREATE TRIGGER take INSTEAD OF UPDATE ON public.products__id_next FOR EACH ROW EXECUTE FUNCTION public.products__id_next_taker()',
      'GRANT SELECT, UPDATE ON public.products__id_next TO sync_from_app',
      'GRANT EXECUTE ON FUNCTION public.products__id_nextval() TO sync_from_app',
    ]);
    expect(source.down.map(previewSql)).toEqual([
      'DROP VIEW public.products__id_next',
      'DROP FUNCTION public.products__id_next_taker()',
      'DROP FUNCTION public.products__id_nextval()',
    ]);
    const borrower = renderNode(sharedIds({ server: 'legacy', table: 'products', column: 'id', strategy: 'per-row' }));
    expect(previewSql(borrower.up[0]!)).toBe(
      `CREATE FOREIGN TABLE public.products__id_source (next_id bigint) SERVER legacy OPTIONS (schema_name 'public', table_name 'products__id_next')`,
    );
    expect(previewSql(borrower.up[1]!)).toContain(
      'AS $pgsl$UPDATE public.products__id_source SET next_id = NULL RETURNING next_id$pgsl$',
    );
    expect(previewSql(borrower.up[2]!)).toContain(
      'ALTER TABLE public.products ALTER COLUMN id SET DEFAULT public.products__id_next_id();',
    );
  });

  it('block: blocks step by 2 from the base, and the fast path has no SET clause', () => {
    const source = renderNode(
      sharedIdSource({ table: 'products', column: 'id', strategy: 'block', blockSize: 500, blockBase: 1_000_000 }),
    );
    expect(previewSql(source.up[0]!)).toBe(
      'CREATE SEQUENCE public.products__id_blocks AS bigint INCREMENT BY 2 START WITH 2000 MINVALUE 2000',
    );
    const fn = previewSql(
      renderNode(
        sharedIds({
          server: 'legacy',
          table: 'products',
          column: 'id',
          strategy: 'block',
          blockSize: 500,
          blockBase: 1_000_000,
        }),
      ).up[3]!,
    );
    expect(fn).toContain('LANGUAGE plpgsql VOLATILE SECURITY DEFINER\n');
    expect(fn).not.toContain('SET search_path');
    expect(fn).toContain('IF id OPERATOR(pg_catalog./) 500 OPERATOR(pg_catalog.=) pg_catalog.pg_sequence_last_value(');
  });

  it('refuses bad block settings and strategies', () => {
    expect(() =>
      sharedIdSource({ table: 't', column: 'id', strategy: 'block', blockSize: 1000, blockBase: 1500 }),
    ).toThrow(/multiple of blockSize/);
    expect(() => sharedIdSource({ table: 't', column: 'id', strategy: 'sometimes' as never })).toThrow(
      /'per-row' or 'block'/,
    );
    expect(() => sharedIds({ server: 's', table: 't', column: 'id', strategy: 'block', blockSize: 1 })).toThrow(
      InvalidOptionError,
    );
  });

  it('interleave: refuses a slot outside the range and two sides in one slot', () => {
    expect(() => interleavedIds({ table: 't', column: 'id', slot: 2, of: 2 })).toThrow(
      /slot must be a whole number from 0 to 1/,
    );
    expect(() => interleavedIds({ table: 't', column: 'id', slot: 0, of: 1 })).toThrow(
      /of must be a whole number, 2 or more/,
    );
    expect(() => interleavedIdPlan({ table: 't', column: 'id', slots: { app: 1, legacy: 1 } })).toThrow(
      /Sides "app" and "legacy" both take slot 1/,
    );
    const plan = interleavedIdPlan({ table: 't', column: 'id', slots: { app: 0, legacy: 1, reports: 2 } });
    expect(plan.reports).toMatchObject({ slot: 2, of: 3 });
  });
});
