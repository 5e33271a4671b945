import { InvalidLiteralError } from '../errors.js';

/**
 * Quotes a string as a SQL literal. Quotes are doubled; a value with a backslash uses the
 * E'' form with backslashes doubled, so it means the same whatever standard_conforming_strings is.
 */
export function quoteLiteral(value: string): string {
  if (value.includes('\u0000')) {
    throw new InvalidLiteralError('A value contains a NUL character, which PostgreSQL text cannot hold; remove it.');
  }
  const quoted = `'${value.replaceAll("'", "''")}'`;
  return value.includes('\\') ? `E${quoted.replaceAll('\\', '\\\\')}` : quoted;
}
