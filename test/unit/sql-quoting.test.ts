import { describe, expect, it } from 'vitest';
import { InvalidIdentifierError, InvalidLiteralError, InvalidOptionError } from '../../src/index.js';
import {
  checkTypeName,
  dollarQuoted,
  ident,
  literal,
  previewSql,
  qualified,
  quoteIdentifier,
  quoteLiteral,
  quoteQualifiedName,
  sql,
} from '../../src/sql/index.js';

describe('quoteIdentifier', () => {
  it('leaves plain lower-case names bare and quotes everything else', () => {
    expect(quoteIdentifier('products')).toBe('products');
    expect(quoteIdentifier('name')).toBe('name'); // an unreserved keyword is a valid bare name
    expect(quoteIdentifier('Products')).toBe('"Products"');
    expect(quoteIdentifier('order')).toBe('"order"');
    expect(quoteIdentifier('user')).toBe('"user"');
    expect(quoteIdentifier('1st')).toBe('"1st"');
    expect(quoteIdentifier('with space')).toBe('"with space"');
    expect(quoteIdentifier('ünïcødé')).toBe('"ünïcødé"');
  });

  it('doubles embedded double quotes and keeps everything else verbatim', () => {
    expect(quoteIdentifier('a"b')).toBe('"a""b"');
    expect(quoteIdentifier('"; DROP TABLE x; --')).toBe('"""; DROP TABLE x; --"');
    expect(quoteIdentifier("o'brien")).toBe(`"o'brien"`);
    expect(quoteIdentifier('back\\slash')).toBe('"back\\slash"');
    expect(quoteIdentifier('$$')).toBe('"$$"');
  });

  it('accepts 63 bytes and refuses 64, counting UTF-8 bytes', () => {
    expect(quoteIdentifier('a'.repeat(63))).toBe('a'.repeat(63));
    expect(() => quoteIdentifier('a'.repeat(64))).toThrow(InvalidIdentifierError);
    expect(quoteIdentifier('✓'.repeat(21))).toBe(`"${'✓'.repeat(21)}"`);
    expect(() => quoteIdentifier(`${'✓'.repeat(21)}a`)).toThrow(/64 bytes long; PostgreSQL keeps only 63 bytes/);
  });

  it('refuses empty names, NUL and other control characters with a typed error', () => {
    expect(() => quoteIdentifier('')).toThrow(/is empty/);
    for (const bad of ['a\u0000b', 'line\nbreak', 'tab\there', 'cr\r', 'del\u007f']) {
      expect(() => quoteIdentifier(bad)).toThrow(InvalidIdentifierError);
    }
  });

  it('never splits a qualified name on dots', () => {
    expect(quoteQualifiedName({ schema: 'my.schema', name: 'a.b' })).toBe('"my.schema"."a.b"');
    expect(quoteQualifiedName({ name: 'products' })).toBe('products');
  });
});

describe('quoteLiteral', () => {
  it('doubles single quotes', () => {
    expect(quoteLiteral("it's")).toBe("'it''s'");
    expect(quoteLiteral("'); DROP TABLE x; --")).toBe("'''); DROP TABLE x; --'");
  });

  it('uses E-strings with doubled backslashes so standard_conforming_strings cannot matter', () => {
    expect(quoteLiteral('C:\\path')).toBe("E'C:\\\\path'");
    expect(quoteLiteral("\\'; DROP")).toBe("E'\\\\''; DROP'");
  });

  it('keeps $$, newlines and unicode verbatim and refuses NUL', () => {
    expect(quoteLiteral('$$\nünï')).toBe("'$$\nünï'");
    expect(() => quoteLiteral('a\u0000b')).toThrow(InvalidLiteralError);
  });
});

describe('sql template', () => {
  it('only takes fragments', () => {
    const name = 'products; DROP TABLE x';
    expect(() => sql`DROP TABLE ${name as never}`).toThrow(TypeError);
    expect(previewSql(sql`DROP TABLE ${ident(name)}`)).toBe('DROP TABLE "products; DROP TABLE x"');
    expect(previewSql(sql`SELECT ${literal(42)}, ${literal(true)} FROM ${qualified({ schema: 'S', name: 't' })}`)).toBe(
      `SELECT '42', 'true' FROM "S".t`,
    );
  });

  it('dollar-quotes with a tag the body does not contain, even as a suffix', () => {
    expect(previewSql(dollarQuoted(sql`BEGIN END`))).toBe('$pgsl$BEGIN END$pgsl$');
    expect(previewSql(dollarQuoted(sql`SELECT ${literal('$pgsl$')}`))).toBe("$pgsl1$SELECT '$pgsl$'$pgsl1$");
    // A body ending in "$pgsl" would close early on "$pgsl" + "$pgsl$"'s first characters.
    expect(previewSql(dollarQuoted(sql`SELECT ${literal('x')} -- $pgsl`))).toBe("$pgsl1$SELECT 'x' -- $pgsl$pgsl1$");
  });
});

describe('checkTypeName', () => {
  it.each([
    ['bigint', 'bigint'],
    ['VARCHAR(255)', 'varchar(255)'],
    ['character varying ( 255 )', 'character varying(255)'],
    ['numeric(10, 2)', 'numeric(10,2)'],
    ['timestamp without time zone', 'timestamp without time zone'],
    ['timestamp(6) with time zone', 'timestamp(6) with time zone'],
    ['double precision', 'double precision'],
    ['text[]', 'text[]'],
    ['int[3][]', 'int[3][]'],
    ['interval day to second', 'interval day to second'],
    ['public.citext', 'public.citext'],
  ])('accepts %s', (input, normal) => {
    expect(checkTypeName(input, 'type')).toBe(normal);
  });

  it.each([
    'text not null',
    'int; DROP TABLE x',
    "text DEFAULT 'x'",
    'int)',
    'integer with time zone',
    'interval drop table',
    '"Quoted"',
    '',
    'text -- comment',
    'text collate "C"',
  ])('refuses %j', (input) => {
    expect(() => checkTypeName(input, 'type')).toThrow(InvalidOptionError);
  });
});
