import { InvalidOptionError } from '../errors.js';

// A column type is SQL text, so it cannot be quoted like a value; it must match this grammar:
// a known multi-word type or a (schema-qualified) name, an optional (n[, m]) modifier,
// WITH/WITHOUT TIME ZONE for time types, INTERVAL fields, and array brackets.
const WORD = '[a-z_][a-z0-9_]*';
const MULTI_WORD = [
  'double precision',
  'character varying',
  'bit varying',
  'national character varying',
  'national character',
];
const INTERVAL_FIELDS = /^(year|month|day|hour|minute|second)( to (month|hour|minute|second))?$/;

const PATTERN = new RegExp(
  `^(?<base>${MULTI_WORD.join('|')}|${WORD}(\\.${WORD})?)` +
    `(?<modifier>\\(\\d+(,\\d+)?\\))?` +
    `(?<zone> with time zone| without time zone)?` +
    `(?<fields> [a-z ]+?)?` +
    `(?<arrays>(\\[\\d*\\])*)$`,
);

/**
 * Checks a column type such as `varchar(255)`, `timestamp(3) with time zone`, `numeric(10,2)[]`
 * or `public.citext`, and returns it in a normal form (lower case, single spaces). Only
 * lower-case words, digits and the punctuation above pass, so the text is safe to write bare.
 */
export function checkTypeName(type: unknown, path: string): string {
  if (typeof type !== 'string')
    throw new InvalidOptionError(`${path} must be a type name such as "bigint" or "varchar(255)".`, path);
  const normal = type
    .trim()
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/\s*([([,])\s*/g, '$1')
    .replace(/\s*([)\]])/g, '$1');
  const match = PATTERN.exec(normal);
  const groups = match?.groups;
  const base = groups?.base ?? '';
  const zoneAllowed = /^(timestamp|time)$/.test(base);
  const fieldsAllowed = base === 'interval';
  const fields = groups?.fields?.trim();
  if (
    groups === undefined ||
    (groups.zone !== undefined && !zoneAllowed) ||
    (fields !== undefined && !(fieldsAllowed && INTERVAL_FIELDS.test(fields)))
  ) {
    throw new InvalidOptionError(
      `${path} ${JSON.stringify(type)} is not a column type this library accepts. Use a type name with an optional (n) or (n, m) modifier and [] for arrays, e.g. "bigint", "varchar(255)", "timestamp with time zone", "numeric(10, 2)[]".`,
      path,
    );
  }
  return [base, groups.modifier ?? '', groups.zone ?? '', fields ? ` ${fields}` : '', groups.arrays ?? ''].join('');
}
