import { describe, expect, it } from 'vitest';
import { formatted, literal, previewSql, raiseException, regclass, sql } from '../../src/sql/index.js';

describe('regclass', () => {
  it('quotes the name as an identifier, then as a literal, and casts it', () => {
    expect(previewSql(regclass({ schema: 'public', name: 'orders' }))).toBe(`'public.orders'::pg_catalog.regclass`);
    expect(previewSql(regclass({ name: 'orders' }))).toBe(`'orders'::pg_catalog.regclass`);
  });

  it('keeps names that need quoting whole, with both kinds of quote escaped', () => {
    expect(previewSql(regclass({ schema: 'Shop', name: `it's "x"` }))).toBe(
      `'"Shop"."it''s ""x"""'::pg_catalog.regclass`,
    );
  });
});

describe('formatted', () => {
  it('writes the template as a literal and passes the arguments in order', () => {
    expect(previewSql(formatted(`%s isn't %I`, literal('a'), sql`b`))).toBe(
      `pg_catalog.format('%s isn''t %I', 'a', b)`,
    );
    expect(previewSql(formatted('no arguments'))).toBe(`pg_catalog.format('no arguments')`);
  });
});

describe('raiseException', () => {
  it('writes strings as literals and leaves out what is not given', () => {
    expect(previewSql(raiseException({ errcode: 'undefined_object', message: `it's gone` }))).toBe(
      `RAISE EXCEPTION USING ERRCODE = 'undefined_object', MESSAGE = 'it''s gone';`,
    );
  });

  it('takes expressions, so a caught error is raised again with its own SQLSTATE', () => {
    expect(
      previewSql(
        raiseException({
          errcode: sql`SQLSTATE`,
          message: formatted('pg-sync-link: %s', sql`SQLERRM`),
          detail: sql`failure_detail`,
          hint: 'Fix it.',
        }),
      ),
    ).toBe(
      `RAISE EXCEPTION USING ERRCODE = SQLSTATE, MESSAGE = pg_catalog.format('pg-sync-link: %s', SQLERRM), DETAIL = failure_detail, HINT = 'Fix it.';`,
    );
  });
});
