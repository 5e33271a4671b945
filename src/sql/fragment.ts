import type { Deferred } from '../secrets.js';
import { quoteIdentifier, quoteQualifiedName, type QualifiedName } from './identifier.js';
import { quoteLiteral } from './literal.js';
import { checkTypeName } from './type-name.js';
import type { SqlExpression } from './expression.js';

/** A literal whose value is known only when the migration runs. */
export interface DeferredLiteral {
  /** The value: env() or secret(). */
  readonly deferred: Deferred;
  /** Redacted in every printed form and scrubbed from error messages. */
  readonly sensitive: boolean;
  /** Where the value goes, for error messages: `user mapping for server "legacy", option password`. */
  readonly usedFor: string;
  /** Returns a message when the resolved value is unusable; checked before any SQL runs. */
  readonly check?: (value: string) => string | undefined;
}

export type Chunk = string | DeferredLiteral;

const fragmentBrand: unique symbol = Symbol('pg-sync-link.fragment');

/**
 * A piece of SQL whose text parts are trusted (written in this library) and whose values went
 * through quoting here. Builders can only combine fragments, never raw user strings.
 */
export interface Fragment {
  /** Marks a Fragment made by this library's sql tag; a plain object cannot pass for one. */
  readonly [fragmentBrand]: true;
  /** Its parts: trusted SQL text, and literals known only when the migration runs. */
  readonly chunks: readonly Chunk[];
}

function fragment(chunks: readonly Chunk[]): Fragment {
  const merged: Chunk[] = [];
  for (const chunk of chunks) {
    const last = merged.at(-1);
    if (typeof chunk === 'string' && typeof last === 'string') merged[merged.length - 1] = last + chunk;
    else if (chunk !== '') merged.push(chunk);
  }
  return Object.freeze({ [fragmentBrand]: true as const, chunks: Object.freeze(merged) });
}

export function isFragment(value: unknown): value is Fragment {
  return typeof value === 'object' && value !== null && fragmentBrand in value;
}

/**
 * Template tag for SQL: the template text is trusted, every interpolation must be a Fragment
 * (from ident(), literal(), join()...). Passing a plain string is a type error and a runtime error.
 *
 * @example
 * sql`DROP SERVER ${ident(name)}`  // DROP SERVER legacy
 */
export function sql(strings: TemplateStringsArray, ...values: readonly Fragment[]): Fragment {
  const chunks: Chunk[] = [];
  strings.forEach((text, index) => {
    chunks.push(text);
    if (index < values.length) {
      const value = values[index];
      if (!isFragment(value)) throw new TypeError('sql`` interpolations must be fragments (ident, literal, join...).');
      chunks.push(...value.chunks);
    }
  });
  return fragment(chunks);
}

export function ident(name: string): Fragment {
  return fragment([quoteIdentifier(name)]);
}

export function qualified(name: QualifiedName): Fragment {
  return fragment([quoteQualifiedName(name)]);
}

export function literal(value: string | number | boolean): Fragment {
  return fragment([quoteLiteral(String(value))]);
}

/** A column type, written bare once it matches the strict grammar of checkTypeName. */
export function columnType(type: string): Fragment {
  return fragment([checkTypeName(type, 'column type')]);
}

/** A trusted expression, in parentheses so it binds as one operand wherever it is placed. */
export function expression(value: SqlExpression): Fragment {
  return fragment([`(${value.text})`]);
}

/**
 * A fragment's SQL text as a string literal, for PL/pgSQL that builds a statement at run time
 * (EXECUTE). The fragment's values were quoted already, so the literal holds valid SQL.
 */
export function asLiteral(value: Fragment): Fragment {
  const text = value.chunks.map((chunk) => {
    if (typeof chunk !== 'string') throw new TypeError('A fragment with a deferred value cannot become a literal.');
    return chunk;
  });
  return fragment([quoteLiteral(text.join(''))]);
}

/** A whole number written as a numeric constant (array subscripts, LIMIT...). */
export function integer(value: number): Fragment {
  if (!Number.isSafeInteger(value)) throw new TypeError(`integer() takes a whole number, got ${value}.`);
  return fragment([String(value)]);
}

/**
 * SQL text this library rendered earlier (previewSql of a statement with no deferred value) and
 * kept, e.g. the down statements applySyncLink records so that removal undoes exactly what ran.
 */
export function renderedEarlier(text: string): Fragment {
  return fragment([text]);
}

/** True when the statement holds no deferred value, so its preview is exactly what runs. */
export function isFullyRendered(value: Fragment): boolean {
  return value.chunks.every((chunk) => typeof chunk === 'string');
}

export function deferredLiteral(value: DeferredLiteral): Fragment {
  return fragment([Object.freeze({ ...value })]);
}

export function join(parts: readonly Fragment[], separator = ', '): Fragment {
  const chunks: Chunk[] = [];
  parts.forEach((part, index) => {
    if (index > 0) chunks.push(separator);
    chunks.push(...part.chunks);
  });
  return fragment(chunks);
}

export const empty: Fragment = fragment([]);

/**
 * Wraps a PL/pgSQL body in dollar quotes whose tag does not occur in the body, so no value
 * quoted inside the body can end the quoting early.
 */
export function dollarQuoted(body: Fragment): Fragment {
  const text = body.chunks
    .map((chunk) => {
      if (typeof chunk !== 'string') throw new TypeError('A dollar-quoted body cannot hold a deferred value.');
      return chunk;
    })
    .join('');
  return fragment([dollarQuote(text)]);
}

/** `text` between dollar quotes whose tag it does not contain. */
export function dollarQuote(text: string): string {
  let tag = '$pgsl$';
  // The closing tag is the first occurrence of the tag after the opening one, so the body
  // must not contain it, not even as a suffix that runs into the closing tag.
  for (let n = 1; (text + tag).indexOf(tag) !== text.length; n += 1) tag = `$pgsl${n}$`;
  return `${tag}${text}${tag}`;
}
