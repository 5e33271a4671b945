import { InvalidOptionError } from '../../errors.js';
import { deferredFrom, isDeferred, type Deferred } from '../../secrets.js';
import { deferredLiteral, literal, type Fragment } from '../../sql/index.js';

/** One libpq connection keyword and its value, known now or when the migration runs. */
export interface ConninfoPart {
  /** The libpq keyword: host, port, dbname, user, password, sslmode, connect_timeout... */
  readonly key: string;
  /** Its value, or env() / secret() resolved when the migration runs. */
  readonly value: string | Deferred;
  /** The value is a secret: the whole connection string is then redacted and bound, never inlined. */
  readonly secret?: boolean;
}

/** A libpq keyword value in single quotes, `\` and `'` escaped with a backslash. */
export function conninfoValue(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

function checkValue(key: string, value: string): string | undefined {
  if (value === '') return `is empty: give the ${key} of the publisher.`;
  if (value.includes('\u0000')) return 'contains a NUL character.';
  // The subscription's statement holds the connection string between these dollar quotes.
  if (value.includes('$pgsl_sub$')) return 'contains "$pgsl_sub$", which pg-sync-link cannot send.';
  if (key === 'port' && !(/^\d+$/.test(value) && Number(value) >= 1 && Number(value) <= 65535))
    return 'must be a port number from 1 to 65535.';
  return undefined;
}

/**
 * A libpq connection string as one SQL literal. With only known values it is written in full;
 * with deferred ones it is resolved when the migration runs, and when one is a secret the
 * literal is sensitive: printed as a label and sent only bound to a parameter.
 */
export function conninfoLiteral(parts: readonly ConninfoPart[], usedFor: string): Fragment {
  const text = (values: readonly string[]) =>
    parts.map((part, index) => `${part.key}=${conninfoValue(values[index]!)}`).join(' ');
  if (parts.every((part) => typeof part.value === 'string')) {
    const values = parts.map((part) => part.value as string);
    parts.forEach((part, index) => {
      const problem = checkValue(part.key, values[index]!);
      if (problem) throw new InvalidOptionError(`${usedFor}: ${part.key} ${problem}`, `${usedFor}.${part.key}`);
    });
    return literal(text(values));
  }
  const label = `connection ${parts.map((part) => `${part.key}=${isDeferred(part.value) ? part.value.label : part.value}`).join(' ')}`;
  const combined = deferredFrom(label, async (where) => {
    const values: string[] = [];
    for (const part of parts) {
      const value = isDeferred(part.value) ? await part.value.resolve(`${where}, ${part.key}`) : part.value;
      const problem = checkValue(part.key, value);
      // Named by its key only: the value may be a secret.
      if (problem)
        throw new InvalidOptionError(
          `The value of ${isDeferred(part.value) ? part.value.label : part.key} for ${where} ${problem}`,
          `${where}.${part.key}`,
        );
      values.push(value);
    }
    return text(values);
  });
  return deferredLiteral({ deferred: combined, sensitive: parts.some((part) => part.secret), usedFor });
}
