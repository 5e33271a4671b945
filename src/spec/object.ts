import { isRecord } from './guards.js';
import { InvalidOptionError } from '../errors.js';
import { closest } from './suggest.js';

/** Checks that `value` is a plain object whose keys are all in `known`; names a typo's likely fix. */
export function checkObject(value: unknown, path: string, known: readonly string[]): Record<string, unknown> {
  if (!isRecord(value)) {
    throw new InvalidOptionError(
      `${path} must be an object, got ${Array.isArray(value) ? 'an array' : String(value)}.`,
      path,
    );
  }
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      const guess = closest(key, known);
      throw new InvalidOptionError(
        `Unknown option "${key}" in ${path}.${guess ? ` Did you mean "${guess}"?` : ''} Known options: ${known.join(', ')}.`,
        `${path}.${key}`,
      );
    }
  }
  return value;
}

export function checkBoolean(value: unknown, path: string): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  throw new InvalidOptionError(`${path} must be true or false, got ${JSON.stringify(value)}.`, path);
}

export function checkArray(value: unknown, path: string): readonly unknown[] {
  if (!Array.isArray(value))
    throw new InvalidOptionError(`${path} must be an array, got ${JSON.stringify(value)}.`, path);
  return value;
}
