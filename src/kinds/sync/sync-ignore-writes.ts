import { InvalidOptionError } from '../../errors.js';
import { checkObject } from '../../spec/object.js';
import { checkIdentifier } from '../../sql/index.js';
import type { IgnoreWrites } from './sync-trigger-node.js';

/** Checks `ignoreWritesBy`: either { role } or { applicationName }, or undefined. */
export function checkIgnore(value: unknown, path: string): IgnoreWrites | undefined {
  if (value === undefined) return undefined;
  const spec = checkObject(value, `${path}.ignoreWritesBy`, ['role', 'applicationName']);
  if ((spec.role === undefined) === (spec.applicationName === undefined)) {
    throw new InvalidOptionError(
      `${path}.ignoreWritesBy takes either { role } or { applicationName }.`,
      `${path}.ignoreWritesBy`,
    );
  }
  if (spec.role !== undefined) return Object.freeze({ role: checkIdentifier(spec.role, 'sync role') });
  if (
    typeof spec.applicationName !== 'string' ||
    spec.applicationName === '' ||
    spec.applicationName.includes('\u0000')
  ) {
    throw new InvalidOptionError(
      `${path}.ignoreWritesBy.applicationName must be a non-empty string.`,
      `${path}.ignoreWritesBy`,
    );
  }
  return Object.freeze({ applicationName: spec.applicationName });
}
